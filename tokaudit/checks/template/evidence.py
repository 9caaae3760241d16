"""template-check's own evidence: two renderings side by side, and a rendering cut to a readable length.

The shared pieces (first difference, windows, tokens) are in tokaudit.checks.evidence.
"""

from __future__ import annotations

from typing import Any

from tokaudit.checks.evidence import first_diff, visible, window


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


def short(text: str, limit: int = 600) -> str:
    """A rendering for the evidence: visible whitespace, cut in the middle if long."""
    shown = visible(text)
    return shown if len(shown) <= limit else shown[: limit // 2] + " … " + shown[-limit // 2 :]
