"""Why one id sequence does not continue another: the first divergence and its cause.

Append-only (turn k's prompt must start with turn k-1's prompt + completion), re-render (the trainer's
rendering must start with each turn's prompt + completion) and template-check's prefix property all ask
"is `before` a prefix of `after`?". Where it is not, the cause comes from the text the two spell from the
first differing id on: the same text is a re-encoded merge (BPE merged across the old end); otherwise the
first edit between the texts says it: reasoning (`<think>`…, a message's `reasoning_content`) removed, an
end-of-turn token changed, only whitespace changed, a short separator changed, or other content changed
(a tool call's arguments re-serialized). Computed once per distinct problem, on its first example.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from tokaudit.checks.evidence import first_diff, visible
from tokaudit.sources.base import Tokenizer

#: the text of the two sides compared, past the divergence (enough for any one edit that matters)
TEXT = 4000
#: reasoning as chat templates write it
REASONING = ("<think>", "</think>", "<|channel|>analysis", "<reasoning>", "</reasoning>")
#: end-of-turn strings of the common formats (the tokenizer's EOS is added per side)
END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|return|>")
#: a changed span this short, with no letter or digit (and not whitespace, reasoning or an end of turn), is a separator
SEPARATOR = 8

MERGE = "re-encoded merge"
REASONING_DROPPED = "reasoning dropped"
END_CHANGED = "end-of-turn token changed"
WHITESPACE = "whitespace"
SEPARATOR_CHANGED = "separator changed"
CONTENT = "content changed"


@dataclass(frozen=True)
class Break:
    """Where `after` stops continuing `before`, and why."""

    index: int  # the first differing id
    cause: str
    removed: str  # text of `before` the edit removes (whitespace made visible)
    added: str  # text `after` has there instead

    def says(self) -> str:
        """The edit as a person reads it: `'<think>⏎…' removed`, `'⏎' → '⏎⏎'`."""
        if self.cause == MERGE:
            return "the same text, encoded to other ids"
        if self.removed and self.added:
            return f"{_short(self.removed)!r} became {_short(self.added)!r}"
        if self.removed:
            return f"{_short(self.removed)!r} is gone"
        return f"{_short(self.added)!r} is added"


def prefix_break(before: Sequence[int], after: Sequence[int]) -> int | None:
    """The first index where `after` does not repeat `before`, or None when `before` is a prefix of it."""
    n = len(before)
    if len(after) >= n and list(after[:n]) == list(before):
        return None
    return first_diff(before, after)


def explain(
    tok: Tokenizer, before: Sequence[int], after: Sequence[int], index: int, reasoning: Sequence[str] = ()
) -> Break:
    """The cause of the break at `index` (`prefix_break`); `reasoning` are the conversation's reasoning texts."""
    a = _text(tok, before[index:])
    b = _text(tok, after[index:])
    if b.startswith(a) or (a.startswith(b) and len(after) <= len(before)):
        return Break(index, MERGE, "", "")
    removed, added = _edit(a[:TEXT], b[:TEXT])
    return Break(index, cause(removed, added, tok, reasoning), visible(removed), visible(added))


def cause(removed: str, added: str, tok: Tokenizer | None = None, reasoning: Sequence[str] = ()) -> str:
    """The cause of one text edit (what `before` had, what `after` has instead)."""
    gone = removed.strip()
    if any(m in removed for m in REASONING) or any(r.strip() and r.strip() in gone for r in reasoning):
        return REASONING_DROPPED
    if not gone and not added.strip():
        return WHITESPACE
    ends = set(END_OF_TURN)
    if tok is not None and tok.eos_id is not None:
        ends.add(tok.special_names().get(tok.eos_id, ""))
    if any(e and (e in removed) != (e in added) for e in ends):
        return END_CHANGED
    if len(removed) <= SEPARATOR and len(added) <= SEPARATOR and not any(ch.isalnum() for ch in removed + added):
        return SEPARATOR_CHANGED
    return CONTENT


def _text(tok: Tokenizer, ids: Sequence[int]) -> str:
    return b"".join(tok.surface(i) or b"" for i in ids[: TEXT // 2]).decode("utf-8", errors="replace")


def _edit(a: str, b: str) -> tuple[str, str]:
    """The first edit turning `a` into a prefix of `b`: (text removed, text added). A pure removal or
    addition is slid back over the text before it where it can be (`<t|hink>…<t` → `|<think>…`), so it
    starts where a person would say it does."""
    k = first_diff(a, b)
    matcher = difflib.SequenceMatcher(None, a[k:], b[k:], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        at, removed, added = k + i1, a[k + i1 : k + i2], b[k + j1 : k + j2]
        moved = removed or added
        if bool(removed) != bool(added):
            while at > 0 and a[at - 1] == moved[-1]:
                moved, at = a[at - 1] + moved[:-1], at - 1
            return (moved, "") if removed else ("", moved)
        return removed, added
    return "", ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
