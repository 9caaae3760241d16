"""mask-check's ground truth: which tokens of the serving tokenization the assistant writes.

Each message's content is found in the rendered text by rendering once more with a sentinel in place
of every content; an assistant span runs over its content and the end-of-turn token the template
writes after it, and spans map to tokens through the tokenizer's character offsets. docs/mask.md
states the rules; `train_on` picks which parts of an assistant turn count as trained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tokaudit.sources.base import Tokenizer

Span = tuple[int, int]
Message = dict[str, Any]

#: The parts of an assistant turn, in text order. `header`: the role header the template writes before the
#: content; `end-of-turn`: whitespace after the content up to and including the end-of-turn token;
#: `whitespace`: whitespace the template writes after that token.
PARTS = ("header", "content", "end-of-turn", "whitespace")
DEFAULT_TRAIN_ON = ("content", "end-of-turn")


class LayoutError(Exception):
    """The messages cannot be located in the rendered text; str(exc) says why."""


@dataclass(frozen=True)
class Turn:
    """One message's place in the rendered text (character spans)."""

    index: int
    role: str
    header: Span
    content: Span
    eot: Span
    trail: Span

    def part(self, name: str) -> Span:
        return {"header": self.header, "content": self.content, "end-of-turn": self.eot, "whitespace": self.trail}[name]

    def trained(self, train_on: Iterable[str]) -> Span | None:
        """The one contiguous character span `train_on` selects (parts are adjacent), or None if empty."""
        spans = [self.part(p) for p in train_on if self.part(p)[1] > self.part(p)[0]]
        return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else None


@dataclass(frozen=True)
class Layout:
    """The rendered text and every message found in it, in text order."""

    text: str
    turns: tuple[Turn, ...]

    def turn(self, index: int) -> Turn | None:
        return next((t for t in self.turns if t.index == index), None)

    def assistant(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "assistant"]


def sentinel(i: int) -> str:
    # Private-use characters: no template strips or escapes them, no message contains them.
    return f"\ue000{i}\ue001"


def locate(render: Callable[[list[Message]], str], messages: list[Message], text: str, eot: Iterable[str]) -> Layout:
    """Find each message in `text` (the real rendering). `eot`: strings that may end a turn (the control tokens)."""
    for i, m in enumerate(messages):
        if not isinstance(m.get("content"), str):
            raise LayoutError(f"message {i} ({m.get('role')}) has no text content (tool calls or content parts)")
    skeleton = render([{**m, "content": sentinel(i)} for i, m in enumerate(messages)])
    found = []
    for i in range(len(messages)):
        count = skeleton.count(sentinel(i))
        if count > 1:
            raise LayoutError(f"the template writes message {i}'s content {count} times")
        if count == 1:
            found.append((skeleton.index(sentinel(i)), i))
    found.sort()
    pieces, pos = [], 0
    for k, i in found:
        pieces.append(skeleton[pos:k])
        pos = k + len(sentinel(i))
    pieces.append(skeleton[pos:])
    if not text.startswith(pieces[0]):
        raise LayoutError("the template writes something else when the contents change")
    contents: list[tuple[int, Span]] = []
    pos = len(pieces[0])
    for j, (_, i) in enumerate(found):
        c = messages[i]["content"]
        for cand in dict.fromkeys((c, c.strip(), c.lstrip(), c.rstrip())):
            end = pos + len(cand)
            if text.startswith(cand, pos) and text.startswith(pieces[j + 1], end):
                break
        else:
            raise LayoutError(f"the template rewrites message {i}'s content in a way mask-check cannot follow")
        contents.append((i, (pos, end)))
        pos = end + len(pieces[j + 1])
    if pos != len(text):
        raise LayoutError("the rendered text does not match the template's structure")
    return Layout(text, tuple(_turns(text, messages, contents, sorted(set(eot) - {""}, key=len, reverse=True))))


def _turns(text: str, messages: list[Message], contents: list[tuple[int, Span]], eot: list[str]) -> list[Turn]:
    turns: list[Turn] = []
    prev_end = 0
    for j, (i, (cs, ce)) in enumerate(contents):
        limit = contents[j + 1][1][0] if j + 1 < len(contents) else len(text)
        k = _skip_ws(text, ce, limit)
        mark = next((s for s in eot if text.startswith(s, k) and k + len(s) <= limit), None)
        eot_end = k + len(mark) if mark else ce
        trail_end = _skip_ws(text, eot_end, limit) if mark else eot_end
        header_start = min(_skip_ws(text, prev_end, cs), cs) if j else 0
        turns.append(
            Turn(i, str(messages[i].get("role")), (header_start, cs), (cs, ce), (ce, eot_end), (eot_end, trail_end))
        )
        prev_end = trail_end if mark else _skip_ws(text, ce, limit)
    return turns


def _skip_ws(text: str, pos: int, limit: int) -> int:
    while pos < limit and text[pos].isspace():
        pos += 1
    return pos


def eot_strings(tok: Tokenizer) -> list[str]:
    """Control strings that can end a turn: every special token but BOS."""
    names = tok.special_names()
    bos = names.get(tok.bos_id) if tok.bos_id is not None else None
    return [s for s in tok.specials() if s and s != bos]


# -- tokens ---------------------------------------------------------------------------------------
def offsets_for(tok: Tokenizer, text: str, ids: list[int], add_special: bool) -> list[Span] | None:
    """Each id's character span in `text`: the library's own offsets where it has them, else by walking the
    ids' bytes along the text (a space the tokenizer adds, like SentencePiece's dummy prefix, is skipped)."""
    got = tok.encode_offsets(text, add_special)
    if got is not None and got[0] == ids:
        return got[1]
    return _align(tok, text, ids)


def _align(tok: Tokenizer, text: str, ids: list[int]) -> list[Span] | None:
    data = text.encode("utf-8")
    char_of: list[int] = []
    for ci, ch in enumerate(text):
        char_of += [ci] * len(ch.encode("utf-8"))
    char_of.append(len(text))
    specials = tok.special_names()
    out: list[Span] = []
    j = 0
    for tid in ids:
        surface = tok.surface(tid) or b""
        start = j
        if tid in specials and not data.startswith(surface, j):
            out.append((char_of[j], char_of[j]))  # a control token the tokenizer adds (BOS), not in the text
            continue
        for byte in surface:
            if j < len(data) and data[j] == byte:
                j += 1
            elif byte != 0x20:
                return None
        out.append((char_of[start], char_of[j - 1] + 1 if j > start else char_of[start]))
    return out if j == len(data) else None


@dataclass(frozen=True)
class Truth:
    """The serving tokenization of one conversation and the label each token should have."""

    layout: Layout
    ids: list[int]
    offsets: list[Span]
    labels: list[bool]
    merges: list[int]  # tokens that straddle a trained span's edge with more than whitespace outside
    turn_tokens: list[tuple[int, int, int]]  # (message index, first token, end token) per trained assistant turn

    def token_text(self, k: int, tok: Tokenizer) -> str:
        s, e = self.offsets[k]
        return self.layout.text[s:e] if e > s else tok.piece(self.ids[k])


def ground_truth(layout: Layout, ids: list[int], offsets: list[Span], train_on: Iterable[str]) -> Truth:
    """A token is trained on iff its characters overlap a trained span; zero-width tokens never are."""
    train_on = tuple(train_on)
    spans = [(t.index, sp) for t in layout.assistant() if (sp := t.trained(train_on)) is not None]
    labels = [False] * len(ids)
    merges: list[int] = []
    turn_tokens: list[tuple[int, int, int]] = []
    for index, (a, b) in spans:
        hit = [k for k, (s, e) in enumerate(offsets) if s < e and s < b and e > a]
        for k in hit:
            labels[k] = True
            s, e = offsets[k]
            outside = layout.text[s:a] + layout.text[b:e]
            if outside.strip() and k not in merges:
                merges.append(k)
        if hit:
            turn_tokens.append((index, hit[0], hit[-1] + 1))
    return Truth(layout, ids, offsets, labels, sorted(merges), turn_tokens)
