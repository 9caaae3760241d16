"""A GGUF file's metadata, read with the `gguf` package (llama.cpp's own Python reader).

transformers 5's GGUF reader imports torch, which tokaudit never needs, so the `gguf` and `llama.cpp`
sources read the metadata here and hand it on. No tensor data is read: a tensor's shape comes from the
tensor table, so a full model costs no more than a vocab-only file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokaudit.errors import SourceError
from tokaudit.sources.capabilities import GgufFacts

GGUF_EXTRA = "pip install 'tokaudit[gguf]'"
#: llama.cpp's token types (gguf.TokenType): what a control and a user-defined token are
CONTROL, USER_DEFINED = 3, 4
#: the tensor whose rows are the model's embedding matrix, in llama.cpp's tensor names
EMBEDDING = "token_embd.weight"


@dataclass(frozen=True)
class GgufFile:
    """Every metadata key with its value (arrays as lists), and each tensor's shape in ggml order."""

    path: str
    metadata: dict[str, Any]
    tensors: dict[str, tuple[int, ...]]

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    def tokenizer(self, key: str, default: Any = None) -> Any:
        """`tokenizer.ggml.<key>` (or `tokenizer.<key>` for keys outside ggml, like chat_template)."""
        return self.metadata.get(f"tokenizer.ggml.{key}", self.metadata.get(f"tokenizer.{key}", default))

    def facts(self) -> GgufFacts:
        tokens = self.tokenizer("tokens") or []
        shape = self.tensors.get(EMBEDDING)
        # ggml lists the fastest-moving dimension first: token_embd is (n_embd, n_vocab)
        rows = int(shape[1]) if shape is not None and len(shape) >= 2 else None
        flag = self.tokenizer
        return GgufFacts(
            path=self.path,
            architecture=self.architecture,
            model=str(flag("model") or ""),
            pre=None if flag("pre") is None else str(flag("pre")),
            tokens=len(tokens),
            embedding_rows=rows,
            bos_id=flag("bos_token_id"),
            eos_id=flag("eos_token_id"),
            pad_id=flag("padding_token_id"),
            add_bos=flag("add_bos_token"),
            add_eos=flag("add_eos_token"),
            chat_template=self.metadata.get("tokenizer.chat_template"),
            vocab_size=self.metadata.get(f"{self.architecture}.vocab_size"),
        )


def _reader_class() -> Any:
    try:
        import gguf
        import numpy as np
    except ImportError as exc:
        raise SourceError(f"reading a GGUF needs the gguf package: {GGUF_EXTRA}", key="source") from exc

    class Reader(gguf.GGUFReader):  # type: ignore[misc]
        """The gguf package's reader over a plain ndarray view of its memory map: the reader slices the
        map once per vocabulary string, and numpy's memmap subclass makes each slice cost 3x more."""

        @property
        def data(self) -> Any:
            return self._plain

        @data.setter
        def data(self, value: Any) -> None:
            self._plain = value.view(np.ndarray)

    return Reader


def read_gguf(path: str) -> GgufFile:
    """The file's metadata and tensor shapes (raises SourceError naming the file)."""
    file = Path(path)
    if not file.is_file():
        raise SourceError(f"{path}: no such GGUF file", key="path")
    stat = file.stat()
    return _read(str(file.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _read(path: str, size: int, mtime: int) -> GgufFile:
    # Cached on (path, size, mtime): both sides of a gguf-vs-llama.cpp audit read the same file, and
    # the reader walks every token in Python (seconds for a 150k vocabulary).
    reader_class = _reader_class()
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise SourceError(f"{path}: not a GGUF file (it does not start with the GGUF magic bytes)", key="path")
    try:
        reader = reader_class(path)
        metadata = {name: field.contents() for name, field in reader.fields.items()}
        tensors = {str(t.name): tuple(int(d) for d in t.shape) for t in reader.tensors}
    except Exception as exc:  # the reader's own words: a truncated file overruns its memory map
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceError(
            f"{path}: not a readable GGUF, truncated or corrupt ({size:,} bytes; the gguf reader says: {message})",
            key="path",
        ) from exc
    if "tokenizer.ggml.tokens" not in metadata:
        raise SourceError(f"{path}: the GGUF holds no tokenizer (no tokenizer.ggml.tokens)", key="path")
    tokens = metadata["tokenizer.ggml.tokens"]
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        kind = type(tokens).__name__ if not isinstance(tokens, list) else "array of other values"
        raise SourceError(f"{path}: tokenizer.ggml.tokens is not an array of strings (a {kind})", key="path")
    return GgufFile(path, metadata, tensors)
