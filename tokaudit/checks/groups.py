"""Distinct problems with exact counts: the accumulator every check returns at dataset scale.

A check adds each problem it sees under a signature (what kind of problem, never which sample):
`seen` counts a sample of a known signature; only for a new one does the check explain it and `add`. Groups from
different shards, processes or Ray workers merge in any order to the same result, because each
sample carries its position in the input (`Order`) and the earliest example always wins.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field

from tokaudit.findings import Finding, Skipped
from tokaudit.shards import Order

#: how many skipped inputs a report lists (all are counted)
SKIPPED_SHOWN = 100
#: how many of a group's involved strings a finding lists (all are counted), and how many its message names
INVOLVED_SHOWN = 50
INVOLVED_NAMED = 3


@dataclass
class Group:
    """One signature: its first example's finding, the exact count, the first few locations."""

    first: Order
    finding: Finding
    count: int = 0
    examples: list[tuple[Order, str]] = field(default_factory=list)
    #: the strings (specials) a signature by cause leaves out, each with the first sample that shows it;
    #: bounded by the tokenizers' special tokens, and merged by the earliest sample, so in any order
    involved: dict[str, Order] = field(default_factory=dict)
    #: the message for more than one involved string: a format with {n} (how many) and {examples}
    plural: str | None = None


@dataclass
class Groups:
    """Signature -> Group, with at most `keep` example locations each."""

    keep: int = 5
    groups: dict[str, Group] = field(default_factory=dict)

    def seen(self, key: str, order: Order, where: str, involved: tuple[str, ...] = ()) -> bool:
        """Count a sample under a known signature; False when the signature is new (call `add`)."""
        g = self.groups.get(key)
        if g is None:
            return False
        g.count += 1
        # the hot path of every check: a sample that is neither among the first `keep` nor earlier
        # than the last kept one is only counted (first is the earliest example, so not earlier either)
        examples = g.examples
        if len(examples) < self.keep or order < examples[-1][0]:
            self._example(g, order, where)
            if order < g.first:  # only when samples arrive out of order: keep the earliest's evidence
                g.first = order
        if involved:
            _involve(g.involved, involved, order)
        return True

    def add(
        self,
        key: str,
        order: Order,
        where: str,
        finding: Finding,
        involved: tuple[str, ...] = (),
        plural: str | None = None,
    ) -> None:
        """Count a sample whose signature `seen` did not know, with its explained finding (and, for a
        signature by cause, the strings it involves and the message for many of them)."""
        g = self.groups.get(key)
        if g is None:
            self.groups[key] = g = Group(order, finding, plural=plural)
        elif order < g.first:
            g.first, g.finding, g.plural = order, finding, plural
        g.count += 1
        self._example(g, order, where)
        if involved:
            _involve(g.involved, involved, order)

    def _example(self, g: Group, order: Order, where: str) -> None:
        if len(g.examples) < self.keep or order < g.examples[-1][0]:
            bisect.insort(g.examples, (order, where))
            del g.examples[self.keep :]

    def merge(self, other: Groups) -> None:
        for key, theirs in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = dataclasses.replace(
                    theirs, examples=list(theirs.examples), involved=dict(theirs.involved)
                )
                continue
            mine.count += theirs.count
            if theirs.first < mine.first:
                mine.first, mine.finding, mine.plural = theirs.first, theirs.finding, theirs.plural
            mine.examples = sorted(mine.examples + theirs.examples)[: self.keep]
            for name, order in theirs.involved.items():
                _involve(mine.involved, (name,), order)

    def findings(self) -> list[Finding]:
        """One finding per signature, by first occurrence, carrying the count and example locations."""
        out = []
        for key, g in sorted(self.groups.items(), key=lambda kv: kv[1].first):
            wheres = tuple(w for _, w in g.examples)
            out.append(
                dataclasses.replace(
                    _with_involved(g),
                    count=g.count,
                    samples=wheres,
                    sample=wheres[0] if wheres and g.finding.sample is not None else g.finding.sample,
                    signature=g.finding.signature or key,
                )
            )
        return out

    def total(self) -> int:
        return sum(g.count for g in self.groups.values())


def _involve(into: dict[str, Order], names: tuple[str, ...], order: Order) -> None:
    for name in names:
        if name not in into or order < into[name]:
            into[name] = order


def _with_involved(g: Group) -> Finding:
    """The group's finding with the strings it involves in its detail: how many, and the first
    INVOLVED_SHOWN by first sample; with more than one, the message says how many (`plural`)."""
    if not g.involved:
        return g.finding
    names = sorted(g.involved, key=lambda k: (g.involved[k], k))
    n = len(names)
    detail = {**g.finding.detail, "involved": {"count": n, "strings": names[:INVOLVED_SHOWN]}}
    message = g.finding.message
    if n > 1:
        examples = ", ".join(repr(k) for k in names[:INVOLVED_NAMED]) + (", …" if n > INVOLVED_NAMED else "")
        message = (
            g.plural.format(n=n, examples=examples)
            if g.plural
            else f"{message} ({n} special strings alike: {examples})"
        )
    return dataclasses.replace(g.finding, message=message, detail=detail)


@dataclass
class SkippedLog:
    """Input that could not be checked: an exact count and the first few, in input order."""

    count: int = 0
    first: list[tuple[Order, Skipped]] = field(default_factory=list)

    def add(self, order: Order, item: Skipped) -> None:
        self.count += 1
        if len(self.first) < SKIPPED_SHOWN or order < self.first[-1][0]:
            bisect.insort(self.first, (order, item), key=lambda e: e[0])
            del self.first[SKIPPED_SHOWN:]

    def merge(self, other: SkippedLog) -> None:
        self.count += other.count
        self.first = sorted(self.first + other.first, key=lambda e: e[0])[:SKIPPED_SHOWN]

    def items(self) -> list[Skipped]:
        return [s for _, s in self.first]
