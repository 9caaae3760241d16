"""`tokaudit bump`: what moves between another environment and this one.

The snapshot runs there (`<python> -m tokaudit snapshot`, its output kept off the terminal unless
--debug), the `--against` diff runs here, and the report names both version sets. The runner hands
in the diff as a function: bump sits under the runner and never imports it (imports point one way).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tokaudit.config import Settings
from tokaudit.environments import Environment, interpreter, last_line, throwaway
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Report
from tokaudit.options import Options
from tokaudit.snapshot import PACKAGES, package_versions

#: diff summary keys that name the temporary lock, which is gone when the report is read
_TEMPORARY = ("lock", "lock_created")


@dataclasses.dataclass(frozen=True)
class Other:
    """Where the snapshot is taken: an interpreter (`--python`), or specs for a throwaway one (`--with`)."""

    python: Path | None = None
    specs: tuple[str, ...] = ()


def run(
    settings: Settings,
    other: Other,
    options: Options,
    diff: Callable[[Options], Report],
    say: Callable[[str], None] = lambda _: None,
) -> Report:
    """Snapshot in the other environment, diff here against that lock, label the report with both sides."""
    if (other.python is None) == (not other.specs):
        raise InputError(
            "bump: give --python PATH (another environment's interpreter) or --with SPEC "
            "(a throwaway environment), one of the two"
        )
    config = settings.config_path
    if config is None or not Path(config).is_file():
        raise ConfigError(f"{config}: bump runs the snapshot in another process, which reads the config from a file")
    chosen: AbstractContextManager[Environment] = (
        contextlib.nullcontext(interpreter(other.python))
        if other.python is not None
        else throwaway(other.specs, say, options.debug)
    )
    with chosen as env, tempfile.TemporaryDirectory(prefix="tokaudit-bump-") as tmp:
        lock = Path(tmp) / "other.lock.json"
        _snapshot(env, Path(config).resolve(), lock, options, Path(tmp))
        then = _recorded(lock, env)
        report = diff(dataclasses.replace(options, against=lock))
    return label(report, env, then)


def _snapshot(env: Environment, config: Path, lock: Path, options: Options, cwd: Path) -> None:
    cmd = [str(env.python), "-m", "tokaudit", "snapshot", str(config), "-o", str(lock)]
    cmd += ["--no-builtin"] if options.builtin is False else []
    cmd += ["--debug"] if options.debug else []
    # An empty working directory: `-m` puts it first on sys.path, and from a checkout it would
    # shadow the other environment's tokaudit with this one. The config's paths are its own.
    try:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=None if options.debug else subprocess.PIPE,
            text=True,
        )
    except OSError as exc:
        raise InputError(f"bump: cannot run {env.python} ({exc})") from None
    if done.returncode != 0:
        why = "its output is above" if options.debug else last_line(done.stderr or "")
        raise InputError(f"bump: the snapshot in the other environment ({env.python}) failed: {why}")


def _recorded(lock: Path, env: Environment) -> dict[str, Any]:
    """The other environment's versions, as its lock records them; a lock of nothing is an error."""
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"bump: the other environment ({env.python}) wrote no readable lock ({exc})") from None
    if not data.get("samples"):
        raise InputError(
            f"bump: the snapshot in the other environment ({env.python}) recorded no samples: nothing to compare"
        )
    return dict(data.get("environment") or {})


def _ordered(packages: dict[str, str]) -> dict[str, str]:
    """In snapshot.PACKAGES order, transformers first (the lock stores them sorted by name)."""
    order = [p for p in PACKAGES if p in packages] + sorted(set(packages) - set(PACKAGES))
    return {p: packages[p] for p in order}


def versions(packages: dict[str, str]) -> str:
    """`transformers 4.57.6, tokenizers 0.22.1, ...`"""
    return ", ".join(f"{p} {v}" for p, v in _ordered(packages).items()) or "no tokenizer library"


def label(report: Report, env: Environment, then: dict[str, Any]) -> Report:
    """The diff's report as bump's: both version sets in the summary (every format shows it) and header."""
    then_packages = _ordered(dict(then.get("packages") or {}))
    now_packages = package_versions()
    summary = {
        "environments": f"other environment ({versions(then_packages)}) → this environment ({versions(now_packages)})",
        "other_environment": env.describe(),
        **{k: v for k, v in report.summary.items() if k not in _TEMPORARY},
    }
    header = {
        **report.header,
        "bump": {
            "other": {
                "python": str(env.python),
                "python_version": then.get("python", env.python_version),
                "tokaudit": env.tokaudit,
                "made_with": env.made_with,
                "specs": list(env.specs),
                "packages": then_packages,
            },
            "this": {
                "python": sys.executable,
                "python_version": platform.python_version(),
                "packages": now_packages,
            },
        },
    }
    return dataclasses.replace(report, command="bump", summary=summary, header=header)
