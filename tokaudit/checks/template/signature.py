"""template-check's signatures: what kind of problem a conversation shows, not which conversation.

Text: where two renderings part, the common text just before (its last two units, or back to a
control string) and each side's first unit from there. A unit is a control string, kept by name
(`⟨[/INST]⟩`), or a run of one character class as diff's `shape_of` reduces it (letters `a`, digits `9`,
punctuation `p`, whitespace visible). So every conversation whose serving side drops the space after
`[/INST]` reads `⟨[/INST]⟩▶␣ ≠ ⟨[/INST]⟩▶a`, whatever the reply says. Ids: diff's own signature of the
first differing id. A template's refusal: its message with numbers generalized.
"""

from __future__ import annotations

import re

from tokaudit.checks.diff.signature import END, START, Shaper, bounds, shape_of, signature

#: characters looked at on each side of the first difference (the longest control string fits)
REACH = 48
_NUMBER = re.compile(r"\d+")


def text_shape(a: str, b: str, k: int, controls: re.Pattern[str]) -> str:
    """The shape of two texts that first differ at character `k`."""
    k = _outside_controls((a, b), k, controls)
    before = _units(a[max(0, k - REACH) : k], controls)
    kept: list[str] = []
    for unit in reversed(before):
        kept.insert(0, unit)
        if len(kept) == 2 or unit.startswith("⟨"):
            break
    head = "".join(kept) or START
    sides = [(_units(t[k : k + REACH], controls) or [END])[0] for t in (a, b)]
    return f"{head}▶{sides[0]} ≠ {head}▶{sides[1]}"


def ids_shape(a: list[int], b: list[int], sa: Shaper, sb: Shaper) -> str:
    """diff's signature of two id lists (the token before and at the first differing id, each side)."""
    i, _ = bounds(a, b)
    return signature(a, b, i, sa, sb)


def error_shape(error: str) -> str:
    """A template's error message with its numbers generalized, cut to one short line."""
    line = (error.strip().splitlines() or [""])[0]
    line = _NUMBER.sub("9", line)
    return line if len(line) <= 120 else line[:119] + "…"


def _outside_controls(texts: tuple[str, str], k: int, controls: re.Pattern[str]) -> int:
    """Move `k` back to the start of a control string it falls inside on either side (`<|im_▶end|>`
    against `<|im_▶start|>` is a difference of control strings)."""
    for text in texts:
        lo = max(0, k - REACH)
        for m in controls.finditer(text, lo, k + REACH):
            if m.start() < k < m.end():
                k = m.start()
    return k


def _units(text: str, controls: re.Pattern[str]) -> list[str]:
    out: list[str] = []
    pos = 0
    for m in controls.finditer(text):
        out += _shape(text[pos : m.start()])
        out.append(f"⟨{m.group()}⟩")
        pos = m.end()
    return out + _shape(text[pos:])


def _shape(text: str) -> list[str]:
    return list(shape_of(text.encode("utf-8"))) if text else []
