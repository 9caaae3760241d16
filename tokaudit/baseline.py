"""Baselines: record today's findings, then fail only on findings that are new."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from tokaudit.errors import InputError
from tokaudit.findings import Finding, Report
from tokaudit.output import write_file

FORMAT = 1


def fingerprint(f: Finding) -> str:
    """Stable identity of a finding. A grouped finding is its code and signature, so a baseline
    written on a slice still holds on the whole corpus; any other is its code, where, and message."""
    if f.signature is not None:
        raw = "\x1f".join((f.code, f.category or "", f.signature))
    else:
        raw = "\x1f".join((f.code, f.location or "", f.category or "", f.message))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def write_baseline(report: Report, path: Path) -> int:
    entries = sorted(
        (
            {"code": f.code, "sample": f.location, "signature": f.signature, "fingerprint": fingerprint(f)}
            for f in report.findings
        ),
        key=lambda e: (e["code"], e["sample"] or "", e["fingerprint"]),
    )
    data = {"tokaudit_baseline": FORMAT, "command": report.command, "findings": entries}
    write_file(json.dumps(data, indent=1, ensure_ascii=False) + "\n", path)
    return len(entries)


def read_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such baseline file (write one with --write-baseline)") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable baseline file ({exc})") from exc
    if not isinstance(data, dict) or data.get("tokaudit_baseline") != FORMAT:
        raise InputError(f"{path}: not a tokaudit baseline (format {FORMAT} expected)")
    try:
        return {str(e["fingerprint"]) for e in data["findings"]}
    except (KeyError, TypeError) as exc:
        raise InputError(f"{path}: findings: malformed baseline entry") from exc


def apply_baseline(report: Report, known: set[str]) -> Report:
    """Drop findings the baseline already records; count them as ignored."""
    new = tuple(f for f in report.findings if fingerprint(f) not in known)
    return dataclasses.replace(report, findings=new, ignored=report.ignored + len(report.findings) - len(new))
