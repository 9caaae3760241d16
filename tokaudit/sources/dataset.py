"""`source: dataset`: token ids already on disk (a tokenized .jsonl / .parquet / save_to_disk folder).

The stored ids are this side's tokens; the other side encodes each record's text. A dataset has no
vocabulary of its own, so pieces and bytes for evidence come from the other side's tokenizer (the
ids are meant to be in the model's vocabulary); describe() says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import Tokenizer

T = TypeVar("T")


class DatasetTokens(Tokenizer):
    """Stored ids as a side. Encoding text is not something it can do: the shards carry the ids."""

    source = "dataset"
    library = "stored ids"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        self.vocab: Tokenizer | None = None

    def stored_fields(self) -> tuple[str, str]:
        return str(self.spec.text_field), str(self.spec.ids_field)

    def lend(self, other: Any) -> None:
        self.vocab = other

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        raise SourceError(
            f"{self.spec.path}: a `source: dataset` side has stored ids, not a tokenizer: "
            "it can be diffed against a tokenizer, not asked to encode new text"
        )

    def specials(self) -> dict[str, int]:
        return self.vocab.specials() if self.vocab else {}

    def _lent(self, call: Callable[[int], T], token_id: int, default: T) -> T:
        # a stored id can be anything a file holds (-100, 2**40): libraries raise on ids they cannot index
        if self.vocab is None:
            return default
        try:
            return call(token_id)
        except (OverflowError, IndexError, KeyError, ValueError):
            return default

    def piece(self, token_id: int) -> str:
        return self._lent(self.vocab.piece, token_id, f"#{token_id}") if self.vocab else f"#{token_id}"

    def _surface(self, token_id: int) -> bytes | None:
        return self._lent(self.vocab.surface, token_id, None) if self.vocab else None

    def is_fallback(self, token_id: int) -> bool:
        return self._lent(self.vocab.is_fallback, token_id, False) if self.vocab else False

    @property
    def bos_id(self) -> int | None:
        return self.vocab.bos_id if self.vocab else None

    @property
    def eos_id(self) -> int | None:
        return self.vocab.eos_id if self.vocab else None

    @property
    def pad_id(self) -> int | None:
        return self.vocab.pad_id if self.vocab else None

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["fields"] = {"text": self.spec.text_field, "ids": self.spec.ids_field}
        out["pieces_from"] = self.vocab.source if self.vocab else None
        return out
