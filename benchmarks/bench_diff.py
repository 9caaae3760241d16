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
import random
import statistics
import sys
from pathlib import Path

from common import DATA, timed, write_config

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"

WORDS = (
    "the model was trained on web text code and books tokenizer serving training pipeline loss "
    "gradient token boundary vocabulary merges prefix space whitespace normalization unicode "
    "research engineering data quality evaluation benchmark results improve accuracy"
).split()
EXTRA = [
    "東京は日本の首都です。人口は約1400万人です。",
    "Привет, мир! Это тест токенизатора.",
    "مرحبا بكم في اختبار المحلل اللغوي",
    "Emoji run: 🚀🔥💯 and skin tones 👋🏻👋🏿",
    "def f(x: int) -> int:\n    return x ** 2  # square",
    "Prices rose 3.75% in Q3 2024, from $1,299.99 to $1,348.71.",
    "Café, naïve, façade, résumé — words with diacritics.",
]

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


def make_corpus(mb: float) -> Path:
    """A deterministic mixed corpus of about `mb` megabytes, one sample (~1 KB) per line."""
    DATA.mkdir(exist_ok=True)
    out = DATA / f"corpus-{mb:g}mb.txt"
    if out.exists():
        return out
    rng = random.Random(0)
    shipped = [line for line in (FIX / "corpus/mixed.txt").read_text(encoding="utf-8").splitlines() if line]
    target = int(mb * 1_000_000)
    size = 0
    with out.open("w", encoding="utf-8") as fh:
        while size < target:
            parts = []
            while sum(len(p) for p in parts) < 900:
                roll = rng.random()
                if roll < 0.75:
                    n = rng.randint(6, 20)
                    parts.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
                elif roll < 0.85:
                    parts.append(str(rng.randint(0, 10**9)) + "." + str(rng.randint(0, 999)))
                elif roll < 0.95:
                    parts.append(rng.choice(EXTRA).replace("\n", " "))
                else:
                    parts.append(rng.choice(shipped))
            line = " ".join(parts)
            fh.write(line + "\n")
            size += len(line.encode("utf-8")) + 1
    return out


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
