"""Hypothesis strategies for GGUF tokenizer metadata: two small real-shaped vocabularies (a SentencePiece
`llama` one and a byte-level `gpt2` one), mutated key by key into wrong types, wrong counts, missing keys
and odd values, and written with the gguf package's own GGUFWriter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

#: (value, type, array sub-type) per key: what llama.cpp's convert scripts write
Meta = dict[str, tuple[Any, Any, Any]]


def _types() -> Any:
    import gguf

    return gguf.GGUFValueType


def base(family: str, byte_tokens: bool = True) -> tuple[str, Meta]:
    """A vocabulary that loads: (architecture, metadata). A `llama` one has SentencePiece's 256 byte
    tokens, as llama.cpp's convert scripts write them, unless `byte_tokens` is False."""
    t = _types()
    if family == "llama":
        pieces = ["▁", "a", "b", "▁a", "ab", "▁b"]
        n = 256 if byte_tokens else 0
        tokens = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(n)), *pieces]
        scores = [0.0] * (3 + n) + [-1.0, -2.0, -3.0, -1.5, -2.5, -1.7]
        return "llama", {
            "tokenizer.ggml.model": ("llama", t.STRING, None),
            "tokenizer.ggml.tokens": (tokens, t.ARRAY, t.STRING),
            "tokenizer.ggml.scores": (scores, t.ARRAY, t.FLOAT32),
            "tokenizer.ggml.token_type": ([2, 3, 3, *[6] * n, *[1] * len(pieces)], t.ARRAY, t.INT32),
            "tokenizer.ggml.bos_token_id": (1, t.UINT32, None),
            "tokenizer.ggml.eos_token_id": (2, t.UINT32, None),
            "tokenizer.ggml.unknown_token_id": (0, t.UINT32, None),
            "tokenizer.ggml.add_bos_token": (True, t.BOOL, None),
            "tokenizer.ggml.add_eos_token": (False, t.BOOL, None),
            "llama.vocab_size": (len(tokens), t.UINT32, None),
        }
    byte_level = [chr(c) for c in range(33, 127)] + ["Ġ", "Ċ"]
    tokens = [*byte_level, "ab", "Ġa", "<|endoftext|>"]
    return "gpt2", {
        "tokenizer.ggml.model": ("gpt2", t.STRING, None),
        "tokenizer.ggml.pre": ("gpt-2", t.STRING, None),
        "tokenizer.ggml.tokens": (tokens, t.ARRAY, t.STRING),
        "tokenizer.ggml.token_type": ([1] * (len(tokens) - 1) + [3], t.ARRAY, t.INT32),
        "tokenizer.ggml.merges": (["a b", "Ġ a"], t.ARRAY, t.STRING),
        "tokenizer.ggml.bos_token_id": (len(tokens) - 1, t.UINT32, None),
        "tokenizer.ggml.eos_token_id": (len(tokens) - 1, t.UINT32, None),
        "tokenizer.chat_template": ("{% for m in messages %}{{ m['content'] }}{% endfor %}", t.STRING, None),
    }


def mutated(family: str, **changes: tuple[Any, str, str | None] | None) -> tuple[str, Meta, int | None]:
    """A base vocabulary with keys replaced (types by name) or, given None, dropped: a found example."""
    t = _types()
    arch, meta = base(family)
    meta = dict(meta)
    for key, change in changes.items():
        if change is None:
            meta.pop(key, None)
        else:
            value, kind, sub = change
            meta[key] = (value, t[kind], None if sub is None else t[sub])
    return arch, meta, None


#: keys a mutation may add: the ones tokaudit and the converters read
EXTRA_KEYS = [
    "tokenizer.ggml.padding_token_id",
    "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.add_space_prefix",
    "tokenizer.ggml.pre",
    "tokenizer.ggml.merges",
    "tokenizer.ggml.scores",
    "tokenizer.chat_template",
    "llama.vocab_size",
    "gpt2.vocab_size",
]


@st.composite
def typed_values(draw: Any) -> tuple[Any, Any, Any]:
    """Any GGUF value with its type: every scalar type in its range, strings, arrays of any scalar type."""
    t = _types()
    ranges = {
        t.UINT8: (0, 2**8 - 1),
        t.INT8: (-(2**7), 2**7 - 1),
        t.UINT16: (0, 2**16 - 1),
        t.INT16: (-(2**15), 2**15 - 1),
        t.UINT32: (0, 2**32 - 1),
        t.INT32: (-(2**31), 2**31 - 1),
        t.UINT64: (0, 2**64 - 1),
        t.INT64: (-(2**63), 2**63 - 1),
    }

    def scalar(kind: Any) -> st.SearchStrategy[Any]:
        if kind in ranges:
            low, high = ranges[kind]
            return st.sampled_from([low, high, 0, 1, 5]) | st.integers(low, high)
        if kind in (t.FLOAT32, t.FLOAT64):
            return st.floats(width=32 if kind == t.FLOAT32 else 64)
        if kind == t.BOOL:
            return st.booleans()
        return st.text(max_size=8) | st.sampled_from(["", "llama", "gpt2", "bert", "t5", "{{ raise }}", "a b c"])

    kinds = [*ranges, t.FLOAT32, t.FLOAT64, t.BOOL, t.STRING]
    if draw(st.booleans()):
        sub = draw(st.sampled_from(kinds))
        return draw(st.lists(scalar(sub), max_size=12)), t.ARRAY, sub
    kind = draw(st.sampled_from(kinds))
    return draw(scalar(kind)), kind, None


@st.composite
def metadata(draw: Any) -> tuple[str, Meta, int | None]:
    """(architecture, metadata, embedding rows or None) from a base vocabulary and a few mutations."""
    arch, meta = base(draw(st.sampled_from(["llama", "gpt2"])))
    meta = dict(meta)
    keys = sorted(meta)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["retype", "drop", "resize", "add"]))
        key = draw(st.sampled_from(keys + EXTRA_KEYS))
        if op == "retype" or (op == "add" and key not in meta):
            meta[key] = draw(typed_values())
        elif op == "drop":
            meta.pop(key, None)
        elif op == "resize" and key in meta and isinstance(meta[key][0], list):
            value, kind, sub = meta[key]
            n = draw(st.integers(0, len(value) + 3))
            meta[key] = ((value * 2)[:n], kind, sub)
    if draw(st.booleans()):
        arch = draw(st.sampled_from([arch, "", "qwen2", "bert", "unknown-arch"]))
    rows = draw(st.none() | st.integers(1, 200))
    return arch, meta, rows


def write(path: Path, arch: str, meta: Meta, rows: int | None = None) -> Path | None:
    """The file GGUFWriter writes, or None when the writer itself refuses the values."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch)
    try:
        for name, (value, kind, sub) in meta.items():
            writer.add_key_value(name, value, kind, sub_type=sub)
        if rows is not None:
            writer.add_tensor("token_embd.weight", np.zeros((rows, 2), dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    except (ValueError, TypeError, OverflowError, KeyError, AttributeError):
        return None  # a value the writer cannot pack as that type: not a file anyone can have
    finally:
        writer.close()
    return path
