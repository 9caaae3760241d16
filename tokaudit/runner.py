"""run(settings, command) -> Report. Pure: never prints, never exits."""

from __future__ import annotations

import importlib
from typing import Any

from tokaudit.checks.base import config_findings, header, load_sides
from tokaudit.config import Settings
from tokaudit.findings import Finding, Report, Skipped

#: command -> module with `run(settings, sides, options) -> CheckResult`. Imported on use, so a
#: command only pays for what it runs.
CHECKS: dict[str, str] = {
    "diff": "tokaudit.checks.diff",
    "vocab-check": "tokaudit.checks.vocab",
    "template-check": "tokaudit.checks.template",
    "mask-check": "tokaudit.checks.mask",
}


def checks_for(settings: Settings) -> list[str]:
    """The checks a config has inputs for (what `tokaudit check` runs)."""
    chosen = ["diff", "vocab-check"]
    if settings.conversations is not None or settings.training.chat_template or settings.serving.chat_template:
        chosen.append("template-check")
    if settings.mask is not None:
        chosen.append("mask-check")
    return chosen


def run(settings: Settings, command: str, options: dict[str, Any] | None = None) -> Report:
    """Load both sides, run one check (or, for `check`, every check with inputs) and return the Report."""
    commands = checks_for(settings) if command == "check" else [command]
    modules = [importlib.import_module(CHECKS[c]) for c in commands]
    sides = load_sides(settings)
    findings: list[Finding] = config_findings(settings)
    skipped: list[Skipped] = []
    summaries: dict[str, Any] = {}
    for name, module in zip(commands, modules):
        result = module.run(settings, sides, options or {})
        findings += result.findings
        skipped += result.skipped
        summaries[name] = result.summary
    ignore = set(settings.ignore)
    kept = tuple(f for f in findings if f.code not in ignore)
    return Report(
        command=command,
        findings=kept,
        summary=summaries[command] if command != "check" else {"checks": commands, **summaries},
        header=header(settings, sides),
        skipped=tuple(skipped),
        ignored=len(findings) - len(kept),
    )
