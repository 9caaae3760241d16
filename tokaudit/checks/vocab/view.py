"""vocab-check: one side's vocabulary, special tokens and roles as plain data, read once.

Everything comes from the source's batch methods (`vocab_bytes`, `added_tokens`, `roles`), so a
130k vocabulary is read in a fraction of a second, whatever the library.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from tokaudit.checks.vocab.turn import end_of_turn
from tokaudit.findings import Skipped
from tokaudit.sources.base import AddedEntry, RoleToken, Tokenizer

ROLE_NAMES = {"bos": "bos", "eos": "eos", "pad": "pad", "unk": "unk", "eot": "end-of-turn token"}


@dataclass
class View:
    """One side, reduced to what vocab-check compares."""

    name: str
    tok: Tokenizer  # as configured: its files and the class transformers resolved
    reader: Tokenizer  # where the vocabulary is read (tok itself, or what tok wraps)
    surfaces: list[bytes | None]
    added: dict[str, AddedEntry]
    #: bos / eos / pad / unk / eot -> token or None ("has none"); a missing key is unknown
    roles: dict[str, RoleToken | None]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.surfaces)

    @cached_property
    def special_ids(self) -> frozenset[int]:
        ids = {e.id for e in self.added.values()}
        ids |= {r[1] for r in self.roles.values() if r is not None and r[1] is not None}
        return frozenset(ids)

    @cached_property
    def _index(self) -> tuple[dict[bytes, int], dict[bytes, list[int]]]:
        special = self.special_ids
        regular = [(raw, i) for i, raw in enumerate(self.surfaces) if raw is not None and i not in special]
        first = dict(reversed(regular))
        return first, (_dupes(regular) if len(first) < len(regular) else {})

    @property
    def by_bytes(self) -> dict[bytes, int]:
        """bytes -> the first regular (not special, not added) id that stands for them."""
        return self._index[0]

    @property
    def dupes(self) -> dict[bytes, list[int]]:
        """bytes -> every regular id, for the bytes that more than one id stands for."""
        return self._index[1]

    def ids_for(self, raw: bytes) -> list[int]:
        if raw in self.dupes:
            return self.dupes[raw]
        first = self.by_bytes.get(raw)
        return [] if first is None else [first]

    @cached_property
    def holes(self) -> list[int]:
        return [i for i, raw in enumerate(self.surfaces) if raw is None]

    def lookup(self, content: str) -> int | None:
        """The id of `content` on this side: an added token, else a vocabulary piece with its bytes."""
        if content in self.added:
            return self.added[content].id
        return self.by_bytes.get(content.encode("utf-8"))

    def names_by_id(self) -> dict[int, set[str]]:
        """Every special name this side gives each id (added tokens and role strings)."""
        out: dict[int, set[str]] = defaultdict(set)
        for content, entry in self.added.items():
            out[entry.id].add(content)
        for role in self.roles.values():
            if role is not None and role[1] is not None:
                out[role[1]].add(role[0])
        return out


def _dupes(regular: list[tuple[bytes, int]]) -> dict[bytes, list[int]]:
    out: dict[bytes, list[int]] = defaultdict(list)
    for raw, i in regular:
        out[raw].append(i)
    return {raw: ids for raw, ids in out.items() if len(ids) > 1}


def read_view(name: str, tok: Tokenizer, skipped: list[Skipped]) -> View:
    """Read one side through its library's batch APIs, plus the end-of-turn token of its chat template."""
    reader = tok.vocab_reader()
    roles = dict(reader.roles())
    added = reader.added_tokens()
    view = View(name=name, tok=tok, reader=reader, surfaces=reader.vocab_bytes(), added=added, roles=roles)
    eot = end_of_turn(reader, roles, added, side=name)
    if eot.skipped:
        skipped.append(Skipped(f"{name}: chat template", eot.skipped))
    if eot.known:
        view.roles["eot"] = eot.token
        view.notes["eot"] = eot.note
        for cached in ("special_ids", "_index"):  # roles changed: drop what was derived from them
            view.__dict__.pop(cached, None)
    return view


def show_role(token: RoleToken | None) -> str:
    if token is None:
        return "none"
    text, tid = token
    return f"{text!r} (id {tid})" if tid is not None else f"{text!r} (not in the vocabulary)"


def id_ranges(ids: list[int], limit: int = 8) -> str:
    """[5, 6, 7, 9] -> '5–7, 9'; at most `limit` ranges, then '…'."""
    ranges: list[tuple[int, int]] = []
    for i in ids:
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], i)
        else:
            ranges.append((i, i))
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in ranges[:limit]]
    return ", ".join(parts) + (", …" if len(ranges) > limit else "")
