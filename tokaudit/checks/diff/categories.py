"""The decision table of docs/codes.md: each root-cause category as a test on the first differing stretch.

A sample's category is decided where its ids first part ways, never by what happens elsewhere in the
sample: the first differing stretch (`Stretch`, one per side) starts at the first differing token and ends
where both sides' token bytes line up again. The rules are tried in the table's order; the first that
holds wins. Each rule only reads the two stretches (and, for bos-eos / truncation / id-mapping, the ids
the tokenizers add around the text), so a test can state it on the tokens a finding shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from tokaudit.checks.evidence import decode, show_bytes, visible

if TYPE_CHECKING:
    from tokaudit.checks.diff.side import Side

#: docs/codes.md's decision table, in its order: bos-eos (and id-mapping / truncation of the tokens a
#: tokenizer adds) where the first differing id is an added one, then the rules on the text's own tokens.
#: CATEGORIES keeps the report's order.
DECISION_ORDER = (
    "bos-eos",
    "special-token",
    "truncation",
    "id-mapping",
    "normalization",
    "unknown",
    "whitespace",
    "segmentation",
)
WS = frozenset(b" \t\n\r\x0b\x0c")


def strip_ws(raw: bytes) -> bytes:
    return bytes(b for b in raw if b not in WS)


@dataclass(frozen=True)
class Stretch:
    """One side's tokens in the first differing stretch: their bytes, the control tokens among them that
    stand for text the sample spells, and how many are `<unk>` / byte-fallback tokens."""

    pieces: tuple[bytes, ...]
    controls: Counter[str]
    fallback: int

    @classmethod
    def of(cls, side: Side, lo: int, hi: int) -> Stretch:
        ids = side.core[lo:hi]
        names = side.tok.special_names()
        spelled = [t in names and names[t] in side.text_in for t in ids]
        controls = Counter(names[t] for t, s in zip(ids, spelled) if s)
        # an `<unk>` the model emits for text it cannot spell is a fallback, not a control token; a byte
        # piece for whitespace (SentencePiece's <0x0A> for a newline) is how the model spells it, not a fallback
        fallback = sum(
            1
            for t, s, raw in zip(ids, spelled, side.surfaces[lo:hi])
            if not s and side.tok.is_fallback(t) and (not raw or strip_ws(raw))
        )
        return cls(tuple(side.surfaces[lo:hi]), controls, fallback)

    @property
    def raw(self) -> bytes:
        return b"".join(self.pieces)

    def whitespace_cuts(self) -> frozenset[int]:
        """Byte offsets (inside the stretch) of the token boundaries that touch whitespace: where this side
        puts a space in a token of its own, merges it into the next word, or splits a run."""
        raw, out, pos = self.raw, set(), 0
        for piece in self.pieces[:-1]:
            pos += len(piece)
            if (pos > 0 and raw[pos - 1] in WS) or (pos < len(raw) and raw[pos] in WS):
                out.add(pos)
        return frozenset(out)


def _normalized(side: Side, text: str) -> str | None:
    """The side's normalized text with whitespace (and SentencePiece's "▁") taken out."""
    norm = side.tok.normalize(text)
    return None if norm is None else "".join(norm.replace("▁", " ").split())


def _pieces(s: Stretch) -> str:
    return "[" + ", ".join(show_bytes(p) for p in s.pieces[:6]) + "]"


class Verdict(NamedTuple):
    """A category, its message, and the message for a group of many special strings (a format with {n} and
    {examples}; None where the generic wording fits)."""

    category: str
    message: str
    plural: str | None = None


def categorize(text: str, a: Side, b: Side, i: int, end_a: int, end_b: int, offset: int) -> Verdict:
    """The verdict for two sides whose core ids first differ at `i`; the first differing stretch is
    a.core[i:end_a] against b.core[i:end_b], and starts at character `offset` of the text.

    The first differing id is where the signature is taken, so it decides: before the text's tokens (the
    BOS a tokenizer adds), inside them (the stretch), or after them (the text's tokens agree)."""
    # before the text: BOS (or [CLS], any special the text does not spell) on one side only, or another id
    if a.has_bos != b.has_bos:
        return _added(a, b, "has_bos", "starts with BOS")
    if a.has_bos and a.ids[0] != b.ids[0]:
        return _other_id(a, b)
    # after the text: its tokens agree, and what the tokenizers add after them does not
    if a.core == b.core:
        if a.has_eos != b.has_eos:
            return _added(a, b, "has_eos", "ends with EOS")
        if a.padded != b.padded:
            more, less = (a, b) if a.padded > b.padded else (b, a)
            return Verdict(
                "truncation",
                f"{more.name} pads to {len(more.ids)} tokens with {more.padded} x "
                f"{more.tok.piece(more.ids[-1])!r}; {less.name} does not (a fixed length stored in the tokenizer)",
            )
        return _other_id(a, b)
    return _in_text(text, a, b, i, end_a, end_b, offset)


def _added(a: Side, b: Side, flag: str, what: str) -> Verdict:
    yes, no = (a, b) if getattr(a, flag) else (b, a)
    tid = yes.ids[0] if flag == "has_bos" else yes.ids[len(yes.ids) - 1 - yes.padded]
    return Verdict("bos-eos", f"{yes.name} {what} {yes.tok.piece(tid)!r} (id {tid}); {no.name} does not")


def _other_id(a: Side, b: Side) -> Verdict:
    """id-mapping of a token both tokenizers add (BOS / EOS) under other ids."""
    k = next(k for k in range(min(len(a.ids), len(b.ids))) if a.ids[k] != b.ids[k])
    return Verdict(
        "id-mapping",
        f"{a.tok.piece(a.ids[k])!r} (added by the tokenizer) is id {a.ids[k]} on {a.name} "
        f"and id {b.ids[k]} on {b.name}",
    )


def _in_text(text: str, a: Side, b: Side, i: int, end_a: int, end_b: int, offset: int) -> Verdict:
    """The rules on the first differing stretch of the text's own tokens, in DECISION_ORDER."""
    sa, sb = Stretch.of(a, i, end_a), Stretch.of(b, i, end_b)
    where = f"at character {offset}"
    both = f"{a.name} {_pieces(sa)} vs {b.name} {_pieces(sb)}"
    # 1. special-token: a control token for text the sample spells is in one side's stretch only
    if sa.controls != sb.controls:
        odd = [k for k in sa.controls | sb.controls if sa.controls[k] != sb.controls[k]]
        s = min(odd, key=lambda k: (text.find(k), k))
        ctl, txt = (a, b) if sa.controls[s] > sb.controls[s] else (b, a)
        return Verdict(
            "special-token",
            f"{s!r} in the text is a control token on {ctl.name} (id {ctl.tok.specials()[s]}) "
            f"but plain text on {txt.name}",
            f"{{n}} special strings typed in text are control tokens on {ctl.name} and plain text on "
            f"{txt.name} ({{examples}})",
        )
    # 2. truncation: one side's tokens stop at the first difference, the other's go on with more than whitespace
    short, long_ = (a, b) if len(a.core) <= len(b.core) else (b, a)
    if i >= len(short.core) and strip_ws(b"".join(long_.surfaces[i:])):
        return Verdict(
            "truncation",
            f"{short.name} stops after {len(short.ids)} tokens; {long_.name} goes on to the end "
            f"({len(long_.ids)} tokens)",
        )
    # 3. id-mapping: the first differing tokens are the same bytes (or the same special) under other ids
    if i < len(a.core) and i < len(b.core) and _same_token(a, b, i):
        message = f"{decode(a.surfaces[i])!r} is id {a.core[i]} on {a.name} and id {b.core[i]} on {b.name}"
        typed = a.core[i] in a.tok.special_names()
        plural = "{n} special strings are control tokens on both sides under other ids ({examples})"
        return Verdict("id-mapping", message, plural if typed else None)
    # 4. normalization: both sides expose their normalizer and it gives other text for the stretch's text
    span = text[offset : offset + max(len(decode(sa.raw)), len(decode(sb.raw)), 1)]
    na, nb = _normalized(a, span), _normalized(b, span)
    if na is not None and nb is not None and na != nb:
        k = next((k for k in range(min(len(na), len(nb))) if na[k] != nb[k]), min(len(na), len(nb)))
        return Verdict(
            "normalization",
            f"the normalizers disagree {where}: {a.name} sees {visible(na[max(0, k - 8) : k + 12])!r}, "
            f"{b.name} sees {visible(nb[max(0, k - 8) : k + 12])!r}",
        )
    # 5. unknown: `<unk>` or byte-fallback tokens in a stretch (where both sides fall back alike, the
    # tokens agree and are not in it)
    if sa.fallback or sb.fallback:
        who = " and ".join(side.name for side, st in ((a, sa), (b, sb)) if st.fallback)
        verb = "fall" if sa.fallback and sb.fallback else "falls"
        return Verdict("unknown", f"{who} {verb} back to unknown or byte tokens {where}: {both}")
    # 5b. normalization where a library exposes no normalizer: the stretches stand for other text, beyond
    # whitespace
    if strip_ws(sa.raw) != strip_ws(sb.raw):
        return Verdict("normalization", f"the sides see different text {where}: {both}")
    # 6. whitespace: the whitespace bytes differ, or the sides cut next to whitespace at other places
    if sa.raw != sb.raw or sa.whitespace_cuts() != sb.whitespace_cuts():
        return Verdict("whitespace", f"whitespace is tokenized differently {where}: {both}")
    # 7. segmentation: the same bytes and whitespace placement, other boundaries inside the words
    return Verdict("segmentation", f"same text, different split {where}: {both}")


def _same_token(a: Side, b: Side, i: int) -> bool:
    pa, pb = a.surfaces[i], b.surfaces[i]
    if pa != pb:
        return False
    na, nb = a.tok.special_names().get(a.core[i]), b.tok.special_names().get(b.core[i])
    return bool(pa) or (na is not None and na == nb)
