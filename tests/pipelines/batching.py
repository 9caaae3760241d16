"""A tokenizer with both encode and encode_batch, which records how tokaudit called it."""

from __future__ import annotations

from pathlib import Path

import tokenizers

TOKENIZER_JSON = Path(__file__).resolve().parents[2] / "fixtures" / "mistral-7b-hf" / "tokenizer.json"


class Batching:
    def __init__(self) -> None:
        self.tk = tokenizers.Tokenizer.from_file(str(TOKENIZER_JSON))
        self.calls: list[tuple[str, int]] = []

    def encode(self, text: str) -> list[int]:
        self.calls.append(("encode", 1))
        return self.tk.encode(text).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        self.calls.append(("encode_batch", len(texts)))
        return [e.ids for e in self.tk.encode_batch(texts)]


def build() -> Batching:
    return Batching()
