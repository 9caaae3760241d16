"""How much does `tokaudit vocab-check` cost over the tokenizer libraries alone?

The pair is mistral-common's tekken_240911.json (131,072 ids: 1,000 specials and 130,072 byte-level
BPE ranks) through source `mistral-common`, against itself and against its Hugging Face conversion
(transformers' convert_tekken_tokenizer, built once into benchmarks/.data/tekken-hf-<major>). Two figures:

* end to end, as separate processes that pay the same imports and loads: `tokaudit vocab-check
  CONFIG --format json -o /dev/null` against a script that loads both sides with their libraries and
  enumerates every id (mistral-common's id_to_byte_piece per id, transformers' get_vocab());
* in process, both sides already loaded: the check alone against that enumeration alone.

Prints medians and the ratio tokaudit / libraries. Absolute times are noisy on a shared machine.

    python benchmarks/bench_vocab.py             # 3 runs each
    python benchmarks/bench_vocab.py --runs 5 --pair tekken-vs-hf
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import DATA, timed, write_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ENUMERATE = r"""
import sys
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

def enumerate_side(kind, path):
    if kind == "mistral-common":
        tk = MistralTokenizer.from_file(path).instruct_tokenizer.tokenizer
        return lambda: [tk.id_to_byte_piece(i, SpecialTokenPolicy.KEEP) for i in range(tk.n_words)]
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(path)
    return tok.get_vocab

calls = [enumerate_side(sys.argv[i], sys.argv[i + 1]) for i in (1, 3)]
for call in calls:
    call()
"""


def tekken() -> Path:
    import mistral_common

    return Path(mistral_common.__file__).parent / "data" / "tekken_240911.json"


def converted() -> Path | None:
    """The HF conversion of tekken_240911.json, made once per transformers major version (a 5.x save
    names TokenizersBackend, which 4.x cannot load)."""
    import transformers

    out = DATA / f"tekken-hf-{transformers.__version__.split('.')[0]}"
    if (out / "tokenizer.json").is_file():
        return out
    try:
        from transformers.integrations.mistral.tokenizer import convert_tekken_tokenizer
    except ImportError:  # transformers 4.x
        from transformers.integrations.mistral import convert_tekken_tokenizer  # type: ignore[no-redef]
    print(f"converting {tekken().name} with transformers (once) ...", file=sys.stderr)
    try:
        convert_tekken_tokenizer(str(tekken())).save_pretrained(str(out))
    except Exception as exc:  # transformers 4.57's converter cannot read this tekken format
        print(f"tekken-vs-hf skipped: transformers {transformers.__version__} cannot convert it ({exc})")
        return None
    return out


def pairs() -> dict[str, dict[str, Any]]:
    mc = {"source": "mistral-common", "path": str(tekken())}
    out: dict[str, dict[str, Any]] = {"tekken-vs-itself": {"training": mc, "serving": mc}}
    hf = converted()
    if hf is not None:
        out["tekken-vs-hf"] = {"training": mc, "serving": {"source": "hf", "path": str(hf)}}
    return out


def in_process(config: Path, runs: int) -> tuple[float, float, float]:
    """(load, check, enumerate) medians with both sides loaded once."""
    from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

    from tokaudit.checks.vocab import check as vocab
    from tokaudit.config import load_config
    from tokaudit.options import Options
    from tokaudit.sources.hf import HFTokenizer
    from tokaudit.sources.mistral import MistralCommonTokenizer
    from tokaudit.sources.sides import load_sides

    settings = load_config(config)
    start = time.perf_counter()
    sides = load_sides(settings)
    load = time.perf_counter() - start

    def enumerate_all() -> None:
        for _, tok in sides.items():
            if isinstance(tok, MistralCommonTokenizer):
                tk = tok.tk
                [tk.id_to_byte_piece(i, SpecialTokenPolicy.KEEP) for i in range(tk.n_words)]
            elif isinstance(tok, HFTokenizer):
                tok.tok.get_vocab()

    checks, enums = [], []
    for _ in range(runs):
        start = time.perf_counter()
        vocab.run(settings, sides, Options())
        checks.append(time.perf_counter() - start)
        start = time.perf_counter()
        enumerate_all()
        enums.append(time.perf_counter() - start)
    return load, statistics.median(checks), statistics.median(enums)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--pair", choices=("tekken-vs-itself", "tekken-vs-hf"), action="append")
    args = parser.parse_args()
    chosen = pairs()
    for name in [p for p in args.pair or sorted(chosen) if p in chosen]:
        spec = chosen[name]
        config = write_config(f"vocab-{name}", spec)
        sides = [spec[s]["source"] for s in ("training", "serving")]
        paths = [spec[s]["path"] for s in ("training", "serving")]
        base_cmd = [sys.executable, "-c", ENUMERATE, sides[0], paths[0], sides[1], paths[1]]
        tool_cmd = [sys.executable, "-m", "tokaudit", "vocab-check", str(config), "--format", "json", "-o", "/dev/null"]
        base = statistics.median(timed(base_cmd, (0,)) for _ in range(args.runs))
        tool = statistics.median(timed(tool_cmd, (0, 1)) for _ in range(args.runs))
        load, check, enum = in_process(config, args.runs)
        print(
            f"{name:17s} end to end: libraries alone {base:5.2f} s, tokaudit vocab-check {tool:5.2f} s, "
            f"ratio {tool / base:.2f} | in process (sides loaded in {load:.2f} s): check {check:.2f} s, "
            f"enumeration {enum:.2f} s, ratio {check / enum:.2f}"
        )


if __name__ == "__main__":
    main()
