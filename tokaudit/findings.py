"""Findings and reports: plain frozen data, shared by every check and formatter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypedDict


class TokenView(TypedDict):
    """One token as evidence: its id, the library's piece, and the text it stands for (whitespace visible)."""

    id: int
    piece: str
    text: str


class _SideTokens(TypedDict):
    tokens: list[TokenView]
    length: int


class SideTokens(_SideTokens, total=False):
    """The tokens one side shows around where the sides part (`detail["training"]`, `detail["serving"]`).

    `tokens` starts two tokens before the first differing one, whose index in the whole sequence is
    `detail["token_index"]`; `length` is the side's whole length. diff also says whether the side
    added BOS / EOS.
    """

    bos: bool
    eos: bool


#: the detail keys that hold a side's token evidence, in the order formatters show them
TOKEN_SIDES = ("training", "serving")


class Severity(str, Enum):
    """How bad a finding is; `fail_on` picks the lowest severity that fails a run."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem, with the evidence a person needs to act on it without rerunning anything."""

    code: str
    severity: Severity
    message: str
    #: the corpus location of the (first) sample: file:line, builtin:case, a conversation
    sample: str | None = None
    category: str | None = None
    hint: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    #: what a finding that is not about a sample is about: a token, a side, a file, a config key
    where: str | None = None
    #: how many samples show this same problem (a finding is one distinct divergence, not one sample)
    count: int = 1
    #: the first few of those samples' locations, in input order (`sample` is the first)
    samples: tuple[str, ...] = ()
    #: the shape of the problem, stable across samples and corpus sizes (what baselines record)
    signature: str | None = None

    @property
    def location(self) -> str | None:
        """Where to look: the sample, else the subject."""
        return self.sample or self.where

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "category": self.category,
            "message": self.message,
            "sample": self.sample,
            "where": self.where,
            "count": self.count,
            "samples": list(self.samples) if self.samples else ([self.sample] if self.sample else []),
            "signature": self.signature,
            "hint": self.hint,
            "detail": self.detail,
        }


def token_evidence(finding: Finding) -> dict[str, SideTokens] | None:
    """Each side's aligned tokens, as the checks put them in `detail`; None if the finding has none."""
    d = finding.detail
    sides = {s: d[s] for s in TOKEN_SIDES if isinstance(d.get(s), dict) and isinstance(d[s].get("tokens"), list)}
    return sides or None


@dataclass(frozen=True)
class Skipped:
    """Input that could not be checked, and why (never silently dropped)."""

    where: str
    reason: str


@dataclass(frozen=True)
class Report:
    """Everything one run produced. Formatters render it; the CLI maps it to an exit code."""

    command: str
    findings: tuple[Finding, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()
    ignored: int = 0

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-f.severity.rank, f.code))

    def count_by_severity(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    def failed(self, fail_on: Severity) -> bool:
        return any(f.severity.rank >= fail_on.rank for f in self.findings)
