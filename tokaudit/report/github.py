"""`--format github`: GitHub Actions workflow commands (`::error title=TA101::message`)."""

from __future__ import annotations

from typing import TextIO

from tokaudit.findings import Report
from tokaudit.report import summary as summ
from tokaudit.report.problems import component

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """The message part: %, CR and LF must be percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as data, plus ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(
    report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None, width: int | None = None
) -> None:
    for f in report.sorted_findings():
        where = f" [{f.location}]" if f.location else ""
        if f.count > 1:
            where += f" (× {summ.number(f.count)} samples)"
        context = f" at {f.detail['context']}" if "context" in f.detail else ""
        found = component(f)
        context += f" (component: {found[0]})" if found else ""
        title = escape_property(f"{f.code} {f.category or ''}".strip())
        stream.write(f"::{LEVEL[f.severity.value]} title={title}::{escape_data(f.message + where + context)}\n")
    for s in report.skipped:
        stream.write(f"::notice title=skipped::{escape_data(f'{s.where}: {s.reason}')}\n")
    counts = report.count_by_severity()
    stream.write(
        f"tokaudit {report.command}: {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} info\n"
    )
    # plain lines (not workflow commands): the run's log shows them as they are
    stream.writelines(f"  {line}\n" for line in summ.lines(report.summary))
