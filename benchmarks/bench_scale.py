"""What does `tokaudit diff` cost at dataset scale, and does its memory stay flat?

Two corpora, one sample per line, built deterministically under benchmarks/.data/ (and reused):

* high: non-empty lines of the .py files of the installed transformers package (sorted paths, the
  sequence repeated as needed), cut to exactly the size asked: a corpus where many samples differ;
* mixed: bench_diff's mixed corpus (prose, numbers, scripts, emoji; common.make_corpus).

Sides: Mistral 7B's SentencePiece model at training (add_bos: true) against its Hugging Face fast
tokenizer at serving, built-in corpus off. Every figure times a whole process, imports and loading
included, and takes the median of `--runs`:

* tokaudit: `tokaudit diff CONFIG --no-builtin -q --workers N --format json -o REPORT`, N = 1, 2;
* libraries alone: one process loads sentencepiece and transformers' AutoTokenizer and
  batch-encodes the same lines in batches of 4,096, as fast as each library allows with the
  config's settings (`sp.encode(batch)` with BOS; the fast tokenizer's own batch call,
  `tok.backend_tokenizer.encode_batch(batch)`, the Rust call inside `tok(batch)`, ids as lists);
  its CPU seconds over the cores give the "limit" no number of workers can beat;
* naive loop: `for s in lines: sp.encode(s) != tok(s).input_ids` in one process.

Prints the figures and the targets (PASS / over) per corpus and size; `--json FILE` writes them too.
Absolute times are noisy on a shared machine; the ratios are the figures to compare.

    python benchmarks/bench_scale.py                        # 20 and 200 MB, both corpora, 3 runs
    python benchmarks/bench_scale.py --sizes 20 200 --corpus high --runs 3 --json scale.json
    python benchmarks/bench_scale.py --quick                # ~200 KB, 1 run: does it run at all

--quick also checks, untimed, that the batch calls give the ids `tok(batch)["input_ids"]` gives.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from common import DATA, FIX, Measured, make_corpus, measure, write_config

SIDES: dict[str, dict[str, Any]] = {
    "training": {"source": "sentencepiece", "path": str(FIX / "mistral-7b/tokenizer.model"), "add_bos": True},
    "serving": {"source": "hf", "path": str(FIX / "mistral-7b-hf")},
}
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
MB = 1_000_000
BATCH = 4096  # lines per batch call of the libraries alone
MIB = 1 << 20

TARGET_W1 = 1.3  # tokaudit at workers=1 over the libraries alone
TARGET_W2 = 0.85  # at workers=2
TARGET_RSS_GROWTH = 0.15  # peak RSS at the largest size over the smallest
TARGET_RSS_MAX = 1 << 30
TARGET_REPORT = 2 * MB  # JSON report of the high-divergence corpus
TARGET_COVER = 10  # findings that cover 99% of the differing samples
TARGET_FINDINGS = 100  # findings in all (fewer than)

#: Read the corpus as tokaudit's text reader does: split at \n only, one trailing \r dropped, empty
#: lines skipped. argv: corpus, sentencepiece model, HF folder, mode:
#: - "batch": the fastest honest use of both libraries, with the config's settings (BOS added by
#:   sentencepiece; the HF tokenizer as AutoTokenizer loads it, its special tokens added and parsed):
#:   `sp.encode(batch)` and the fast tokenizer's own batch call `tok.backend_tokenizer.encode_batch(batch)`
#:   (the Rust call `tok(batch)` makes, without transformers' per-sample conversion), ids as lists;
#: - "check": the same, and assert those ids equal `tok(batch)["input_ids"]` (not timed; --quick runs it);
#: - "naive": `sp.encode(s) != tok(s).input_ids` per line.
LIBRARIES = r"""
import json, os, sys
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
path, model, folder, mode = sys.argv[1:5]
import sentencepiece as spm
from transformers import AutoTokenizer
sp = spm.SentencePieceProcessor(model_file=model, add_bos=True)
tok = AutoTokenizer.from_pretrained(folder)
backend = tok.backend_tokenizer

def batches(n=BATCH):
    pending, batch = b"", []
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 24)
            parts = (pending + block).split(b"\n")
            pending = parts.pop() if block else b""
            for raw in parts:
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                if raw:
                    batch.append(raw.decode("utf-8"))
                    if len(batch) == n:
                        yield batch
                        batch = []
            if not block:
                break
    if batch:
        yield batch

samples = differing = 0
for batch in batches():
    samples += len(batch)
    if mode == "naive":
        for s in batch:
            differing += sp.encode(s) != tok(s).input_ids
        continue
    train = sp.encode(batch)
    serve = [e.ids for e in backend.encode_batch(batch, add_special_tokens=True)]
    if mode == "check":
        assert serve == tok(batch)["input_ids"], "the backend's batch call differs from tok(batch)"
        differing += sum(a != b for a, b in zip(train, serve))
print(json.dumps({"samples": samples, "differing": differing if mode != "batch" else None}))
""".replace("BATCH", str(BATCH))


# -- corpora ------------------------------------------------------------------------------------------
def _python_lines() -> Iterator[bytes]:
    """Every non-blank line of transformers' .py files, in sorted path order (files that are not
    UTF-8 left out), without its line end."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("transformers is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        for line in text.split("\n"):
            line = line.rstrip("\r")
            if line.strip():
                yield line.encode("utf-8")


def make_high(mb: float) -> Path:
    """The high-divergence corpus of exactly `mb` MB: Python source lines, repeated as needed; the
    last line is cut (at a character boundary, padded with spaces) to land on the size."""
    DATA.mkdir(exist_ok=True)
    target = int(mb * MB)
    out = DATA / f"high-{mb:g}mb.txt"
    if out.exists() and out.stat().st_size == target:
        return out
    tmp = out.with_name(out.name + ".tmp")
    written = 0
    with tmp.open("wb") as fh:
        while written < target:
            for line in _python_lines():
                left = target - written
                if len(line) + 1 <= left:
                    fh.write(line + b"\n")
                    written += len(line) + 1
                    continue
                if left == 1:
                    last = b"#"  # no room for a line end: a final line without one
                else:
                    cut = line[: left - 1].decode("utf-8", errors="ignore").encode("utf-8")
                    last = cut.ljust(left - 1) + b"\n"
                fh.write(last)
                written = target
                break
    tmp.replace(out)
    return out


CORPORA: dict[str, Callable[[float], Path]] = {"high": make_high, "mixed": make_corpus}


# -- one corpus at one size -----------------------------------------------------------------------------
def _median(runs: list[Measured]) -> dict[str, Any]:
    return {
        "wall": statistics.median(m.wall for m in runs),
        "cpu": statistics.median(m.cpu for m in runs),
        "rss": statistics.median(m.rss for m in runs),
        "walls": [round(m.wall, 3) for m in runs],
    }


def _covering(counts: list[int], share: float) -> int:
    """How many of the largest counts it takes to cover `share` of their sum."""
    total, need, covered = sum(counts), share * sum(counts), 0
    if total == 0:
        return 0
    for n, count in enumerate(sorted(counts, reverse=True), start=1):
        covered += count
        if covered >= need:
            return n
    return len(counts)


def run_one(corpus: str, mb: float, runs: int, check: bool = False) -> dict[str, Any]:
    path = CORPORA[corpus](mb)
    name = f"scale-{corpus}-{mb:g}mb"
    config = write_config(name, {**SIDES, "corpus": [str(path)], "builtin_corpus": False})
    reports = {w: DATA / f"{name}-w{w}.json" for w in (1, 2)}
    tool = {
        w: [sys.executable, "-m", "tokaudit", "diff", str(config), "--no-builtin", "-q", "--workers", str(w)]
        + ["--format", "json", "-o", str(reports[w])]
        for w in (1, 2)
    }
    libs = [sys.executable, "-c", LIBRARIES, str(path), SIDES["training"]["path"], SIDES["serving"]["path"]]
    cmds = {"w1": (tool[1], (0, 1)), "w2": (tool[2], (0, 1)), "batch": ([*libs, "batch"], (0,))}
    cmds["naive"] = ([*libs, "naive"], (0,))
    got: dict[str, list[Measured]] = {k: [] for k in cmds}
    load = [os.getloadavg()[0]]
    for _ in range(runs):  # interleaved, so a slow spell on the machine hits every command alike
        for key, (cmd, ok) in cmds.items():
            print(f"  {corpus} {mb:g} MB: {key} ...", file=sys.stderr, flush=True)
            got[key].append(measure(cmd, ok))
    load.append(os.getloadavg()[0])
    # the baseline's batch calls give the ids transformers' own call gives (untimed)
    checked = json.loads(measure([*libs, "check"], (0,)).stdout)["differing"] if check else None
    report = json.loads(reports[1].read_text(encoding="utf-8"))
    other = json.loads(reports[2].read_text(encoding="utf-8"))
    summary = report["summary"]
    counts = [int(f.get("count") or 1) for f in report["findings"]]
    naive_out = json.loads(got["naive"][-1].stdout)
    med = {k: _median(v) for k, v in got.items()}
    size = path.stat().st_size
    return {
        "corpus": corpus,
        "size_mb": mb,
        "path": str(path),
        "bytes": size,
        "samples": summary["samples_compared"],
        "differing": summary["samples_differing"],
        "naive_differing": naive_out["differing"],
        "check_differing": checked,
        "tokaudit_w1": med["w1"],
        "tokaudit_w2": med["w2"],
        "libraries": med["batch"],
        "naive": med["naive"],
        "ratio_w1": med["w1"]["wall"] / med["batch"]["wall"],
        "ratio_w2": med["w2"]["wall"] / med["batch"]["wall"],
        "limit": med["batch"]["cpu"] / CORES / med["batch"]["wall"],
        "naive_ratio_w1": med["w1"]["wall"] / med["naive"]["wall"],
        "naive_ratio_w2": med["w2"]["wall"] / med["naive"]["wall"],
        "report_bytes": reports[1].stat().st_size,
        "findings": len(counts),
        "findings_99": _covering(counts, 0.99),
        "workers_agree": report["findings"] == other["findings"] and report["summary"] == other["summary"],
        "load": load,
    }


# -- printing -----------------------------------------------------------------------------------------
def _mark(ok: bool) -> str:
    return "PASS" if ok else "over"


def _targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every target's verdict, per row and per corpus (memory: the largest size against the smallest)."""
    for r in rows:
        t = r["targets"] = {"w1": r["ratio_w1"] <= TARGET_W1, "w2": r["ratio_w2"] <= TARGET_W2}
        if r["corpus"] == "high":
            t["report"] = r["report_bytes"] < TARGET_REPORT
            t["cover"] = r["findings_99"] <= TARGET_COVER
            t["findings"] = r["findings"] < TARGET_FINDINGS
    memory: dict[str, Any] = {}
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        mine = sorted((r for r in rows if r["corpus"] == corpus), key=lambda r: r["size_mb"])
        small, large = mine[0], mine[-1]
        growth = large["tokaudit_w1"]["rss"] / small["tokaudit_w1"]["rss"] - 1
        memory[corpus] = {
            "sizes_mb": [small["size_mb"], large["size_mb"]],
            "rss": [small["tokaudit_w1"]["rss"], large["tokaudit_w1"]["rss"]],
            "growth": growth,
            "flat": growth <= TARGET_RSS_GROWTH if len(mine) > 1 else None,
            "under_1gb": large["tokaudit_w1"]["rss"] < TARGET_RSS_MAX,
        }
    return memory


def _mib(n: float) -> str:
    return f"{n / MIB:,.0f} MiB"


def print_row(r: dict[str, Any]) -> None:
    w1, w2, libs, naive = r["tokaudit_w1"], r["tokaudit_w2"], r["libraries"], r["naive"]
    t = r["targets"]
    share = r["differing"] / r["samples"] if r["samples"] else 0.0
    print(
        f"\n{r['corpus']} {r['size_mb']:g} MB ({r['bytes']:,} bytes, {r['samples']:,} samples, "
        f"{r['differing']:,} differing = {share:.1%}; naive loop counts {r['naive_differing']:,}; "
        f"load average {r['load'][0]:.1f} -> {r['load'][1]:.1f})"
    )
    lim = libs["cpu"] / CORES
    rows = [
        (
            "tokaudit workers=1",
            f"{w1['wall']:7.2f} s  cpu {w1['cpu']:7.2f} s",
            f"{r['ratio_w1']:.2f}x libraries alone  [target <= {TARGET_W1}x: {_mark(t['w1'])}]",
        ),
        (
            "tokaudit workers=2",
            f"{w2['wall']:7.2f} s  cpu {w2['cpu']:7.2f} s",
            f"{r['ratio_w2']:.2f}x libraries alone, limit {r['limit']:.2f}x ({lim:.2f} s = cpu / {CORES} cores)"
            f"  [target <= {TARGET_W2}x: {_mark(t['w2'])}]",
        ),
        (
            "libraries alone",
            f"{libs['wall']:7.2f} s  cpu {libs['cpu']:7.2f} s",
            f"batch calls of {BATCH:,} lines, one process (cpu: tokaudit uses {w1['cpu'] / libs['cpu']:.2f}x "
            f"at workers=1, {w2['cpu'] / libs['cpu']:.2f}x at 2)",
        ),
        (
            "naive loop",
            f"{naive['wall']:7.2f} s  cpu {naive['cpu']:7.2f} s",
            f"tokaudit is {r['naive_ratio_w1']:.2f}x the naive loop at workers=1, {r['naive_ratio_w2']:.2f}x at 2",
        ),
        ("samples/s", f"{r['samples'] / w1['wall']:12,.0f}", f"workers=2: {r['samples'] / w2['wall']:,.0f}"),
        ("MB/s", f"{r['bytes'] / MB / w1['wall']:12.2f}", f"workers=2: {r['bytes'] / MB / w2['wall']:.2f}"),
        ("peak RSS", f"{_mib(w1['rss']):>12s}", f"workers=2: {_mib(w2['rss'])} (largest process)"),
    ]
    report = f"{r['report_bytes']:12,d}"
    findings = f"{r['findings']:12,d}"
    if "report" in t:
        rows.append(("report bytes (JSON)", report, f"[target < {TARGET_REPORT / MB:g} MB: {_mark(t['report'])}]"))
        rows.append(
            (
                "findings",
                findings,
                f"{r['findings_99']} cover 99% of the differing samples  "
                f"[targets <= {TARGET_COVER}: {_mark(t['cover'])}, < {TARGET_FINDINGS} in all: {_mark(t['findings'])}]",
            )
        )
    else:
        rows.append(("report bytes (JSON)", report, ""))
        rows.append(("findings", findings, f"{r['findings_99']} cover 99% of the differing samples"))
    rows.append(("workers 1 and 2 agree", f"{'yes' if r['workers_agree'] else 'NO':>12s}", "same findings and summary"))
    for label, figure, note in rows:
        print(f"  {label:22s} {figure:28s} {note}".rstrip())


def print_memory(memory: dict[str, Any]) -> None:
    print("\nmemory (peak RSS of the tokaudit process, workers=1):")
    for corpus, m in memory.items():
        (a, b), (ra, rb) = m["sizes_mb"], m["rss"]
        flat = "needs two sizes" if m["flat"] is None else _mark(m["flat"])
        print(
            f"  {corpus:6s} peak RSS at {a:g} MB {_mib(ra)}, at {b:g} MB {_mib(rb)} ({m['growth']:+.1%})  "
            f"[target within {TARGET_RSS_GROWTH:.0%}: {flat}; under 1 GB: {_mark(m['under_1gb'])}]"
        )


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version(), "cores": str(CORES)}
    for dist in ("tokaudit", "transformers", "tokenizers", "sentencepiece"):
        out[dist] = version(dist)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~200 KB corpus, 1 run: only that it runs")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--sizes", nargs="+", default=["20,200"], help="corpus sizes in MB (20 200 or 20,200)")
    parser.add_argument("--corpus", nargs="+", default=["high,mixed"], help="corpora (high mixed or high,mixed)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    corpora = [c.strip() for c in ",".join(args.corpus).split(",") if c.strip()]
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)} (expected: {', '.join(CORPORA)})")
    sizes = [0.2] if args.quick else [float(s) for s in ",".join(args.sizes).split(",") if s.strip()]
    runs = 1 if args.quick else args.runs
    versions = _versions()
    print(
        f"bench_scale: {runs} run(s) each, medians; {CORES} cores; "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "cores")
    )
    rows = [run_one(corpus, mb, runs, check=args.quick) for corpus in corpora for mb in sizes]
    memory = _targets(rows)
    for r in rows:
        print_row(r)
    print_memory(memory)
    if args.json:
        out = {"versions": versions, "runs": runs, "results": rows, "memory": memory}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
