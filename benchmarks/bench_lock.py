"""How big is a snapshot lock? Snapshots 10,000 samples of the benchmark corpus and prints the size.

python benchmarks/bench_lock.py              # 10,000 samples of ~1 KB (Mistral 7B, SentencePiece vs hf)
python benchmarks/bench_lock.py --samples 1000
"""

from __future__ import annotations

import argparse
import gzip
import sys

from bench_diff import PAIRS
from common import DATA, make_corpus, timed, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    lines = make_corpus(20.0).read_text(encoding="utf-8").splitlines()[: args.samples]
    corpus = DATA / f"lock-corpus-{args.samples}.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = {**PAIRS["sentencepiece-vs-hf"], "corpus": [str(corpus)], "builtin_corpus": False}
    config = write_config(f"lock-{args.samples}", spec)
    lock = DATA / f"lock-{args.samples}.json"
    seconds = timed([sys.executable, "-m", "tokaudit", "snapshot", str(config), "-o", str(lock)], (0,))
    raw = lock.read_bytes()
    text_mb = corpus.stat().st_size / 1e6
    print(
        f"{len(lines)} samples ({text_mb:.1f} MB of text): lock {len(raw) / 1e6:.2f} MB, "
        f"{len(gzip.compress(raw)) / 1e6:.2f} MB gzipped, written in {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
