"""A source that encodes text its own way but reads its vocabulary through another source.

A server (`vllm`) tokenizes through its own request paths, yet the tokenizer object it resolved is a
transformers or mistral-common one: the `hf` / `mistral-common` source wrapped around that object
(`from_loaded`) answers for pieces, bytes, specials and the vocabulary, so that code is not written twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokaudit.sources.base import AddedEntry, FileLimits, RoleToken, Tokenizer


class Delegating(Tokenizer):
    """Everything but encoding is `self.inner`'s: the source wrapped around the object the library resolved."""

    inner: Tokenizer

    def specials(self) -> dict[str, int]:
        return self.inner.specials()

    def piece(self, token_id: int) -> str:
        return self.inner.piece(token_id)

    def _surface(self, token_id: int) -> bytes | None:
        return self.inner.surface(token_id)

    def normalize(self, text: str) -> str | None:
        return self.inner.normalize(text)

    def is_fallback(self, token_id: int) -> bool:
        return self.inner.is_fallback(token_id)

    def encode_offsets(self, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]] | None:
        return self.inner.encode_offsets(text, add_special_tokens)

    @property
    def bos_id(self) -> int | None:
        return self.inner.bos_id

    @property
    def eos_id(self) -> int | None:
        return self.inner.eos_id

    @property
    def pad_id(self) -> int | None:
        return self.inner.pad_id

    def vocab_reader(self) -> Tokenizer:
        return self.inner.vocab_reader()

    def vocab_bytes(self) -> list[bytes | None]:
        return self.inner.vocab_bytes()

    def added_tokens(self) -> dict[str, AddedEntry]:
        return self.inner.added_tokens()

    def roles(self) -> dict[str, RoleToken | None]:
        return self.inner.roles()

    def decode_each(self, ids: list[int]) -> list[str]:
        return self.inner.decode_each(ids)

    def decode_all(self, batch: list[list[int]], skip_special_tokens: bool) -> list[str]:
        return self.inner.decode_all(batch, skip_special_tokens)

    def chat_templates(self) -> dict[str, str]:
        return self.inner.chat_templates()

    def template_vars(self) -> dict[str, Any]:
        return self.inner.template_vars()

    def split_patterns(self) -> list[tuple[str, str]]:
        return self.inner.split_patterns()

    def file_limits(self) -> FileLimits | None:
        return self.inner.file_limits()

    def files_dir(self) -> Path | None:
        return self.inner.files_dir()
