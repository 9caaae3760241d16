"""How much does `tokaudit diff` cost over the two tokenizer libraries alone?

Builds a ~20 MB corpus of mixed text (prose, code, numbers, CJK, Cyrillic, Arabic, emoji, the
shipped mixed corpus), then times, as separate processes so both pay the same imports:

* baseline: load both sides' libraries and batch-encode the corpus with each
  (SentencePieceProcessor.encode(list) and the transformers fast tokenizer's __call__ on a list,
  or tokenizers.Tokenizer.encode_batch), exactly the calls tokaudit makes;
* tokaudit: `tokaudit diff CONFIG --no-builtin --format json -o /dev/null`.

Prints the medians and the ratio tokaudit / baseline per pair. Absolute times are noisy on a
shared machine; the ratio is the figure to compare.

    python benchmarks/bench_diff.py              # ~20 MB, 3 runs each
    python benchmarks/bench_diff.py --mb 2 --runs 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from common import FIX, make_corpus, timed, write_config

PAIRS = {
    "sentencepiece-vs-hf": {
        "training": {"source": "sentencepiece", "path": str(FIX / "mistral-7b/tokenizer.model"), "add_bos": True},
        "serving": {"source": "hf", "path": str(FIX / "mistral-7b-hf")},
    },
    "tokenizers-vs-hf": {
        "training": {"source": "tokenizers", "path": str(FIX / "mistral-7b-hf/tokenizer.json")},
        "serving": {"source": "hf", "path": str(FIX / "mistral-7b-hf")},
    },
}

BASELINE = r"""
import os, sys
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
lines = [l.rstrip("\r") for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l]
pair = sys.argv[2]
from transformers import AutoTokenizer
hf = AutoTokenizer.from_pretrained(sys.argv[3], use_fast=True)
if pair == "sentencepiece-vs-hf":
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=sys.argv[4])
    for i in range(0, len(lines), 4096):
        sp.encode(lines[i:i + 4096])
else:
    from tokenizers import Tokenizer
    tk = Tokenizer.from_file(sys.argv[4])
    for i in range(0, len(lines), 4096):
        tk.encode_batch(lines[i:i + 4096])
for i in range(0, len(lines), 4096):
    hf(lines[i:i + 4096])["input_ids"]
"""


def pair_config(pair: str, corpus: Path) -> Path:
    return write_config(pair, {**PAIRS[pair], "corpus": [str(corpus)], "builtin_corpus": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--pair", choices=sorted(PAIRS), action="append", help="pairs to run (default all)")
    args = parser.parse_args()
    corpus = make_corpus(args.mb)
    samples = sum(1 for _ in corpus.open(encoding="utf-8"))
    print(f"corpus: {corpus} ({corpus.stat().st_size / 1e6:.1f} MB, {samples} samples)")
    tokaudit = [sys.executable, "-m", "tokaudit"]
    for pair in args.pair or sorted(PAIRS):
        config = pair_config(pair, corpus)
        spec = PAIRS[pair]
        paths = [spec["serving"]["path"], spec["training"]["path"]]
        base_cmd = [sys.executable, "-c", BASELINE, str(corpus), pair, *paths]
        tool_cmd = [*tokaudit, "diff", str(config), "--no-builtin", "--format", "json", "-o", "/dev/null"]
        base = [timed(base_cmd, (0,)) for _ in range(args.runs)]
        tool = [timed(tool_cmd, (0, 1)) for _ in range(args.runs)]
        b, t = statistics.median(base), statistics.median(tool)
        print(f"{pair:22s} libraries alone {b:6.2f} s   tokaudit diff {t:6.2f} s   ratio {t / b:.2f}")


if __name__ == "__main__":
    main()
