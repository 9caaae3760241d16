"""Round trip: does decode → encode on the training side give back the ids the engine sampled?

A trainer that keeps text (not ids) trains on `encode(decode(completion_ids))`. Where that is not the
sampled ids, the cause is one of: special tokens dropped by `skip_special_tokens`, a completion cut inside
a multi-byte character (`max_tokens`), the decode changing the text (clean-up of spaces, normalisation),
or the same text split otherwise (the model emitted a non-canonical split such as `_Ski` + `nny`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokaudit.checks.evidence import first_diff, visible, window
from tokaudit.sources.base import Tokenizer

NON_CANONICAL = "non-canonical split"
SPECIAL_LOST = "special token lost"
CHARACTER_CUT = "character cut"
CLEAN_UP = "decode changes the text"
NON_CANONICAL_CODE, SPECIAL_LOST_CODE, CHARACTER_CUT_CODE, CLEAN_UP_CODE = "TA701", "TA702", "TA703", "TA704"
#: the code of each cause
CODES = {
    NON_CANONICAL: NON_CANONICAL_CODE,
    SPECIAL_LOST: SPECIAL_LOST_CODE,
    CHARACTER_CUT: CHARACTER_CUT_CODE,
    CLEAN_UP: CLEAN_UP_CODE,
}


@dataclass(frozen=True)
class Trip:
    """One completion that does not survive the round trip."""

    cause: str
    index: int  # the first sampled id the re-encoding does not give back
    text: str  # the decoded text


def classify(tok: Tokenizer, sampled: Sequence[int], text: str, again: Sequence[int], skip_special: bool) -> Trip:
    """Why `again` (= encode(decode(sampled)) = encode(text)) is not `sampled`."""
    i = first_diff(sampled, again)
    raw = b"".join(tok.surface(t) or b"" for t in sampled)
    names = tok.special_names()
    if (
        skip_special
        and any(t in names for t in sampled)
        and sum(t in names for t in again) < sum(t in names for t in sampled)
    ):
        return Trip(SPECIAL_LOST, i, text)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return Trip(CHARACTER_CUT, i, text)
    if raw == b"".join(tok.surface(t) or b"" for t in again):
        return Trip(NON_CANONICAL, i, text)
    return Trip(CLEAN_UP, i, text)


def message(trip: Trip, turn: int, sampled_text: str) -> str:
    """One sentence for the finding."""
    at = f"turn {turn + 1}'s completion"
    if trip.cause == SPECIAL_LOST:
        return f"{at} loses its special tokens on decode (skip_special_tokens), so re-encoding drops their ids"
    if trip.cause == CHARACTER_CUT:
        return f"{at} ends inside a multi-byte character: decode makes it U+FFFD, which encodes to other ids"
    if trip.cause == NON_CANONICAL:
        return (
            f"{at} is not the tokenizer's own split of its text: re-encoding the same text gives other ids "
            f"from token {trip.index}"
        )
    k = first_diff(sampled_text, trip.text)
    return f"{at} decodes to other text than its tokens spell ({window(sampled_text, k)} vs {window(trip.text, k)})"


def surface_text(tok: Tokenizer, ids: Sequence[int]) -> str:
    """The text the ids spell, byte for byte (specials as their strings), whitespace made visible."""
    return visible(b"".join(tok.surface(t) or b"" for t in ids).decode("utf-8", errors="replace"))
