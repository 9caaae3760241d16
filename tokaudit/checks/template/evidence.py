"""Evidence for template-check findings: where two renderings part, shown with visible whitespace."""

from __future__ import annotations

from typing import Any

from tokaudit.sources.base import Tokenizer
from tokaudit.visible import visible

WIDTH = 24


def first_diff(a: str, b: str) -> int:
    """Index of the first differing character (the shorter length if one is a prefix of the other)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def first_diff_ids(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def window(text: str, k: int, width: int = WIDTH) -> str:
    """`…text before▶text after…` around character k, whitespace made visible."""
    left = ("…" if k > width else "") + visible(text[max(0, k - width) : k])
    right = visible(text[k : k + width]) + ("…" if len(text) > k + width else "")
    return f"{left}▶{right or '(end)'}"


def tokens(tok: Tokenizer, ids: list[int], i: int, before: int = 2, after: int = 6) -> list[dict[str, Any]]:
    """The tokens around index i: id, the library's piece, the text it stands for."""
    out = []
    for t in ids[max(0, i - before) : i + after]:
        raw = tok.surface(t) or b""
        out.append({"id": t, "piece": tok.piece(t), "text": visible(raw.decode("utf-8", errors="backslashreplace"))})
    return out


def text_detail(names: tuple[str, str], texts: tuple[str, str]) -> dict[str, Any]:
    """The first character difference of two texts, both sides' windows and a side-by-side view."""
    k = first_diff(*texts)
    wa, wb = window(texts[0], k), window(texts[1], k)
    pad = max(len(n) for n in names)
    return {
        "offset": k,
        "context": f"{names[0]} {wa}  ‖  {names[1]} {wb}",
        "side_by_side": [f"{names[0]:<{pad}} │ {wa}", f"{names[1]:<{pad}} │ {wb}"],
    }


def ids_detail(
    sides: tuple[tuple[str, Tokenizer, list[int]], tuple[str, Tokenizer, list[int]]],
) -> dict[str, Any]:
    """Both sides' tokens around the first differing id (the shape the table formatter draws)."""
    (na, ta, ia), (nb, tb, ib) = sides
    i = first_diff_ids(ia, ib)
    return {
        "token_index": i,
        na: {"tokens": tokens(ta, ia, i), "length": len(ia)},
        nb: {"tokens": tokens(tb, ib, i), "length": len(ib)},
    }


def short(text: str, limit: int = 600) -> str:
    """A rendering for the evidence: visible whitespace, cut in the middle if long."""
    shown = visible(text)
    return shown if len(shown) <= limit else shown[: limit // 2] + " … " + shown[-limit // 2 :]
