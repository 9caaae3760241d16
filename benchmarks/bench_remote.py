"""What does running a side in another interpreter (`python:`) cost `tokaudit diff`?

bench_scale's sides (Mistral 7B's SentencePiece model at training, its Hugging Face fast tokenizer at
serving) on the mixed corpus (common.make_corpus), built-in corpus off, timed as whole processes (imports,
loading and the worker's start included), median of `--runs`:

* in-process: `tokaudit diff CONFIG --no-builtin --workers N --format json -o REPORT`;
* python: side: the same with `python: <interpreter>` on the serving side, so a worker in that
  interpreter encodes and answers for it (this interpreter by default: only the transport differs).

Prints each figure, the ratio python: / in-process (the target: within 1.5x at 20 MB) and whether both
runs found the same; `--json FILE` writes them too. Absolute times are noisy on a shared machine; the
ratio is the figure to compare.

    python benchmarks/bench_remote.py                      # 20 MB, workers 1 and 2, 3 runs
    python benchmarks/bench_remote.py --mb 2 --runs 1 --workers 1
    python benchmarks/bench_remote.py --quick              # ~200 KB, 1 run: does it run at all
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

from common import DATA, FIX, Measured, make_corpus, measure, write_config

SIDES: dict[str, dict[str, Any]] = {
    "training": {"source": "sentencepiece", "path": str(FIX / "mistral-7b/tokenizer.model"), "add_bos": True},
    "serving": {"source": "hf", "path": str(FIX / "mistral-7b-hf")},
}
TARGET = 1.5  # python: side over in-process, at 20 MB
MB = 1_000_000


def config(name: str, corpus: Path, python: str | None) -> Path:
    serving = {**SIDES["serving"], **({"python": python} if python else {})}
    return write_config(name, {"training": SIDES["training"], "serving": serving, "corpus": [str(corpus)]})


def run(cfg: Path, workers: int, report: Path, runs: int) -> tuple[Measured, list[Measured]]:
    cmd = [sys.executable, "-m", "tokaudit", "diff", str(cfg), "--no-builtin", "-q", "--workers", str(workers)]
    cmd += ["--format", "json", "-o", str(report)]
    times = [measure(cmd, (0, 1)) for _ in range(runs)]
    return sorted(times, key=lambda m: m.wall)[len(times) // 2], times


def findings(report: Path) -> list[Any]:
    return list(json.loads(report.read_text(encoding="utf-8"))["findings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    parser.add_argument("--python", default=sys.executable, help="the serving side's interpreter (default: this one)")
    parser.add_argument("--quick", action="store_true", help="a ~200 KB corpus, 1 run, workers 1: only that it runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    mb = 0.2 if args.quick else args.mb
    runs = 1 if args.quick else args.runs
    counts = [1] if args.quick else [int(w) for w in args.workers.split(",") if w.strip()]
    corpus = make_corpus(mb)
    size = corpus.stat().st_size
    print(f"corpus: {corpus} ({size / MB:.1f} MB); python: side runs in {args.python}")
    print(f"this interpreter: {sys.executable} (Python {platform.python_version()})")
    here_cfg, there_cfg = config("remote-here", corpus, None), config("remote-there", corpus, args.python)
    results = []
    for workers in counts:
        here, _ = run(here_cfg, workers, DATA / "remote-here.json", runs)
        there, _ = run(there_cfg, workers, DATA / "remote-there.json", runs)
        same = findings(DATA / "remote-here.json") == findings(DATA / "remote-there.json")
        ratio = there.wall / here.wall
        verdict = "PASS" if ratio <= TARGET else "over"
        print(f"workers={workers}")
        print(f"  in-process      {here.wall:7.1f} s wall  {here.cpu:7.1f} s CPU  {size / MB / here.wall:6.2f} MB/s")
        print(f"  python: side    {there.wall:7.1f} s wall  {there.cpu:7.1f} s CPU  {size / MB / there.wall:6.2f} MB/s")
        print(f"  ratio           {ratio:7.2f}x  (target <= {TARGET}x at 20 MB: {verdict})")
        print(f"  same findings   {'yes' if same else 'NO'}")
        results.append(
            {
                "workers": workers,
                "mb": size / MB,
                "here_wall": here.wall,
                "here_cpu": here.cpu,
                "there_wall": there.wall,
                "there_cpu": there.cpu,
                "ratio": ratio,
                "same_findings": same,
            }
        )
    if args.json:
        args.json.write_text(json.dumps({"python": args.python, "results": results}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
