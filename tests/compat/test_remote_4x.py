"""`python:` on the training side pointing at the transformers 4.57 environment: diff against 5.x in this
process finds exactly what `bump` finds between the two (the 4.57 -> 5.x moves on Mistral 7B).

scripts/test.sh sets TOKAUDIT_OLD_PYTHON to the newest-4.x venv; without it (a plain `pytest`) this is
skipped, under CI it must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compat.test_bump_cli import CONFIG, bump
from tests.compat.test_transformers_bump import OLD_PYTHON, _major

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _diff(config: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "tokaudit", "diff", str(config), "--format", "json", "--examples", "1000"]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV)


def _samples(report: dict[str, Any], code: str | None = None) -> set[str]:
    return {s for f in report["findings"] if code is None or f["code"] == code for s in f["samples"]}


@pytest.mark.skipif(not OLD_PYTHON and not os.environ.get("CI"), reason="needs TOKAUDIT_OLD_PYTHON (scripts/test.sh)")
def test_a_training_side_in_the_4x_environment_differs_where_bump_says_it_moved(tmp_path: Path) -> None:
    if _major(sys.executable) < 5:
        pytest.skip("this interpreter is the old transformers; the comparison is made from the 5.x run")
    assert OLD_PYTHON, "CI runs this through scripts/test.sh, which sets TOKAUDIT_OLD_PYTHON"
    # mistral-bump.yaml's serving side (hf on the tokenizer.model folder), once there and once here
    base = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    folder = str((CONFIG.parent / base["serving"]["path"]).resolve())
    corpus = [str((CONFIG.parent / c).resolve()) for c in base["corpus"]]
    config = tmp_path / "4x-vs-5x.yaml"
    data = {
        "training": {"source": "hf", "path": folder, "python": OLD_PYTHON},
        "serving": {"source": "hf", "path": folder},
        "corpus": corpus,
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")

    done = _diff(config)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    training, serving = report["header"]["sides"]["training"], report["header"]["sides"]["serving"]
    assert training["version"].startswith("4.57.") and training["python"]["path"] == os.path.abspath(OLD_PYTHON)
    assert training["python"]["packages"]["transformers"] == training["version"]
    assert serving["version"].startswith("5.") and "python" not in serving
    # bump's TA502: AutoTokenizer resolves LlamaTokenizerFast under 4.57 and another class under 5.x
    assert training["backend"].startswith("LlamaTokenizerFast") and not serving["backend"].startswith(
        "LlamaTokenizerFast"
    )

    bumped = bump("--python", OLD_PYTHON)
    assert bumped.returncode == 1, bumped.stderr
    moved = _samples(json.loads(bumped.stdout), "TA501")
    assert {"builtin:leading-space", "builtin:space-runs", "builtin:special <s>"} <= moved
    assert _samples(report) == moved
    by_sample = {s: f for f in report["findings"] for s in f["samples"]}
    assert by_sample["builtin:leading-space"]["category"] == "whitespace"


@pytest.mark.skipif(not OLD_PYTHON and not os.environ.get("CI"), reason="needs TOKAUDIT_OLD_PYTHON (scripts/test.sh)")
def test_the_same_side_in_both_environments_agrees_where_nothing_moved(tmp_path: Path) -> None:
    """The SentencePiece side did not move between the two (bump: every move is on the hf side)."""
    if _major(sys.executable) < 5:
        pytest.skip("this interpreter is the old transformers; the comparison is made from the 5.x run")
    assert OLD_PYTHON
    base = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    model = str((CONFIG.parent / base["training"]["path"]).resolve())
    data = {
        "training": {"source": "sentencepiece", "path": model, "add_bos": True, "python": OLD_PYTHON},
        "serving": {"source": "sentencepiece", "path": model, "add_bos": True},
        "corpus": [str((CONFIG.parent / c).resolve()) for c in base["corpus"]],
    }
    config = tmp_path / "sp.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = _diff(config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["samples_compared"] >= 50
