"""rollout-check's accumulator: exact counts per cause, and the distinct problems with their first examples.

A trajectory counts once per cause however many of its turns show it; `tokens` adds the sampled tokens
each cause affects. Tallies from shards, worker processes or Ray merge in any order to the same result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.findings import Finding
from tokaudit.shards import Order


@dataclass
class RolloutTally:
    keep: int = 5
    trajectories: int = 0
    turns: int = 0
    sampled: int = 0  # completion tokens the engine sampled
    trained: int = 0  # loss_mask ones, where the row is mapped
    affected: int = 0  # trajectories with at least one problem
    not_rendered: int = 0  # trajectories the training template refused (re-render not checked)
    checks: Counter[str] = field(default_factory=Counter)  # trajectories each check ran on
    causes: Counter[str] = field(default_factory=Counter)  # "check: cause" -> trajectories
    cause_tokens: Counter[str] = field(default_factory=Counter)
    cause_codes: dict[str, str] = field(default_factory=dict)
    groups: Groups = field(default_factory=Groups)
    skipped: SkippedLog = field(default_factory=SkippedLog)

    def __post_init__(self) -> None:
        self.groups.keep = self.keep

    def merge(self, other: RolloutTally) -> None:
        for name in ("trajectories", "turns", "sampled", "trained", "affected", "not_rendered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.checks.update(other.checks)
        self.causes.update(other.causes)
        self.cause_tokens.update(other.cause_tokens)
        self.cause_codes.update(other.cause_codes)
        self.groups.merge(other.groups)
        self.skipped.merge(other.skipped)

    def samples(self) -> int:
        return self.trajectories + self.skipped.count

    def by_cause(self) -> dict[str, dict[str, Any]]:
        """Per cause (`check: cause`, in code order): its code, trajectories and sampled tokens, and their shares."""
        causes = sorted(self.causes, key=lambda c: (self.cause_codes[c], c))
        return {
            "codes_by_cause": {c: self.cause_codes[c] for c in causes},
            "trajectories_by_cause": {c: self.causes[c] for c in causes},
            "share_trajectories_by_cause": {c: _share(self.causes[c], self.trajectories) for c in causes},
            "tokens_by_cause": {c: self.cause_tokens[c] for c in causes},
            "share_tokens_by_cause": {c: _share(self.cause_tokens[c], self.sampled) for c in causes},
        }


def _share(n: int, of: int) -> float:
    return round(n / of, 6) if of else 0.0


@dataclass
class Seen:
    """One trajectory's problems: each cause counted once, its tokens summed, its first finding kept."""

    tally: RolloutTally
    order: Order
    where: str
    tokens: Counter[str] = field(default_factory=Counter)

    def note(self, code: str, cause: str, tokens: int, make: Callable[[], Finding]) -> None:
        label = cause
        first = label not in self.tokens
        self.tokens[label] += tokens
        self.tally.cause_codes[label] = code
        if first:
            key = f"{code} {label}"
            if not self.tally.groups.seen(key, self.order, self.where):
                self.tally.groups.add(key, self.order, self.where, make())

    def close(self) -> None:
        t = self.tally
        t.trajectories += 1
        if self.tokens:
            t.affected += 1
        for label, n in self.tokens.items():
            t.causes[label] += 1
            t.cause_tokens[label] += n
