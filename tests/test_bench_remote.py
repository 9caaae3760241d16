"""benchmarks/bench_remote.py --quick runs and prints every figure (never how fast: no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LABELS = ("in-process", "python: side", "MB/s", "ratio", "target <= 1.5x", "same findings")


def test_bench_remote_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "remote.json"
    script = ROOT / "benchmarks" / "bench_remote.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for label in LABELS:
        assert label in proc.stdout, label
    (result,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert result["workers"] == 1 and result["ratio"] > 0
    assert result["same_findings"], "the python: side found something else than the same side in this process"
