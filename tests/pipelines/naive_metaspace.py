"""A deliberately naive re-implementation of Mistral 7B's tokenizer.json pre-tokenizer.

The file says Metaspace (`prepend_scheme: always`, `split: false`): every space becomes "▁" and the whole
text, spaces included, goes to BPE. This version splits on whitespace the way a quick rewrite does
(`text.split()`), prefixes each word with "▁" and runs the file's own BPE model on it, so the vocabulary
and merges are the real ones and only the pre-tokenization differs: runs of spaces, tabs and newlines are lost.
"""

from __future__ import annotations

from pathlib import Path

import tokenizers


class NaiveMetaspace:
    """encode(text) -> ids, with the real vocabulary and a naive whitespace split."""

    bos_token_id = 1

    def __init__(self, path: str) -> None:
        file = Path(path)
        self.tk = tokenizers.Tokenizer.from_file(str(file / "tokenizer.json" if file.is_dir() else file))
        self.model = self.tk.model

    def encode(self, text: str) -> list[int]:
        ids = [self.bos_token_id]
        for word in text.split():
            ids += [t.id for t in self.model.tokenize("▁" + word)]
        return ids

    def id_to_token(self, token_id: int) -> str | None:
        return self.tk.id_to_token(token_id)

    def get_vocab(self) -> dict[str, int]:
        return self.tk.get_vocab()


def build(path: str) -> NaiveMetaspace:
    return NaiveMetaspace(path)
