"""The evidence every check shows: where two sequences part, the text around it with whitespace made
visible, and tokens as {id, piece, text} (`TokenView`, `SideTokens` in tokaudit.findings)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tokaudit.findings import SideTokens, TokenView
from tokaudit.sources.base import Tokenizer

T = TypeVar("T")
#: characters shown on each side of an offset
WIDTH = 24
_MAP = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "\u00a0": "⍽"}


def visible(text: str) -> str:
    """`a b\\n` -> `a␣b⏎`; zero-width and control characters become <U+200B>."""
    out = []
    for ch in text:
        if ch in _MAP:
            out.append(_MAP[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs"):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    return "".join(out)


def decode(raw: bytes) -> str:
    """A token's bytes as text; bytes that are not UTF-8 on their own (part of a character) as \\xNN."""
    return raw.decode("utf-8", errors="backslashreplace")


def show_bytes(raw: bytes | None) -> str:
    """Bytes as a person reads them: text with whitespace made visible, other bytes as \\xNN."""
    return "(no token)" if raw is None else visible(decode(raw))


def first_diff(a: Sequence[T], b: Sequence[T]) -> int:
    """Index of the first differing item (characters or ids); the shorter length if one is a prefix."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def window(text: str, k: int, width: int = WIDTH, *, marks: bool = True) -> str:
    """`…text before▶text after…` around character k, whitespace made visible.

    `marks=False` leaves out the `…` where the text goes on and the `(end)` after its last character.
    """
    before, after = visible(text[max(0, k - width) : k]), visible(text[k : k + width])
    if not marks:
        return f"{before}▶{after}"
    left = ("…" if k > width else "") + before
    right = after + ("…" if len(text) > k + width else "")
    return f"{left}▶{right or '(end)'}"


def token(tok: Tokenizer, tid: int, raw: bytes | None = None) -> TokenView:
    """Token `tid`: its id, the library's piece, the text its bytes stand for (`raw`, if the caller has them)."""
    shown = show_bytes((tok.surface(tid) or b"") if raw is None else raw)
    return TokenView(id=tid, piece=tok.piece(tid), text=shown)


def piece_token(tok: Tokenizer, tid: int) -> TokenView:
    """Token `tid` with its piece, whitespace made visible, as the text (mask-check's skew evidence)."""
    piece = tok.piece(tid)
    return TokenView(id=tid, piece=piece, text=visible(piece))


View = Callable[[Tokenizer, int], TokenView]


def tokens_around(
    tok: Tokenizer, ids: Sequence[int], i: int, *, before: int = 2, after: int = 6, view: View = token
) -> list[TokenView]:
    """The tokens from `before` ahead of index i to `after` past it."""
    return [view(tok, t) for t in ids[max(0, i - before) : i + after]]


def side_tokens(tok: Tokenizer, ids: Sequence[int], i: int, *, view: View = token) -> SideTokens:
    """One side's tokens around index i, and its length."""
    return SideTokens(tokens=tokens_around(tok, ids, i, view=view), length=len(ids))


def aligned_tokens(
    sides: tuple[tuple[str, Tokenizer, Sequence[int]], tuple[str, Tokenizer, Sequence[int]]],
    *,
    view: View = token,
) -> dict[str, Any]:
    """`token_index` (the first differing id) and each side's tokens around it, under the side's name."""
    (na, ta, ia), (nb, tb, ib) = sides
    i = first_diff(ia, ib)
    return {"token_index": i, na: side_tokens(ta, ia, i, view=view), nb: side_tokens(tb, ib, i, view=view)}
