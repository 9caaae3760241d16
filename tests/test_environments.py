"""What `bump --with` installs in its throwaway environment: the running tokaudit, as a project that
setuptools reads, from a checkout and from a regular install (read offline with `egg_info`; the
real install from PyPI runs in tests/compat/test_bump_cli.py under CI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tokaudit.environments import PACKAGE, last_line, source_tree


def _egg_info(project: Path, out: Path) -> Path:
    """setuptools' own reading of the project: its requirements, scripts and files."""
    out.mkdir()
    subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "egg_info", "--egg-base", str(out)],
        cwd=project,
        check=True,
        capture_output=True,
    )
    return out / "tokaudit.egg-info"


def _modules(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.py")}


def test_from_the_checkout_the_copy_carries_its_pyproject(tmp_path: Path) -> None:
    assert PACKAGE == ROOT / "tokaudit"
    src = source_tree(tmp_path / "src")
    assert (src / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
    assert _modules(src / "tokaudit") == _modules(PACKAGE) and not list(src.rglob("__pycache__"))
    info = _egg_info(src, tmp_path / "info")
    assert "tokaudit = tokaudit.cli:main" in (info / "entry_points.txt").read_text()
    assert "tokaudit/environments.py" in (info / "SOURCES.txt").read_text()


def test_from_a_regular_install_the_pyproject_is_written_from_its_metadata(tmp_path: Path) -> None:
    # tokaudit as site-packages holds it: the package folder alone, no pyproject.toml beside it
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "tokaudit", ignore=shutil.ignore_patterns("__pycache__"))
    src = tmp_path / "src"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from pathlib import Path; import tokaudit.environments as e; e.source_tree(Path({str(src)!r}))",
        ],
        env={**os.environ, "PYTHONPATH": str(site)},
        check=True,
        cwd=tmp_path,
    )
    assert "[project]" in (src / "pyproject.toml").read_text() and not (src / "README.md").exists()
    assert _modules(src / "tokaudit") == _modules(PACKAGE)
    info = _egg_info(src, tmp_path / "info")
    wanted = [r for r in metadata.requires("tokaudit") or [] if not re.search(r"\bextra\s*==", r)]
    assert wanted and (info / "requires.txt").read_text().split("\n\n")[0].split() == wanted
    assert "tokaudit = tokaudit.cli:main" in (info / "entry_points.txt").read_text()
    assert "tokaudit/cli.py" in (info / "SOURCES.txt").read_text()


@pytest.mark.parametrize(
    ("stderr", "line"),
    [
        (
            "Traceback ...\n  File x\nModuleNotFoundError: No module named 'typer'\n\n",
            "ModuleNotFoundError: No module named 'typer'",
        ),
        ("error: configs/x.yaml: training.path: no such file\n", "configs/x.yaml: training.path: no such file"),
        (
            "ERROR: No matching distribution found for transformers==9.9\n",
            "No matching distribution found for transformers==9.9",
        ),
        ("", "(no output)"),
    ],
)
def test_last_line_is_what_went_wrong(stderr: str, line: str) -> None:
    assert last_line(stderr) == line
