"""Test GGUFs made from llama.cpp's real vocab-only files: the same metadata with one key changed, or with
an embedding tensor added, written by the gguf package's own writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def rewrite_gguf(
    src: Path, dst: Path, *, strings: dict[str, str] | None = None, embedding_rows: int | None = None
) -> Path:
    """`src`'s metadata (string keys in `strings` replaced) and, with `embedding_rows`, a token_embd.weight
    of that many rows (4 wide, zeros): a stand-in for a GGUF that holds weights."""
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(src)
    strings = strings or {}
    writer = gguf.GGUFWriter(dst, str(reader.fields["general.architecture"].contents()))
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name in strings:
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), kind, sub_type=sub)
    for name, value in strings.items():
        writer.add_key_value(name, value, gguf.GGUFValueType.STRING)
    if embedding_rows is not None:
        writer.add_tensor("token_embd.weight", np.zeros((embedding_rows, 4), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dst


def read_tests(gguf_path: Path) -> list[tuple[str, list[int]]]:
    """llama.cpp's tests/test-tokenizer-0.cpp read_tests(): the .inp strings split on its separator, each
    with the ids on the same line of .out."""
    raw = Path(f"{gguf_path}.inp").read_text(encoding="utf-8")
    texts = raw.split("\n__ggml_vocab_test__\n")
    if raw.endswith("\n__ggml_vocab_test__\n"):  # the C++ loop stops at the end: no empty test after it
        texts.pop()
    lines = Path(f"{gguf_path}.out").read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":  # getline() yields no line after the final newline
        lines.pop()
    assert len(texts) == len(lines), f"{gguf_path}: .inp and .out hold different numbers of tests"
    return [(t, [int(x) for x in line.split()]) for t, line in zip(texts, lines)]


def config(path: Path, **sides: Any) -> dict[str, Any]:
    return {"model": {"name": path.stem}, **sides}
