"""benchmarks/bench_scale.py --quick runs and prints every figure (never how fast: no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LABELS = (
    "tokaudit workers=1",
    "tokaudit workers=2",
    "libraries alone",
    "limit",
    "naive loop",
    "samples/s",
    "MB/s",
    "peak RSS",
    "report bytes (JSON)",
    "findings",
    "cover 99%",
    "workers 1 and 2 agree",
)


def test_bench_scale_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    script = ROOT / "benchmarks" / "bench_scale.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for corpus in ("high 0.2 MB", "mixed 0.2 MB"):
        assert corpus in proc.stdout
    for label in LABELS:
        assert label in proc.stdout, label
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert {r["corpus"] for r in figures["results"]} == {"high", "mixed"}
    for r in figures["results"]:
        assert r["samples"] > 0 and r["report_bytes"] > 0
        assert r["workers_agree"]
        assert r["naive_differing"] == r["differing"]  # the naive loop and tokaudit count the same samples
        assert r["check_differing"] == r["differing"]  # the baseline's batch calls give transformers' ids
