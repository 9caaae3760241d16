"""The signature of a divergence: what kind of disagreement it is, not which sample it is in.

Two samples whose ids first differ in the same way are one problem: `␣␣ | ␣return` vs `␣␣␣ | return`
and `␣␣␣␣ | ␣self` vs `␣␣␣␣␣ | self` both read `␣|␣a ≠ ␣|a`. The shape is taken over the token before
and the token at the first differing id on each side, with letters, digits and punctuation reduced to
a class and every run of one class to one symbol. Control tokens keep their name (`⟨<s>⟩`) in mask and
template signatures. diff's shapers are made `by_cause`: there the key is the cause, not which special
string or id is involved, so 749 special strings that serving parses and training keeps as text are one
problem, `␣a|␣p ≠ ␣a|␣ …⟨special⟩`; the side's own BOS/EOS/PAD/UNK keep their names (what a tokenizer adds
is a cause of its own), every other control token reads `⟨special⟩`, and `involved` lists the strings for
the finding's detail. Computing it costs a few dict lookups per differing sample; the expensive
explanation (category, evidence) is paid once per new signature.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from itertools import compress, count
from operator import ne

from tokaudit.sources.base import Tokenizer

WHITESPACE = {" ": "␣", "\t": "⇥", "\n": "↵", "\r": "␍"}
START, END = "^", "∅"
#: what diff's signatures call any control token that is not the side's own BOS / EOS / PAD / UNK
SPECIAL = "special"
#: how far past the first differing token a control token on one side only still names the problem
NEAR = 4
#: signatures a Signer remembers
MEMO = 1 << 16


def bounds(a: list[int], b: list[int]) -> tuple[int, int]:
    """(index of the first differing id, length of the common suffix after it): the differing
    stretch is a[i:len(a) - j] against b[i:len(b) - j]."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:  # divergences come early in a sample: a few steps
        i += 1
    if i < n and len(a) == len(b) and a[i + 1 :] == b[i + 1 :]:
        return i, n - i - 1  # one id replaced by another, the usual case: one comparison at C speed
    # the first difference from the end, found by C iterators rather than a Python loop per id
    j = next(compress(count(), map(ne, reversed(a), reversed(b))), n)
    return i, min(j, n - i)


@lru_cache(maxsize=65536)
def _char_class(ch: str) -> str:
    if ch in WHITESPACE:
        return WHITESPACE[ch]
    if ch.isspace():
        return "˽"
    if ch == "\ufffd":
        return "¿"  # a byte-fallback piece that is not valid UTF-8 on its own
    kind = unicodedata.category(ch)[0]
    return {"L": "a", "N": "9", "P": "p", "S": "p", "M": "a"}.get(kind, "x")


def shape_of(raw: bytes) -> str:
    """Letters -> a, digits -> 9, punctuation/symbols -> p, whitespace kept; runs of a class collapse."""
    out: list[str] = []
    for ch in raw.decode("utf-8", errors="replace"):
        c = _char_class(ch)
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out) or "ε"


class Shaper:
    """Token shapes for one side, cached by id (a corpus has few distinct tokens near its divergences)."""

    def __init__(self, tok: Tokenizer, by_cause: bool = False) -> None:
        self.tok = tok
        self.by_cause = by_cause
        #: id -> its string, for `involved`; `names` is what a shape shows
        self.specials = tok.special_names()
        self.names = _cause_names(tok, self.specials) if by_cause else self.specials
        self._cache: dict[int, str] = {}

    def token(self, ids: list[int], k: int) -> str:
        if k < 0:
            return START
        if k >= len(ids):
            return END
        tid = ids[k]
        got = self._cache.get(tid)
        if got is None:
            name = self.names.get(tid)
            got = f"⟨{name}⟩" if name is not None else shape_of(self.tok.surface(tid) or b"")
            self._cache[tid] = got
        return got

    def specials_near(self, ids: list[int], i: int) -> list[str]:
        """The strings of the control tokens just after the divergence."""
        window = ids[i : i + NEAR]
        if self.specials.keys().isdisjoint(window):  # the usual case, at C speed
            return []
        return [self.specials[t] for t in window if t in self.specials]


def _cause_names(tok: Tokenizer, specials: dict[int, str]) -> dict[int, str]:
    """Shown names by cause: the ids the tokenizer adds or emits by role keep their string, the rest are
    `special` (which of them a sample typed is evidence for the detail, not a different problem)."""
    own = {tok.bos_id, tok.eos_id, tok.pad_id}
    return {t: name if t in own or tok.is_fallback(t) else SPECIAL for t, name in specials.items()}


def signature(a: list[int], b: list[int], i: int, sa: Shaper, sb: Shaper) -> str:
    """The shape of the divergence of two id lists that first differ at `i`."""
    shape = f"{sa.token(a, i - 1)}|{sa.token(a, i)} ≠ {sb.token(b, i - 1)}|{sb.token(b, i)}"
    near_a, near_b = sa.specials_near(a, i + 1), sb.specials_near(b, i + 1)
    if not near_a and not near_b:  # most divergences: no control token near, no sets to build
        return shape
    only_a, only_b = set(near_a) - set(near_b), set(near_b) - set(near_a)
    if not (sa.by_cause and sb.by_cause):
        near = sorted(f"⟨{n}⟩" for n in only_a | only_b)
        return shape + (f" {' '.join(near)}" if near else "")
    # by cause: which side has a control token the other has not, never which one
    left, right = f"{sa.token(a, i - 1)}|{sa.token(a, i)}", f"{sb.token(b, i - 1)}|{sb.token(b, i)}"
    after = f" …⟨{SPECIAL}⟩"
    return f"{left}{after if only_a else ''} ≠ {right}{after if only_b else ''}"


def involved(a: list[int], b: list[int], i: int, sa: Shaper, sb: Shaper) -> tuple[str, ...]:
    """The special strings a by-cause signature leaves out: those at the first differing id shown as
    `⟨special⟩`, and those just after it on one side only. Sorted; () when none."""
    out = {sh.specials[ids[i]] for ids, sh in ((a, sa), (b, sb)) if i < len(ids) and sh.names.get(ids[i]) == SPECIAL}
    near_a, near_b = set(sa.specials_near(a, i + 1)), set(sb.specials_near(b, i + 1))
    return tuple(sorted(out | (near_a ^ near_b)))


class Signer:
    """`signature` for one pair of sides, memoised: with no control token near the divergence a
    signature depends only on the ids before and at it on each side, so a corpus's few hundred
    thousand differing samples cost one dict lookup each and a few hundred real computations."""

    def __init__(self, sa: Shaper, sb: Shaper) -> None:
        self.sa, self.sb = sa, sb
        self._names = sa.specials.keys(), sb.specials.keys()
        self._memo: dict[tuple[int, int, int, int], str] = {}

    def __call__(self, a: list[int], b: list[int], i: int) -> str:
        sa, sb = self.sa, self.sb
        # specials_near's window, tested at C speed: which control token is involved is part of it
        if not (
            self._names[0].isdisjoint(a[i + 1 : i + 1 + NEAR]) and self._names[1].isdisjoint(b[i + 1 : i + 1 + NEAR])
        ):
            return signature(a, b, i, sa, sb)
        # -1 and -2 stand for the start and the end (START, END), which no id equals
        key = (a[i - 1] if i else -1, a[i] if i < len(a) else -2, b[i - 1] if i else -1, b[i] if i < len(b) else -2)
        got = self._memo.get(key)
        if got is None:
            got = signature(a, b, i, sa, sb)
            if len(self._memo) < MEMO:  # bounded, so memory does not follow the corpus
                self._memo[key] = got
        return got


def error_signature(failed: str, error: str) -> str:
    """A library's refusal, by side and exception type (and the quoted token it names, if any)."""
    kind, _, rest = error.partition(":")
    quoted = rest.split("'")[1] if rest.count("'") >= 2 else ""
    return f"{failed} refuses: {kind.strip()}" + (f" {quoted!r}" if quoted and len(quoted) <= 40 else "")
