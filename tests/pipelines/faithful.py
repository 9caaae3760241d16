"""A faithful wrapper: the tokenizers library on the shipped tokenizer.json, `encode(text).ids`."""

from __future__ import annotations

from pathlib import Path

import tokenizers


class Faithful:
    """What a training script that loads tokenizer.json with the Rust library calls."""

    def __init__(self, path: str) -> None:
        file = Path(path)
        self.tk = tokenizers.Tokenizer.from_file(str(file / "tokenizer.json" if file.is_dir() else file))

    def encode(self, text: str) -> list[int]:
        return self.tk.encode(text).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tk.encode_batch(texts)]

    def id_to_token(self, token_id: int) -> str | None:
        return self.tk.id_to_token(token_id)

    def get_vocab(self) -> dict[str, int]:
        return self.tk.get_vocab(with_added_tokens=True)

    def decode(self, ids: list[int]) -> str:
        return self.tk.decode(ids)


def build(path: str) -> Faithful:
    return Faithful(path)
