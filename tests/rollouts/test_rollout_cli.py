"""rollout-check through the CLI's shared machinery: `check` runs it, `--sample`, baselines, --help."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, invoke

CONFIG = ROOT / "configs" / "rollouts-qwen3.yaml"


def test_check_runs_rollout_check_when_the_config_has_rollouts(tmp_path: Path) -> None:
    result = invoke("check", str(CONFIG), "--format", "json", "--no-builtin")
    assert result.exit_code == 1, result.output[-2000:]
    report = json.loads(result.stdout)
    assert "rollout-check" in report["summary"]["checks"]
    codes = {f["code"] for f in report["findings"]}
    assert {"TA701", "TA711", "TA714", "TA716"} <= codes
    assert "TA310" in codes  # template-check: Qwen3's template is not prefix-preserving


def test_sample_and_baseline(tmp_path: Path) -> None:
    result = invoke("rollout-check", str(CONFIG), "--format", "json", "--sample", "2", "--seed", "3")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["summary"]["trajectories"] == 2
    baseline = tmp_path / "baseline.json"
    assert invoke("rollout-check", str(CONFIG), "--write-baseline", str(baseline)).exit_code == 0
    assert invoke("rollout-check", str(CONFIG), "--baseline", str(baseline)).exit_code == 0


def test_help_names_the_command() -> None:
    result = invoke("rollout-check", "--help")
    assert result.exit_code == 0 and "rollout dump" in result.output
    assert "rollout-check" in invoke("--help").output


def test_config_without_rollouts_is_exit_2(tmp_path: Path) -> None:
    data = CONFIG.read_text(encoding="utf-8").split("rollouts:")[0].replace("../", str(ROOT) + "/")
    config = tmp_path / "no-rollouts.yaml"
    config.write_text(data, encoding="utf-8")
    result = invoke("rollout-check", str(config))
    assert result.exit_code == 2 and "rollouts: rollout-check needs `rollouts:`" in result.stderr
