"""Make whitespace and invisible characters visible in text shown to a person."""

from __future__ import annotations

import unicodedata

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
