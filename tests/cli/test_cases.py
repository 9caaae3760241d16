"""Data-driven CLI cases: each folder of tests/cases/ holds a config.yaml and an expected.yaml
(`command`, `exit`, and the exact set of finding `codes`, or the `error` line's text for exit 2).

Add a case by adding a folder; nothing here changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import invoke

CASES = sorted(p for p in (Path(__file__).parent.parent / "cases").iterdir() if (p / "expected.yaml").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    out = tmp_path / "report.json"
    result = invoke(expected["command"], case / "config.yaml", "--format", "json", "-o", out)
    assert result.exit_code == expected["exit"], result.output
    if expected["exit"] == 2:
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and expected["error"] in lines[0], result.stderr
        assert "Traceback" not in result.output
        return
    codes = sorted({f["code"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]})
    assert codes == sorted(expected["codes"])


def test_there_are_cases_of_every_exit_code() -> None:
    exits = {yaml.safe_load((c / "expected.yaml").read_text())["exit"] for c in CASES}
    assert exits == {0, 1, 2}
