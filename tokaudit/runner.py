"""run(settings, command) -> Report. Pure: never prints, never exits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokaudit.checks import diff
from tokaudit.checks.base import Sides, config_findings, header, load_sides
from tokaudit.config import Settings
from tokaudit.findings import Finding, Report, Skipped


def _diff(settings: Settings, sides: Sides, options: dict[str, Any]) -> tuple[list[Finding], list[Skipped], dict]:
    result = diff.run(settings, sides, builtin=options.get("builtin", settings.builtin_corpus))
    return result.findings, result.skipped, result.summary


CHECKS: dict[str, Callable[[Settings, Sides, dict[str, Any]], tuple[list[Finding], list[Skipped], dict]]] = {
    "diff": _diff,
}


def run(settings: Settings, command: str, options: dict[str, Any] | None = None) -> Report:
    """Load both sides, run one check, drop ignored codes, and return the Report."""
    sides = load_sides(settings)
    findings, skipped, summary = CHECKS[command](settings, sides, options or {})
    findings = config_findings(settings) + findings
    ignore = set(settings.ignore)
    kept = tuple(f for f in findings if f.code not in ignore)
    return Report(
        command=command,
        findings=kept,
        summary=summary,
        header=header(settings, sides),
        skipped=tuple(skipped),
        ignored=len(findings) - len(kept),
    )
