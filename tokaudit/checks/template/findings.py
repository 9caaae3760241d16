"""template-check's codes by name and its message builders; severity, category and hint live in tokaudit.codes."""

from __future__ import annotations

from typing import Any

from tokaudit.checks.evidence import window

TEXT, TOKENS, TEXT_SAME_IDS = "TA301", "TA302", "TA303"
DOUBLE_BOS, PROMPT_TEXT, PROMPT_TOKENS = "TA304", "TA305", "TA306"
INJECTION, INJECTION_BOTH, REFUSED = "TA307", "TA308", "TA309"


def rendering_message(code: str, view: str, detail: dict[str, Any], texts: tuple[str, str]) -> str:
    """The sentence for TA301/TA302/TA303."""
    if code == TOKENS:
        i = detail["token_index"]
        a, b = (detail[s]["tokens"][min(2, i) :][:4] for s in ("training", "serving"))
        return (
            f"both sides render the same text for the {view} but tokenize it differently from token {i}: "
            f"training {_pieces(a)} vs serving {_pieces(b)}"
        )
    k = detail["offset"]
    a, b = (window(t, k, 16) for t in texts)
    tail = "; the token ids are the same" if code == TEXT_SAME_IDS else ""
    return (
        f"training and serving render the {view} differently from character {k}: training {a!r} vs serving {b!r}{tail}"
    )


def _pieces(tokens: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(t["text"] or t["piece"] for t in tokens) + "]"
