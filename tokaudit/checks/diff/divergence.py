"""Explain why two id sequences for the same text differ: where, and which root-cause category.

The category is decided on the first differing stretch by `categories.categorize` (the decision table
of docs/codes.md); this module finds the stretch and builds the evidence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tokaudit.checks.diff.categories import categorize, strip_ws
from tokaudit.checks.evidence import decode, first_diff, token, window
from tokaudit.findings import SideTokens
from tokaudit.sources.base import Tokenizer

CATEGORIES = (
    "special-token",
    "bos-eos",
    "truncation",
    "id-mapping",
    "normalization",
    "whitespace",
    "segmentation",
    "unknown",
)


@dataclass
class Side:
    """One side's ids for a sample, with BOS/EOS split off and each token's bytes."""

    name: str
    tok: Tokenizer
    ids: list[int]
    has_bos: bool = False
    has_eos: bool = False
    core: list[int] = field(default_factory=list)
    surfaces: list[bytes] = field(default_factory=list)

    text_in: str = ""
    padded: int = 0

    def __post_init__(self) -> None:
        ids = self.ids
        pad = self.tok.pad_id
        while pad is not None and self.padded < len(ids) and ids[-1 - self.padded] == pad:
            self.padded += 1
        ids = ids[: len(ids) - self.padded]
        names = self.tok.special_names()
        # BOS/EOS, or any special the post-processor adds ([CLS] ... [SEP]) that the text does not spell.
        # (an `<unk>` the model emits for text it cannot spell is text, not an added token)
        first = names.get(ids[0]) if ids and not self.tok.is_fallback(ids[0]) else None
        last = names.get(ids[-1]) if len(ids) > 1 and not self.tok.is_fallback(ids[-1]) else None
        self.has_bos = ids[:1] == [self.tok.bos_id] or (first is not None and not self.text_in.startswith(first))
        self.has_eos = len(ids) > int(self.has_bos) and (
            ids[-1] == self.tok.eos_id or (last is not None and not self.text_in.endswith(last))
        )
        self.core = ids[int(self.has_bos) : len(ids) - int(self.has_eos)]
        self.surfaces = [self.tok.surface(i) or b"" for i in self.core]

    @property
    def text(self) -> bytes:
        return b"".join(self.surfaces)

    def parsed_specials(self) -> Counter[str]:
        """Special tokens that stand for text the sample spells (not an <unk> the model emitted)."""
        names = self.tok.special_names()
        return Counter(names[i] for i in self.core if i in names and names[i] in self.text_in)

    def tokens(self, lo: int, hi: int) -> SideTokens:
        """Core tokens lo..hi as evidence, with whether BOS / EOS were added and the whole length."""
        shown = [token(self.tok, self.core[k], self.surfaces[k]) for k in range(lo, min(hi, len(self.core)))]
        return SideTokens(tokens=shown, bos=self.has_bos, eos=self.has_eos, length=len(self.ids))


@dataclass(frozen=True)
class Divergence:
    """Where two encodings of one text part ways, and the evidence."""

    category: str
    message: str
    offset: int
    detail: dict[str, Any]
    affected: int
    #: the message for a group of many special strings (see groups.Group.plural)
    plural: str | None = None


def _window(a: list[int], b: list[int]) -> tuple[int, int, int]:
    """First differing index, and the end of the differing stretch on each side."""
    n = min(len(a), len(b))
    i = first_diff(a, b)
    j = 0
    while j < n - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    return i, len(a) - j, len(b) - j


def _region(a: Side, b: Side, i: int, end_a: int, end_b: int) -> tuple[int, int]:
    """End of the first differing stretch: where both sides' token bytes line up again.

    Lined up means the same text apart from whitespace, after some of it: a side with one more space
    (a prefix space after a control token) lines up again after the next word, where counting bytes alone
    would pair the other side's comma with this side's word."""
    ka, kb = i, i
    ra, rb = bytearray(), bytearray()  # each side's bytes so far, whitespace left out
    pa = pb = 0  # and their lengths with it, to break ties
    while ka < end_a or kb < end_b:
        if kb >= end_b or (ka < end_a and (len(ra), pa) <= (len(rb), pb)):
            ra += strip_ws(a.surfaces[ka])
            pa += len(a.surfaces[ka])
            ka += 1
        else:
            rb += strip_ws(b.surfaces[kb])
            pb += len(b.surfaces[kb])
            kb += 1
        if ka > i and kb > i and ra == rb and (ra or pa == pb):
            return ka, kb
    return end_a, end_b


def _offset(text: str, side: Side, i: int) -> int:
    prefix = decode(b"".join(side.surfaces[:i]))
    # SentencePiece-style tokenizers prepend a space the text does not have.
    if prefix.startswith(" ") and not text.startswith(" "):
        prefix = prefix[1:]
    return max(0, min(len(text), len(prefix)))


def explain(text: str, a: Side, b: Side) -> Divergence:
    """Pick the category and build the message for a sample whose ids differ."""
    i, end_a, end_b = _window(a.core, b.core)
    offset = _offset(text, a, i)
    affected = max(end_a - i, end_b - i, 1)
    end_a, end_b = _region(a, b, i, end_a, end_b)
    category, message, plural = categorize(text, a, b, i, end_a, end_b, offset)
    # each side's tokens: from two before the first difference through one past the differing stretch, at most 10
    lo = max(0, i - 2)
    detail = {
        "offset": offset,
        "context": window(text, offset, marks=False),
        "token_index": i,
        a.name: a.tokens(lo, min(max(end_a, i + 1) + 1, lo + 10)),
        b.name: b.tokens(lo, min(max(end_b, i + 1) + 1, lo + 10)),
    }
    return Divergence(category, message, offset, detail, affected, plural)
