"""`--format json`: the stable, documented schema (docs/json-schema.json)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from tokaudit.findings import Report
from tokaudit.version import __version__

SCHEMA_VERSION = 1


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tokaudit", "version": __version__},
        "command": report.command,
        "header": report.header,
        "summary": report.summary,
        "counts": report.count_by_severity(),
        "ignored": report.ignored,
        "skipped": [{"where": s.where, "reason": s.reason} for s in report.skipped],
        "findings": [f.to_dict() for f in report.sorted_findings()],
    }


def render(
    report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None, width: int | None = None
) -> None:
    """Every finding, whatever max_shown says: JSON is for machines."""
    json.dump(report_dict(report), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
