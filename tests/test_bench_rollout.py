"""benchmarks/bench_rollout.py --quick runs rollout-check at two sizes and prints every figure (never how
fast: no timing asserted; memory under 1 GB is)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LABELS = ("tokaudit rollout-check", "libraries alone", "ratio", "trajectories/s", "findings by cause", "peak RSS")


def test_bench_rollout_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "rollout.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_rollout.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for label in LABELS:
        assert label in proc.stdout, label
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert [r["trajectories"] for r in figures["results"]] == [1000, 4000]
    for r in figures["results"]:
        assert r["checked"] == r["trajectories"]
        # one in ten distinct trajectories has a non-canonical second completion (and so a re-render merge)
        assert r["by_cause"]["round trip: non-canonical split"] == r["trajectories"] // 10
        assert r["tokaudit"]["rss"] < 1 << 30
