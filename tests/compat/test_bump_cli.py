"""`tokaudit bump --python`: the real 4.57 -> 5.x change, found without snapshotting by hand.

scripts/test.sh points TOKAUDIT_OLD_PYTHON at the newest-4.x venv; without it (a plain `pytest`) the
cross-version test is skipped, under CI it must run. `--with` makes its environment from PyPI, so
its real run is kept to CI (about a minute with pip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.compat.test_transformers_bump import OLD_PYTHON, _major
from tests.conftest import ROOT

CONFIG = ROOT / "configs" / "mistral-bump.yaml"
SCHEMA = json.loads((ROOT / "docs" / "json-schema.json").read_text())
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def bump(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "tokaudit", "bump", str(CONFIG), "--format", "json", "--examples", "1000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV)


def _moved(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # one TA501 per side and shape of the move; every moved sample is among its finding's examples
    moved = {where: f for f in report["findings"] if f["code"] == "TA501" for where in f["samples"]}
    assert sum(f["count"] for f in report["findings"] if f["code"] == "TA501") == len(moved)
    return moved


def _assert_the_real_4_to_5_moves(report: dict[str, Any]) -> None:
    moved = _moved(report)
    assert moved["builtin:leading-space"]["category"] == "whitespace"
    assert moved["builtin:space-runs"]["detail"]["side"] == "serving"
    assert "builtin:special <s>" in moved
    assert all(f["detail"]["side"] == "serving" for f in moved.values())  # sentencepiece did not move
    backend = [f for f in report["findings"] if f["code"] == "TA502"]
    assert backend and "LlamaTokenizerFast" in backend[0]["message"]


def _this_is_5x() -> None:
    if _major(sys.executable) < 5:
        pytest.skip("this interpreter is the old transformers; the bump is checked from the 5.x run")


@pytest.mark.skipif(not OLD_PYTHON and not os.environ.get("CI"), reason="needs TOKAUDIT_OLD_PYTHON (scripts/test.sh)")
def test_bump_from_the_4x_venv_reports_the_moved_samples_and_both_version_sets() -> None:
    _this_is_5x()
    assert OLD_PYTHON, "CI runs this through scripts/test.sh, which sets TOKAUDIT_OLD_PYTHON"
    done = bump("--python", OLD_PYTHON)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["command"] == "bump"
    _assert_the_real_4_to_5_moves(report)
    assert "transformers 4." in _moved(report)["builtin:leading-space"]["message"]
    summary = report["summary"]
    assert summary["environments"].startswith("other environment (transformers 4.57.")
    assert "→ this environment (transformers 5." in summary["environments"]
    assert "tokenizers " in summary["environments"].split("→")[0]
    assert summary["other_environment"].startswith(f"{os.path.abspath(OLD_PYTHON)} (Python ")
    assert summary["sample_sides_moved"] == sum(f["count"] for f in report["findings"] if f["code"] == "TA501")
    other, this = report["header"]["bump"]["other"], report["header"]["bump"]["this"]
    assert other["packages"]["transformers"].startswith("4.57.") and this["packages"]["transformers"].startswith("5.")
    assert other["made_with"] is None and this["python"] == sys.executable
    # the other environment's stderr stays off the terminal: nothing but our own lines
    assert "Traceback" not in done.stderr and "wrote " not in done.stderr


@pytest.mark.skipif(not os.environ.get("CI"), reason="--with installs from PyPI (about a minute): CI only")
def test_bump_with_a_throwaway_4x_environment(tmp_path: Path) -> None:
    _this_is_5x()
    from tokaudit.environments import installer

    done = bump("--with", "transformers==4.57.6")
    assert done.returncode == 1, done.stderr
    tool = installer()
    assert f"bump: making a throwaway environment with {tool}: tokaudit " in done.stderr
    report = json.loads(done.stdout)
    _assert_the_real_4_to_5_moves(report)
    assert report["summary"]["other_environment"].startswith(f"throwaway, made with {tool}: transformers==4.57.6")
    other = report["header"]["bump"]["other"]
    assert other["made_with"] == tool and other["packages"]["transformers"] == "4.57.6"
    assert not Path(other["python"]).parent.parent.exists()  # the environment is deleted afterwards
