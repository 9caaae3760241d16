"""What every check returns to the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokaudit.findings import Finding, Skipped


@dataclass
class CheckResult:
    """What one check produced, before the runner assembles a Report."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
