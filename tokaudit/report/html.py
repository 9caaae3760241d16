"""`--format html`: one self-contained file; both sides' tokens coloured by boundary, side by side."""

from __future__ import annotations

from html import escape
from typing import TextIO

from tokaudit.findings import TOKEN_SIDES, Finding, Report, TokenView, token_evidence
from tokaudit.report import summary as summ
from tokaudit.report.problems import compact, component, differing_tokens, plural, seen

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} table.sum td{padding:2px 12px} .meta{color:#666;font-size:.9em}
.f{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.6em 1em}
.f.error{border-left:6px solid #c0392b}.f.warning{border-left:6px solid #e0a800}.f.info{border-left:6px solid #2980b9}
.code{font-weight:bold}.ctx{font-family:monospace;background:#f6f6f6;padding:2px 4px}
.sides{display:grid;grid-template-columns:7em 1fr;gap:4px 8px;align-items:start;margin-top:.5em}
.name{font-weight:bold;padding-top:4px}
.tok{display:inline-block;font-family:monospace;font-size:15px;padding:3px 4px;margin:0 1px 2px 0;border-radius:3px}
.tok small{display:block;font-size:10px;color:#333}
.t0{background:#7fdbff}.t1{background:#ffdc00}.hint{color:#555;font-size:.9em;margin-top:.4em}
.seen{font-weight:bold;font-size:.9em;margin-top:.2em}
.component{font-size:.9em;margin-top:.4em}
h2{font-size:1.15em;margin-top:1.4em}
table.problems{border-collapse:collapse}
table.problems th{text-align:left;font-size:.85em;color:#555;padding:2px 10px;border-bottom:1px solid #ccc}
table.problems td{padding:3px 10px;vertical-align:middle;white-space:nowrap}
table.problems th{white-space:nowrap}table.problems .mini{white-space:normal}
table.problems td.n,table.problems th.n{text-align:right;font-variant-numeric:tabular-nums}
td.barcell{width:16em;min-width:16em}
.bar{height:14px;min-width:3px;border-radius:2px}
.bar.error{background:#e4572e}.bar.warning{background:#f3a712}.bar.info{background:#4c86c6}
.mt{display:inline-block;font-family:monospace;font-size:13px;padding:1px 3px;margin-right:1px;border-radius:3px}
.mini .ne{font-weight:bold;margin:0 6px}
table.sum caption{text-align:left;font-weight:bold;padding-top:.6em}
"""


def _tokens(tokens: list[TokenView]) -> str:
    spans = []
    for k, tok in enumerate(tokens):
        shown = escape(tok["text"] or tok["piece"] or "∅")
        spans.append(
            f'<span class="tok t{k % 2}" title="{escape(tok["piece"])}">{shown}<small>{tok["id"]}</small></span>'
        )
    return "".join(spans)


def _divergence(f: Finding) -> str:
    """The first differing tokens of both sides, or the message when the finding has none."""
    sides = differing_tokens(f)
    if not sides or not any(sides.values()):
        return escape(f.message)
    cells = []
    for tokens in sides.values():
        shown = compact(tokens)
        cells.append(
            "".join(
                f"<span>{escape(t)}</span>" if t in ("…", "∅") else f'<span class="mt t{k % 2}">{escape(t)}</span>'
                for k, t in enumerate(shown)
            )
        )
    return '<span class="ne">≠</span>'.join(cells)


def _problems(findings: list[Finding]) -> str:
    """The distinct problems, one row each, with its count drawn as a bar (scaled to the largest)."""
    most = max(f.count for f in findings)
    rows = []
    for n, f in enumerate(findings, 1):
        share = 100 * f.count / most
        rows.append(
            f'<tr class="{f.severity.value}"><td class="n"><a href="#p{n}">{n}</a></td>'
            f'<td class="code">{escape(f.code)}</td><td>{escape(f.category or "")}</td>'
            f"<td>{escape(f.location or '')}</td><td class='n'>{summ.number(f.count)}</td>"
            f'<td class="barcell"><div class="bar {f.severity.value}" style="width:{share:.1f}%" '
            f'title="{plural(f.count, "sample")}"></div></td>'
            f'<td class="mini">{_divergence(f)}</td></tr>'
        )
    last = f"where they part: {' ≠ '.join(TOKEN_SIDES)}" if any(map(token_evidence, findings)) else "problem"
    head = (
        "<tr><th class='n'>#</th><th>code</th><th>category</th><th>first seen</th><th class='n'>count</th>"
        f"<th></th><th class='mini'>{escape(last)}</th></tr>"
    )
    return (
        f"<h2>{plural(len(findings), 'distinct problem')}</h2>"
        f"<table class='problems'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(report: Report) -> str:
    tables = []
    for section in summ.sections(report.summary):
        caption = f"<caption>{escape(section.title)}</caption>" if section.title else ""
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in section.rows)
        tables.append(f"<table class='sum'>{caption}{rows}</table>")
    if report.ignored:
        tables.append(f"<div class='meta'>{plural(report.ignored, 'finding')} ignored by config</div>")
    return "<h2>summary</h2>" + "".join(tables) if tables else ""


def _finding(f: Finding, n: int) -> str:
    where = seen(f)
    parts = [
        f'<div class="f {f.severity.value}" id="p{n}"><span class="code">#{n} {escape(f.code)}</span> '
        f"{escape(f.category or '')} <b>{escape(f.location or '')}</b><div>{escape(f.message)}</div>"
        + (f'<div class="seen">{escape(where)}</div>' if where else "")
    ]
    d = f.detail
    if "context" in d:
        parts.append(f'<div>at char {d.get("offset")}: <span class="ctx">{escape(d["context"])}</span></div>')
    sides = token_evidence(f)
    if sides:
        parts.append('<div class="sides">')
        for s, side in sides.items():
            parts.append(f'<div class="name">{s}</div><div>{_tokens(side["tokens"])}</div>')
        parts.append("</div>")
    found = component(f)
    if found is not None:
        parts.append(f'<div class="component"><b>component: {escape(found[0])}</b> {escape(found[1])}</div>')
    if f.hint:
        parts.append(f'<div class="hint">hint: {escape(f.hint)}</div>')
    parts.append("</div>")
    return "".join(parts)


def render(
    report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None, width: int | None = None
) -> None:
    """The distinct problems with their counts as bars, the summary, then every finding's tokens
    (HTML is for reading at leisure, not a terminal screen)."""
    h = report.header
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td>{escape(s['source'])}</td><td>{escape(s['backend'])}</td>"
        f"<td>{escape(s['library'])} {escape(s['version'])}</td></tr>"
        for n, s in (h.get("sides") or {}).items()
    )
    model = h.get("model") or {}
    findings = report.sorted_findings()
    stream.write(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>tokaudit {escape(report.command)}</title><style>{CSS}</style></head><body>"
        f"<h1>tokaudit {escape(report.command)}</h1>"
        f"<div class='meta'>model {escape(str(model.get('name', '')))} @ {escape(str(model.get('revision', '')))}</div>"
        f"<table class='sum'>{rows}</table>"
        + (_problems(findings) if findings else "<h2>no findings</h2>")
        + _summary(report)
        + ("<h2>details</h2>" if findings else "")
        + "".join(_finding(f, n) for n, f in enumerate(findings, 1))
        + "".join(f"<div class='meta'>skipped {escape(s.where)}: {escape(s.reason)}</div>" for s in report.skipped)
        + "</body></html>\n"
    )
