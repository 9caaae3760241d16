"""run(settings, command) -> Report. Pure: never prints, never exits."""

from __future__ import annotations

import importlib
from typing import Any

from tokaudit.checks.base import config_findings, header, load_sides
from tokaudit.config import Settings
from tokaudit.findings import Report

#: command -> module with `run(settings, sides, options) -> CheckResult`. Imported on use, so a
#: command only pays for what it runs.
CHECKS: dict[str, str] = {
    "diff": "tokaudit.checks.diff",
    "vocab-check": "tokaudit.checks.vocab",
    "template-check": "tokaudit.checks.template",
    "mask-check": "tokaudit.checks.mask",
}


def run(settings: Settings, command: str, options: dict[str, Any] | None = None) -> Report:
    """Load both sides, run one check, drop ignored codes, and return the Report."""
    check = importlib.import_module(CHECKS[command])
    sides = load_sides(settings)
    result = check.run(settings, sides, options or {})
    findings = config_findings(settings) + list(result.findings)
    ignore = set(settings.ignore)
    kept = tuple(f for f in findings if f.code not in ignore)
    return Report(
        command=command,
        findings=kept,
        summary=result.summary,
        header=header(settings, sides),
        skipped=tuple(result.skipped),
        ignored=len(findings) - len(kept),
    )
