"""`tokaudit bump`: the same environment moves nothing, and every way the other one can be wrong is
one `error:` line and exit 2 (the cross-version run is tests/compat/test_bump_cli.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import venv
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import MISTRAL_SP, ROOT, invoke, side, write_config

CONFIG = ROOT / "configs" / "mistral-bump.yaml"
SCHEMA = json.loads((ROOT / "docs" / "json-schema.json").read_text())


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokaudit", "bump", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert done.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv without pip or tokaudit (a second or so to make)."""
    where = tmp_path_factory.mktemp("bare") / "venv"
    venv.create(where, with_pip=False)
    return where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_bump_against_this_same_environment_moves_nothing() -> None:
    done = _cli(str(CONFIG), "--python", sys.executable, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["command"] == "bump" and report["findings"] == []
    summary = report["summary"]
    assert summary["sample_sides_moved"] == 0 and summary["sample_sides_compared"] > 100
    assert summary["versions"] == "no library version changed"
    this, other = summary["environments"].split(" → ")
    assert other == this.replace("other environment", "this environment")
    assert "lock" not in summary  # the lock was temporary
    assert report["header"]["bump"]["other"]["python"] == sys.executable


def test_the_table_names_both_environments() -> None:
    done = _cli(str(CONFIG), "--python", sys.executable)
    assert done.returncode == 0, done.stderr
    assert "tokaudit bump" in done.stdout
    # the table wraps the long cell over rows: read it as one text, without the box-drawing columns
    flat = " ".join(done.stdout.replace("│", " ").split())
    assert "other environment (transformers" in flat and "→ this environment (transformers" in flat


def test_a_missing_interpreter_is_one_line() -> None:
    line = _one_error_line(_cli(str(CONFIG), "--python", "/nonexistent/bin/python"))
    assert "--python /nonexistent/bin/python: no such interpreter" in line


def test_a_file_that_is_not_python_is_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'not python' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    line = _one_error_line(_cli(str(CONFIG), "--python", str(fake)))
    assert "not a Python that can import tokaudit (not python)" in line


def test_an_interpreter_without_tokaudit_names_the_pip_install(bare_python: Path) -> None:
    # run from the checkout: `python -c` there would find ./tokaudit; bump must not be fooled by it
    done = subprocess.run(
        [sys.executable, "-m", "tokaudit", "bump", "configs/mistral-bump.yaml", "--python", str(bare_python)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    line = _one_error_line(done)
    assert "tokaudit is not installed in that environment" in line
    assert f"{bare_python} -m pip install -e {ROOT}" in line


def test_a_failed_snapshot_there_shows_its_last_line(bare_python: Path) -> None:
    # tokaudit imports there (PYTHONPATH, which the other process inherits), its dependencies do not
    line = _one_error_line(_cli(str(CONFIG), "--python", str(bare_python), env={"PYTHONPATH": str(ROOT)}))
    assert f"the snapshot in the other environment ({bare_python}) failed: ModuleNotFoundError: No module" in line


def test_a_snapshot_of_no_samples_is_an_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "records.jsonl").write_text('{"other": "no text field"}\n', encoding="utf-8")
    config = write_config(
        tmp_path,
        {
            "training": side("sentencepiece", MISTRAL_SP),
            "serving": side("sentencepiece", MISTRAL_SP),
            "corpus": [{"path": "records.jsonl", "field": "text"}],
        },
    )
    line = _one_error_line(_cli(str(config), "--python", sys.executable, "--no-builtin"))
    assert "recorded no samples: nothing to compare" in line


@pytest.mark.parametrize("args", [[], ["--python", sys.executable, "--with", "transformers==4.57.6"]])
def test_python_or_with_one_of_the_two(args: list[str]) -> None:
    result = invoke("bump", CONFIG, *args)
    assert result.exit_code == 2
    assert result.output.strip() == "error: bump: give --python PATH or --with SPEC, one of the two"


def test_with_takes_requirements_not_options() -> None:
    line = _one_error_line(_cli(str(CONFIG), "--with=--index-url=http://example.invalid"))
    assert "--with '--index-url=http://example.invalid': give a requirement" in line


def test_with_uses_uv_when_it_is_on_path(tmp_path: Path) -> None:
    # a `uv` that fails at once: bump must pick it over venv + pip, say so, and report its last line
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\necho 'error: no network in this test' >&2\nexit 2\n")
    uv.chmod(uv.stat().st_mode | stat.S_IEXEC)
    done = _cli(
        str(CONFIG), "--with", "transformers==4.57.6", env={"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    )
    assert done.returncode == 2, done.stderr
    said, error = done.stderr.strip().splitlines()
    assert said == "bump: making a throwaway environment with uv: tokaudit 0.1.0 + transformers==4.57.6"
    assert error == "error: --with transformers==4.57.6: uv failed: no network in this test"


def test_the_installer_is_uv_only_when_uv_is_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokaudit.environments import PIP, UV, installer

    monkeypatch.setenv("PATH", str(tmp_path))
    assert installer() == PIP
    (tmp_path / "uv").write_text("#!/bin/sh\n")
    (tmp_path / "uv").chmod(0o755)
    assert installer() == UV


def test_bump_summary_keys_have_labels() -> None:
    from tokaudit.report.summary import LABELS

    assert {"environments", "other_environment"} <= set(LABELS)


def test_bump_help_has_examples() -> None:
    result = invoke("bump", "--help")
    assert result.exit_code == 0
    assert "Usage: tokaudit bump [OPTIONS] CONFIG\n" in result.output
    assert "--python PATH" in result.output and "--with SPEC" in result.output
    examples = result.output.split("Examples:", 1)[1].strip().splitlines()
    assert len(examples) == 3 and all(line.strip().startswith("tokaudit bump ") for line in examples)
