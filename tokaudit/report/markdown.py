"""`--format markdown`: a summary fit for a pull-request comment."""

from __future__ import annotations

from typing import TextIO

from tokaudit.findings import Report
from tokaudit.report import summary as summ
from tokaudit.report.problems import component

ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


def _cell(text: object) -> str:
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # `<s>` is an HTML tag
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render(
    report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None, width: int | None = None
) -> None:
    counts = report.count_by_severity()
    verdict = "❌ skew found" if counts["error"] else ("⚠️ warnings" if report.findings else "✅ no findings")
    out = [f"### tokaudit {report.command}: {verdict}", ""]
    sides = report.header.get("sides") or {}
    if sides:
        out += ["| side | source | backend | library |", "| --- | --- | --- | --- |"]
        for name, s in sides.items():
            where = f" (python: `{_cell(s['python']['path'])}`)" if s.get("python") else ""
            source = _cell(s["source"] + summ.pinned(s))
            out.append(f"| {name} | {source} | `{_cell(s['backend'])}` | {s['library']} {s['version']}{where} |")
        out.append("")
    findings = report.sorted_findings()
    if findings:
        # diff's ablation adds a column, only when some finding has one
        ablated = any(component(f) for f in findings[:max_shown])
        extra = (" component |", " --- |") if ablated else ("", "")
        out += [
            f"| | code | category | count | first seen | message |{extra[0]}",
            f"| --- | --- | --- | ---: | --- | --- |{extra[1]}",
        ]
        for f in findings[:max_shown]:
            found = component(f)
            cell = f" {_cell(found[0])} |" if found else " |"
            out.append(
                f"| {ICON[f.severity.value]} | `{f.code}` | {_cell(f.category or '')} | {summ.number(f.count)} "
                f"| {_cell(f.location or '')} | {_cell(f.message)} |" + (cell if ablated else "")
            )
        if len(findings) > max_shown:
            out.append(f"\n…and {len(findings) - max_shown} more (run `tokaudit {report.command} --format json`).")
        out.append("")
    for section in summ.sections(report.summary):
        # one two-column table per check: the figures a reviewer compares, each on its own row
        out += [f"| {_cell(section.title or 'summary')} | |", "| --- | --- |"]
        out += [f"| {_cell(label)} | {_cell(value)} |" for label, value in section.rows]
        out.append("")
    if report.skipped:
        out.append(
            f"{len(report.skipped)} input(s) skipped, first: `{_cell(report.skipped[0].where)}`: "
            f"{_cell(report.skipped[0].reason)}"
        )
    if report.ignored:
        out.append(f"{report.ignored} finding(s) ignored by config.")
    stream.write("\n".join(out).rstrip() + "\n")
