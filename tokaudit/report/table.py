"""`--format table`: Rich tables for a person at a terminal; token boundaries shown by colour."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tokaudit.findings import Finding, Report, SideTokens, token_evidence

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
TOKEN_STYLES = ("black on bright_cyan", "black on bright_yellow")


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
        t.add_row("", Text(str(side.get("path") or ""), style="dim"))
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


def _finding_panel(f: Finding) -> Panel:
    parts: list[Any] = [Text(f.message)]
    d = f.detail
    if "context" in d:
        parts.append(Text.assemble(("at ", "dim"), f"char {d.get('offset')}: ", (d["context"], "italic")))
    sides = token_evidence(f)
    if sides is not None:
        parts.append(_tokens_table(sides))
    if isinstance(d.get("mask_view"), dict):
        parts.append(_mask_view(d["mask_view"]))
    if f.hint:
        parts.append(Text(f"hint: {f.hint}", style="dim"))
    title = Text.assemble(
        (f.code, STYLE[f.severity.value]),
        f" {f.category or ''}",
        (f"  {f.location}" if f.location else "", "bold"),
    )
    return Panel(Group(*parts), title=title, title_align="left", border_style=STYLE[f.severity.value])


def _summary(report: Report) -> Table:
    t = Table(title="summary", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    for key, value in report.summary.items():
        if isinstance(value, dict):
            for k, v in value.items():
                t.add_row(f"  {k}", str(v))
        else:
            shown = f"{value:.2%}" if key.startswith("share") and isinstance(value, float) else str(value)
            t.add_row(key.replace("_", " "), shown)
    if report.ignored:
        t.add_row("findings ignored", str(report.ignored))
    return t


def render(report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None) -> None:
    console = Console(
        file=stream,
        width=120,
        force_terminal=color,
        no_color=color is False,
        highlight=False,
        soft_wrap=False,
    )
    console.print(Text(f"tokaudit {report.command}", style="bold"))
    console.print(_header(report))
    findings = report.sorted_findings()
    for f in findings[:max_shown]:
        console.print(_finding_panel(f))
    if len(findings) > max_shown:
        console.print(Text(f"… {len(findings) - max_shown} more findings (--show N, or --format json)", style="dim"))
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
