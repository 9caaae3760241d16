"""How much does `tokaudit diff` cost over llama.cpp and transformers' GGUF conversion alone?

One GGUF through both serving paths (`source: llama.cpp` vs `source: gguf`) on a ~20 MB mixed corpus,
timed as separate processes that pay the same imports:

* baseline: read the GGUF's metadata with the gguf package, build transformers' tokenizer from it
  (convert_gguf_tokenizer) and batch-encode the corpus; load the vocabulary in llama.cpp and
  llama_tokenize every line (add_special, parse_special: what the source calls);
* tokaudit: `tokaudit diff CONFIG --no-builtin --workers N --format json -o /dev/null`, N = 1 and 2.

Prints medians and the ratio tokaudit / baseline per family. Needs the llama-cpp extra.

    python benchmarks/bench_gguf.py                 # gpt-2 and llama-spm vocabularies, ~20 MB, 3 runs
    python benchmarks/bench_gguf.py --mb 2 --runs 1 --family gpt-2
"""

from __future__ import annotations

import argparse
import statistics
import sys

from common import FIX, make_corpus, timed, write_config

FAMILIES = ("gpt-2", "llama-spm")

BASELINE = r"""
import ctypes, os, sys
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
lines = [l.rstrip("\r") for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l]
path = sys.argv[2]
import gguf, transformers
meta = {name: field.contents() for name, field in gguf.GGUFReader(path).fields.items()}
try:  # transformers 5: its builder takes (architecture, tokenizer dict) from the metadata
    from transformers.integrations.gguf import gguf_tokenizer_mapping as m
except ImportError:
    from transformers.integrations import ggml as m
keys = m.GGUF_TOKENIZER_MAPPING["tokenizer"].items()
tok = {n: meta[f"tokenizer.{k}"] for k, n in keys if f"tokenizer.{k}" in meta}
backend, _ = m.convert_gguf_tokenizer(meta["general.architecture"], tok)
hf = transformers.PreTrainedTokenizerFast(tokenizer_object=backend)
for i in range(0, len(lines), 4096):
    hf(lines[i:i + 4096])["input_ids"]
import llama_cpp as L
sink = L.llama_log_callback(lambda *a: None)  # kept referenced: llama.cpp calls it from C
L.llama_log_set(sink, ctypes.c_void_p(0))
L.llama_backend_init()
params = L.llama_model_default_params()
params.vocab_only = True
model = L.llama_model_load_from_file(path.encode(), params)
vocab = L.llama_model_get_vocab(model)
for line in lines:
    data = line.encode("utf-8")
    buf = (L.llama_token * (len(data) + 8))()
    L.llama_tokenize(vocab, data, len(data), buf, len(data) + 8, True, True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--family", choices=FAMILIES, action="append", help="vocabularies to run (default all)")
    args = parser.parse_args()
    corpus = make_corpus(args.mb)
    samples = sum(1 for _ in corpus.open(encoding="utf-8"))
    print(f"corpus: {corpus} ({corpus.stat().st_size / 1e6:.1f} MB, {samples} samples)")
    for family in args.family or FAMILIES:
        path = str(FIX / "gguf" / f"ggml-vocab-{family}.gguf")
        config = write_config(
            f"gguf-{family}",
            {
                "training": {"source": "gguf", "path": path},
                "serving": {"source": "llama.cpp", "path": path},
                "corpus": [str(corpus)],
                "builtin_corpus": False,
            },
        )
        base = statistics.median(
            timed([sys.executable, "-c", BASELINE, str(corpus), path], (0,)) for _ in range(args.runs)
        )
        line = f"{family:10s} libraries alone {base:6.2f} s"
        for workers in (1, 2):
            cmd = [sys.executable, "-m", "tokaudit", "diff", str(config), "--no-builtin", "--workers", str(workers)]
            cmd += ["--format", "json", "-o", "/dev/null"]
            tool = statistics.median(timed(cmd, (0, 1)) for _ in range(args.runs))
            line += f"   workers {workers}: {tool:6.2f} s (ratio {tool / base:.2f})"
        print(line)


if __name__ == "__main__":
    main()
