"""The real bump: a lock taken under transformers 4.x, checked under 5.x, shows what moved.

scripts/test.sh builds a second venv with the newest transformers 4.x and points
TOKAUDIT_OLD_PYTHON at it; without it (a plain `pytest`) this test is skipped, under CI it must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

OLD_PYTHON = os.environ.get("TOKAUDIT_OLD_PYTHON")


def _major(python: str) -> int:
    out = subprocess.run(
        [python, "-c", "from importlib.metadata import version; print(version('transformers'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split(".")[0])


@pytest.mark.skipif(not OLD_PYTHON and not os.environ.get("CI"), reason="needs TOKAUDIT_OLD_PYTHON (scripts/test.sh)")
def test_snapshot_under_4x_checked_under_5x_reports_moved_samples(tmp_path: Path) -> None:
    if _major(sys.executable) < 5:
        pytest.skip("this interpreter is the old transformers; the bump is checked from the 5.x run")
    assert OLD_PYTHON, "CI runs this through scripts/test.sh, which sets TOKAUDIT_OLD_PYTHON"
    assert _major(OLD_PYTHON) == 4
    config = ROOT / "configs" / "mistral-bump.yaml"
    lock = tmp_path / "tokaudit.lock.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([OLD_PYTHON, "-m", "tokaudit", "snapshot", str(config), "-o", str(lock)], check=True, env=env)
    done = subprocess.run(
        [sys.executable, "-m", "tokaudit", "diff", str(config), "--against", str(lock), "--format", "json"]
        + ["--examples", "1000"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    # one TA501 per side and shape of the move; every moved sample is among its finding's examples
    moved = {where: f for f in report["findings"] if f["code"] == "TA501" for where in f["samples"]}
    assert sum(f["count"] for f in report["findings"] if f["code"] == "TA501") == len(moved)
    # Leading space, repeated spaces and BOS next to a special token all move between 4.57 and 5.x.
    assert moved["builtin:leading-space"]["category"] == "whitespace"
    assert moved["builtin:space-runs"]["detail"]["side"] == "serving"
    assert "builtin:special <s>" in moved
    assert all(f["detail"]["side"] == "serving" for f in moved.values())  # sentencepiece did not move
    message = moved["builtin:leading-space"]["message"]
    assert "transformers 4." in message and "→ 5." in message
    backend = [f for f in report["findings"] if f["code"] == "TA502"]
    assert backend and "LlamaTokenizerFast" in backend[0]["message"]
    assert backend[0]["where"] in ("training", "serving") and backend[0]["sample"] is None
