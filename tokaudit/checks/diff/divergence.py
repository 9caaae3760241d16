"""Explain why two id sequences for the same text differ: where, and which root-cause category.

The category is decided on the first differing stretch by `categories.categorize` (the decision table
of docs/codes.md); this module finds the stretch and builds the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokaudit.checks.diff.categories import categorize, strip_ws
from tokaudit.checks.diff.side import Side
from tokaudit.checks.evidence import decode, first_diff, window

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
