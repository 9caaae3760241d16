"""Explain why two id sequences for the same text differ: where, and which root-cause category.

Categories are tested in this order and the first that holds wins (docs/codes.md):
special-token, bos-eos, truncation, id-mapping, normalization, whitespace, segmentation, unknown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tokaudit.checks.evidence import decode, first_diff, show_bytes, token, visible, window
from tokaudit.findings import SideTokens
from tokaudit.sources.base import Tokenizer

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
WS = frozenset(b" \t\n\r\x0b\x0c")


@dataclass
class Side:
    """One side's ids for a sample, with BOS/EOS split off and each token's bytes."""

    name: str
    tok: Tokenizer
    ids: list[int]
    has_bos: bool = False
    has_eos: bool = False
    core: list[int] = field(default_factory=list)
    surfaces: list[bytes] = field(default_factory=list)

    text_in: str = ""
    padded: int = 0

    def __post_init__(self) -> None:
        ids = self.ids
        pad = self.tok.pad_id
        while pad is not None and self.padded < len(ids) and ids[-1 - self.padded] == pad:
            self.padded += 1
        ids = ids[: len(ids) - self.padded]
        names = self.tok.special_names()
        # BOS/EOS, or any special the post-processor adds ([CLS] ... [SEP]) that the text does not spell.
        first = names.get(ids[0]) if ids else None
        last = names.get(ids[-1]) if len(ids) > 1 else None
        self.has_bos = ids[:1] == [self.tok.bos_id] or (first is not None and not self.text_in.startswith(first))
        self.has_eos = len(ids) > int(self.has_bos) and (
            ids[-1] == self.tok.eos_id or (last is not None and not self.text_in.endswith(last))
        )
        self.core = ids[int(self.has_bos) : len(ids) - int(self.has_eos)]
        self.surfaces = [self.tok.surface(i) or b"" for i in self.core]

    @property
    def text(self) -> bytes:
        return b"".join(self.surfaces)

    def parsed_specials(self) -> Counter[str]:
        """Special tokens that stand for text the sample spells (not an <unk> the model emitted)."""
        names = self.tok.special_names()
        return Counter(names[i] for i in self.core if i in names and names[i] in self.text_in)

    def tokens(self, lo: int, hi: int) -> SideTokens:
        """Core tokens lo..hi as evidence, with whether BOS / EOS were added and the whole length."""
        shown = [token(self.tok, self.core[k], self.surfaces[k]) for k in range(lo, min(hi, len(self.core)))]
        return SideTokens(tokens=shown, bos=self.has_bos, eos=self.has_eos, length=len(self.ids))


def _normalized(side: Side, text: str) -> str | None:
    """The side's normalized text with whitespace (and SentencePiece's "▁") taken out."""
    norm = side.tok.normalize(text)
    return None if norm is None else "".join(norm.replace("▁", " ").split())


def _strip_ws(raw: bytes) -> bytes:
    return bytes(b for b in raw if b not in WS)


@dataclass(frozen=True)
class Divergence:
    """Where two encodings of one text part ways, and the evidence."""

    category: str
    message: str
    offset: int
    detail: dict[str, Any]
    affected: int


def _window(a: list[int], b: list[int]) -> tuple[int, int, int]:
    """First differing index, and the end of the differing stretch on each side."""
    n = min(len(a), len(b))
    i = first_diff(a, b)
    j = 0
    while j < n - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    return i, len(a) - j, len(b) - j


def _region(a: Side, b: Side, i: int, end_a: int, end_b: int) -> tuple[int, int]:
    """End of the first differing stretch: where both sides' token bytes line up again."""
    ka, kb = i, i
    pa = pb = 0
    while ka < end_a or kb < end_b:
        if kb >= end_b or (ka < end_a and pa <= pb):
            pa += len(a.surfaces[ka])
            ka += 1
        else:
            pb += len(b.surfaces[kb])
            kb += 1
        if pa == pb and ka > i and kb > i:
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
    category, message = _categorize(text, a, b, i, end_a, end_b)
    # each side's tokens: from two before the first difference through one past the differing stretch, at most 10
    lo = max(0, i - 2)
    detail = {
        "offset": offset,
        "context": window(text, offset, marks=False),
        "token_index": i,
        a.name: a.tokens(lo, min(max(end_a, i + 1) + 1, lo + 10)),
        b.name: b.tokens(lo, min(max(end_b, i + 1) + 1, lo + 10)),
    }
    return Divergence(category, message, offset, detail, affected)


def _pieces(side: Side, lo: int, hi: int) -> str:
    return "[" + ", ".join(show_bytes(s) for s in side.surfaces[lo:hi][:6]) + "]"


def _categorize(text: str, a: Side, b: Side, i: int, end_a: int, end_b: int) -> tuple[str, str]:
    pa, pb = a.parsed_specials(), b.parsed_specials()
    if pa != pb:
        s = min((k for k in set(pa) | set(pb) if pa[k] != pb[k]), key=lambda k: (text.find(k), k))
        ctl, txt = (a, b) if pa[s] > pb[s] else (b, a)
        return "special-token", (
            f"{s!r} in the text is a control token on {ctl.name} (id {ctl.tok.specials()[s]}) "
            f"but plain text on {txt.name}"
        )
    for flag, what in (("has_bos", "starts with BOS"), ("has_eos", "ends with EOS")):
        if getattr(a, flag) != getattr(b, flag):
            yes, no = (a, b) if getattr(a, flag) else (b, a)
            tid = yes.ids[0] if flag == "has_bos" else yes.ids[len(yes.ids) - 1 - yes.padded]
            return "bos-eos", f"{yes.name} {what} {yes.tok.piece(tid)!r} (id {tid}); {no.name} does not"
    if a.padded != b.padded:
        more, less = (a, b) if a.padded > b.padded else (b, a)
        return "truncation", (
            f"{more.name} pads to {len(more.ids)} tokens with {more.padded} x "
            f"{more.tok.piece(more.ids[-1])!r}; {less.name} does not (a fixed length stored in the tokenizer)"
        )
    ta, tb = a.text, b.text
    short, long_ = (a, b) if len(ta) < len(tb) else (b, a)
    if ta != tb and long_.text.startswith(short.text) and _strip_ws(long_.text[len(short.text) :]):
        return "truncation", (
            f"{short.name} stops after {len(short.ids)} tokens; {long_.name} goes on to the end "
            f"({len(long_.ids)} tokens)"
        )
    if a.surfaces == b.surfaces:
        k = next((k for k in range(len(a.core)) if a.core[k] != b.core[k]), None)
        if k is None:  # the text's ids agree: the sides add a different id as BOS / EOS
            k = next(k for k in range(min(len(a.ids), len(b.ids))) if a.ids[k] != b.ids[k])
            return "id-mapping", (
                f"{a.tok.piece(a.ids[k])!r} (added by the tokenizer) is id {a.ids[k]} on {a.name} "
                f"and id {b.ids[k]} on {b.name}"
            )
        return "id-mapping", f"{decode(a.surfaces[k])!r} is id {a.core[k]} on {a.name} and id {b.core[k]} on {b.name}"
    fallback_a = any(a.tok.is_fallback(t) for t in a.core[i:end_a])
    fallback_b = any(b.tok.is_fallback(t) for t in b.core[i:end_b])
    where = f"at character {_offset(text, a, i)}"
    na, nb = _normalized(a, text), _normalized(b, text)
    if na is not None and nb is not None and na != nb:
        k = next((k for k in range(min(len(na), len(nb))) if na[k] != nb[k]), min(len(na), len(nb)))
        return "normalization", (
            f"the normalizers disagree: {a.name} sees {visible(na[max(0, k - 8) : k + 12])!r}, "
            f"{b.name} sees {visible(nb[max(0, k - 8) : k + 12])!r}"
        )
    if (na is None or nb is None) and ta != tb and _strip_ws(ta) != _strip_ws(tb) and not (fallback_a or fallback_b):
        return "normalization", (
            f"the sides see different text {where}: {a.name} {_pieces(a, i, end_a)} vs {b.name} {_pieces(b, i, end_b)}"
        )
    window_ws = any(WS & set(s) for s in a.surfaces[i:end_a] + b.surfaces[i:end_b])
    if ta != tb and _strip_ws(ta) == _strip_ws(tb) or ta == tb and window_ws and not (fallback_a ^ fallback_b):
        return "whitespace", (
            f"whitespace is tokenized differently {where}: {a.name} {_pieces(a, i, end_a)} vs "
            f"{b.name} {_pieces(b, i, end_b)}"
        )
    if ta == tb and not (fallback_a ^ fallback_b):
        return "segmentation", (
            f"same text, different split {where}: {a.name} {_pieces(a, i, end_a)} vs {b.name} {_pieces(b, i, end_b)}"
        )
    if fallback_a or fallback_b:
        who = " and ".join(s.name for s, f in ((a, fallback_a), (b, fallback_b)) if f)
        return "unknown", f"{who} falls back to unknown or byte tokens {where}"
    return "segmentation", (
        f"the sides split the text differently {where}: {a.name} {_pieces(a, i, end_a)} vs "
        f"{b.name} {_pieces(b, i, end_b)}"
    )
