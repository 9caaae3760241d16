"""`--format table`: Rich tables for a person at a terminal; token boundaries shown by colour."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tokaudit.findings import TOKEN_SIDES, Finding, Report, SideTokens, token_evidence
from tokaudit.report import summary as summ
from tokaudit.report.problems import compact, component, differing_tokens, plural, seen

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
TOKEN_STYLES = ("black on bright_cyan", "black on bright_yellow")
#: the width when the output is not a terminal (a file, a pipe, a CI log)
WIDTH = 120
#: the distinct-problems list shows at least this many lines (and at least --show N)
LIST_AT_LEAST = 50
#: the widest "first seen" a line gives up before the tokens
WHERE_WIDTH = 28


def _header(report: Report) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    h = report.header
    model = h.get("model") or {}
    if model:
        t.add_row("model", f"{model.get('name')} @ {model.get('revision') or '(no revision)'}")
    for name, side in (h.get("sides") or {}).items():
        t.add_row(
            name,
            f"{side['source']}: {side['backend']} · {side['library']} {side['version']} "
            f"· special_text={side['special_text']}",
        )
        t.add_row("", Text(str(side.get("path") or "") + summ.pinned(side), style="dim"))
        where = side.get("python")
        if where:  # a side with `python:` ran in another interpreter: which, and what it had
            packages = ", ".join(f"{k} {v}" for k, v in (where.get("packages") or {}).items())
            t.add_row("", Text(f"python: {where['path']} (Python {where['version']}; {packages})", style="dim"))
    return t


def _tokens_table(sides: dict[str, SideTokens]) -> Table:
    t = Table(show_header=False, box=None, padding=(0, 1))
    t.add_column(style="bold")
    width = max(len(side["tokens"]) for side in sides.values())
    for _ in range(width):
        t.add_column(no_wrap=True)
    for s, side in sides.items():
        cells: list[Any] = [s]
        for k, tok in enumerate(side["tokens"]):
            cells.append(
                Text(f"{tok['text'] or tok['piece']}", style=TOKEN_STYLES[k % 2]) + Text(f"\n{tok['id']}", style="dim")
            )
        t.add_row(*cells)
    return t


MASK_STYLES = {"trained": "black on green", "masked": "dim"}
MASK_MARKS = {"trained": "━", "masked": "·"}


def _mask_view(view: dict[str, Any]) -> Text:
    """mask-check: tokens coloured by label, and under each a mark (━ trained, · masked, ✗ label wrong),
    so the view reads without colour too; the first misalignment is underlined."""
    from rich.cells import cell_len

    tokens, marks = Text(), Text()
    for tok in view.get("tokens", []):
        text = tok.get("text") or "∅"
        wrong = tok.get("label") != tok.get("expected")
        style = "bold white on red" if wrong else MASK_STYLES.get(tok.get("label", ""), "")
        if tok.get("i") == view.get("first"):
            style += " underline"
        tokens.append(text, style=style)
        tokens.append(" ")
        mark = "✗" if wrong else MASK_MARKS.get(tok.get("label", ""), "?")
        marks.append(mark * max(1, cell_len(text)), style="bold red" if wrong else "dim")
        marks.append(" ")
    legend = Text("legend: ━ trained, · masked, ✗ label differs from the ground truth", style="dim")
    return Text("\n").join([tokens, marks, legend])


def _cell(text: str | Text, width: int, justify: str = "left") -> Text:
    """`text` cut (with …) or padded to exactly `width` cells."""
    cell = text.copy() if isinstance(text, Text) else Text(text)
    cell.truncate(width, overflow="ellipsis")
    cell.align(justify, width)  # type: ignore[arg-type]
    return cell


def _divergence(f: Finding) -> Text:
    """The first differing tokens of both sides (`␣< s > ≠ ␣ <s>`), or the message when there are none."""
    sides = differing_tokens(f)
    if not sides or not any(sides.values()):
        return Text(f.message)
    out = Text()
    for n, tokens in enumerate(sides.values()):
        if n:
            out.append(" ≠ ", style="bold")
        shown = compact(tokens)
        for k, text in enumerate(shown):
            if k:
                out.append(" ")
            out.append(text, style="dim" if text in ("…", "∅") else TOKEN_STYLES[k % 2])
    return out


def _problems(findings: list[Finding], width: int, limit: int) -> list[Text]:
    """One line per distinct problem: #, code, category, count, first seen, the tokens at the divergence."""
    shown = findings[:limit]
    wide = {
        "#": max(len(str(len(shown))), 1),
        "code": max(4, *(len(f.code) for f in shown)),
        "category": min(20, max(8, *(len(f.category or "") for f in shown))),
        "count": max(5, *(len(summ.number(f.count)) for f in shown)),
        "where": min(WHERE_WIDTH, max(10, *(len(f.location or "") for f in shown))),
    }
    last = f"where they part: {' ≠ '.join(TOKEN_SIDES)}" if any(map(token_evidence, shown)) else "problem"
    head = Text.assemble(
        _cell("#", wide["#"], "right"),
        "  ",
        _cell("code", wide["code"]),
        "  ",
        _cell("category", wide["category"]),
        "  ",
        _cell("count", wide["count"], "right"),
        "  ",
        _cell("first seen", wide["where"]),
        "  ",
        last,
        style="bold",
    )
    lines = [Text(), Text(plural(len(findings), "distinct problem"), style="bold"), head]
    for n, f in enumerate(shown, 1):
        line = Text.assemble(
            _cell(str(n), wide["#"], "right"),
            "  ",
            _cell(Text(f.code, style=STYLE[f.severity.value]), wide["code"]),
            "  ",
            _cell(f.category or "", wide["category"]),
            "  ",
            _cell(summ.number(f.count), wide["count"], "right"),
            "  ",
            _cell(f.location or "", wide["where"]),
            "  ",
            _divergence(f),
        )
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    if len(findings) > limit:
        lines.append(Text(f"… {len(findings) - limit} more distinct problems (--format json)", style="dim"))
    return lines


def _finding_panel(f: Finding, n: int) -> Panel:
    parts: list[Any] = [Text(f.message)]
    where = seen(f)
    if where is not None:
        parts.append(Text(where, style="bold"))
    d = f.detail
    if "context" in d:
        parts.append(Text.assemble(("at ", "dim"), f"char {d.get('offset')}: ", (d["context"], "italic")))
    sides = token_evidence(f)
    if sides is not None:
        parts.append(_tokens_table(sides))
    if isinstance(d.get("mask_view"), dict):
        parts.append(_mask_view(d["mask_view"]))
    found = component(f)
    if found is not None:
        parts.append(Text.assemble(("component: ", "bold"), (found[0], "bold"), (f"  {found[1]}" if found[1] else "")))
    if f.hint:
        parts.append(Text(f"hint: {f.hint}", style="dim"))
    title = Text.assemble(
        (f"#{n} ", "dim"),
        (f.code, STYLE[f.severity.value]),
        f" {f.category or ''}",
        (f"  {f.location}" if f.location else "", "bold"),
    )
    return Panel(Group(*parts), title=title, title_align="left", border_style=STYLE[f.severity.value])


def _summary(report: Report) -> Table:
    t = Table(title="summary", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    for section in summ.sections(report.summary):
        indent = ""
        if section.title is not None:
            t.add_row(Text(section.title, style="bold underline"), "")
            indent = "  "
        for label, value in section.rows:
            t.add_row(f"{indent}{label}", value)
    if report.ignored:
        t.add_row("findings ignored", summ.number(report.ignored))
    return t


def render(
    report: Report,
    stream: TextIO,
    *,
    max_shown: int = 20,
    color: bool | None = None,
    width: int | None = None,
) -> None:
    """The distinct problems one line each, then the first `max_shown` in detail, the summary, the verdict."""
    width = width or WIDTH
    console = Console(
        file=stream,
        width=width,
        force_terminal=color,
        no_color=color is False,
        highlight=False,
        soft_wrap=False,
    )
    console.print(Text(f"tokaudit {report.command}", style="bold"))
    console.print(_header(report))
    findings = report.sorted_findings()
    if findings:
        for line in _problems(findings, width, max(LIST_AT_LEAST, max_shown)):
            console.print(line, no_wrap=True, overflow="ellipsis")
    for n, f in enumerate(findings[:max_shown], 1):
        console.print(_finding_panel(f, n))
    if len(findings) > max_shown:
        console.print(
            Text(
                f"… {len(findings) - max_shown} more findings, listed above: --show N for their details "
                "(or --format json)",
                style="dim",
            )
        )
    for s in report.skipped[:max_shown]:
        console.print(Text(f"skipped {s.where}: {s.reason}", style="yellow"))
    if len(report.skipped) > max_shown:
        console.print(Text(f"… {len(report.skipped) - max_shown} more skipped", style="dim"))
    if report.summary:
        console.print(_summary(report))
    counts = report.count_by_severity()
    if report.findings:
        by_code: dict[str, int] = {}
        for f in findings:
            by_code[f.code] = by_code.get(f.code, 0) + 1
        codes = ", ".join(f"{c}×{n}" for c, n in by_code.items())
        console.print(
            Text(
                f"{'✗' if counts['error'] else '!'} {counts['error']} error(s), {counts['warning']} warning(s), "
                f"{counts['info']} info: {codes}",
                style="bold red" if counts["error"] else "yellow",
            )
        )
    else:
        console.print(Text("✓ no findings", style="bold green"))
