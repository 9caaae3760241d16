"""The other environment `tokaudit bump` takes its snapshot in: an interpreter the user names
(`--python`), or a throwaway one made for the run (`--with SPEC`): uv when it is on PATH, else
the standard library's venv and pip. Either way tokaudit must import there; a throwaway
environment gets the running tokaudit installed into it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tokaudit.errors import InputError
from tokaudit.version import __version__

#: the running tokaudit's package folder (a checkout's `tokaudit/`, or site-packages/tokaudit)
PACKAGE = Path(__file__).resolve().parent
UV = "uv"
PIP = "venv + pip"
# Cheap on purpose (tokaudit.version imports nothing): it only proves tokaudit imports there.
_PROBE = (
    "import json, platform, tokaudit.version as v; "
    "print(json.dumps({'tokaudit': v.__version__, 'python': platform.python_version()}))"
)


@dataclass(frozen=True)
class Environment:
    """An interpreter that has tokaudit, and how it came to be."""

    python: Path
    tokaudit: str
    python_version: str
    #: UV or PIP for a throwaway environment; None for one the user named with --python
    made_with: str | None = None
    specs: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line: which interpreter, or what was installed where, and with which tool."""
        what = f"Python {self.python_version}, tokaudit {self.tokaudit}"
        if self.made_with is None:
            return f"{self.python} ({what})"
        return f"throwaway, made with {self.made_with}: {' '.join(self.specs)} ({what}; removed afterwards)"


def last_line(text: str) -> str:
    """The line that says what went wrong: a child's last non-empty stderr line, without its own `error:`."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else "(no output)"
    line = line.removeprefix("error: ").removeprefix("ERROR: ")
    return line if len(line) <= 300 else line[:299] + "…"


def install_hint() -> str:
    """What to pip install in another environment so it has this tokaudit."""
    root = PACKAGE.parent
    return f"-e {root}" if _is_project(root / "pyproject.toml") else f"tokaudit=={__version__}"


def interpreter(python: Path, *, flag: str = "--python") -> Environment:
    """The named interpreter, checked: it runs, and tokaudit imports there. Anything else is one line."""
    found = shutil.which(str(python))
    if found is None:
        raise InputError(
            f"{flag} {python}: no such interpreter (give another environment's python, e.g. .venv-old/bin/python)"
        )
    # absolute, not resolved: a venv's python is a symlink to the base interpreter, which has no venv
    found = os.path.abspath(found)
    try:
        # in an empty folder: `python -c` puts the working directory first on sys.path, and from a
        # checkout that would find this tokaudit instead of the other environment's
        with tempfile.TemporaryDirectory(prefix="tokaudit-probe-") as empty:
            done = subprocess.run([found, "-c", _PROBE], capture_output=True, text=True, timeout=300, cwd=empty)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"{flag} {python}: cannot run it as Python ({exc})") from None
    if "No module named 'tokaudit" in done.stderr:
        raise InputError(
            f"{flag} {python}: tokaudit is not installed in that environment "
            f"(install it there: {python} -m pip install {install_hint()})"
        )
    try:
        if done.returncode != 0:
            raise ValueError(last_line(done.stderr))
        found_out = json.loads(done.stdout.strip().splitlines()[-1])
        return Environment(Path(found), str(found_out["tokaudit"]), str(found_out["python"]))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputError(f"{flag} {python}: not a Python that can import tokaudit ({exc})") from None


def installer() -> str:
    """uv when it is on PATH (it installs in seconds what pip takes a minute for), else venv + pip."""
    return UV if shutil.which("uv") else PIP


def check_specs(specs: tuple[str, ...]) -> None:
    """Requirements only: an option would reach pip or uv as one of their own flags."""
    for spec in specs:
        if not spec.strip() or spec.lstrip().startswith("-"):
            raise InputError(
                f"--with {spec!r}: give a requirement such as 'transformers==4.57.6' (options are not passed on)"
            )


@contextmanager
def throwaway(specs: tuple[str, ...], say: Callable[[str], None], debug: bool = False) -> Iterator[Environment]:
    """A fresh environment with the running tokaudit and `specs` installed; deleted on the way out."""
    check_specs(specs)
    tool = installer()
    say(f"bump: making a throwaway environment with {tool}: tokaudit {__version__} + {' '.join(specs)}")
    with tempfile.TemporaryDirectory(prefix="tokaudit-bump-") as tmp:
        src = source_tree(Path(tmp) / "src")
        venv = Path(tmp) / "venv"
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if tool == UV:
            uv = shutil.which("uv") or "uv"
            steps = [
                [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                [uv, "pip", "install", "--quiet", "--python", str(python), str(src), *specs],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src), *specs],
            ]
        for step in steps:
            _call(step, f"--with {' '.join(specs)}: {tool}", debug)
        env = interpreter(python, flag="--with")
        yield Environment(env.python, env.tokaudit, env.python_version, tool, specs)


def _call(cmd: list[str], what: str, debug: bool) -> None:
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None if debug else subprocess.PIPE, text=True)
    except OSError as exc:
        raise InputError(f"{what}: cannot run {cmd[0]} ({exc})") from None
    if done.returncode != 0:
        raise InputError(f"{what} failed: {last_line((done.stderr or '') + (done.stdout or ''))}")


def source_tree(dst: Path) -> Path:
    """A copy of the running tokaudit as a project pip or uv installs by path.

    From a checkout (an editable install) it carries the checkout's pyproject.toml; from a regular
    install, a pyproject.toml written from the installed metadata. A copy, so that building never
    writes into the user's tree (setuptools leaves build/ and *.egg-info behind).
    """
    dst.mkdir(parents=True)
    shutil.copytree(PACKAGE, dst / "tokaudit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    root = PACKAGE.parent
    if _is_project(root / "pyproject.toml"):
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, dst / name)
    else:
        (dst / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    return dst


def _is_project(pyproject: Path) -> bool:
    try:
        return re.search(r'^name\s*=\s*"tokaudit"', pyproject.read_text(encoding="utf-8"), re.M) is not None
    except OSError:
        return False


def _pyproject() -> str:
    """The project file of an installed tokaudit: its name, version, dependencies (no extras) and script."""
    try:
        requires = metadata.requires("tokaudit") or []
    except metadata.PackageNotFoundError:
        raise InputError(
            f"--with: tokaudit runs from {PACKAGE}, which is neither a checkout nor an installed package: "
            "nothing to install in the throwaway environment"
        ) from None
    deps = [r for r in requires if not re.search(r"\bextra\s*==", r)]
    return "\n".join(
        [
            "[build-system]",
            'requires = ["setuptools>=68"]',
            'build-backend = "setuptools.build_meta"',
            "",
            "[project]",
            'name = "tokaudit"',
            f"version = {json.dumps(__version__)}",
            f"dependencies = [{', '.join(json.dumps(d) for d in deps)}]",
            "",
            "[project.scripts]",
            'tokaudit = "tokaudit.cli:main"',
            "",
            "[tool.setuptools.packages.find]",
            'include = ["tokaudit*"]',
            "",
            "[tool.setuptools.package-data]",
            'tokaudit = ["py.typed"]',
            "",
        ]
    )
