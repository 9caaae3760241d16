"""`--format html`: one self-contained file; both sides' tokens coloured by boundary, side by side."""

from __future__ import annotations

from html import escape
from typing import TextIO

from tokaudit.findings import Finding, Report, TokenView, token_evidence

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
"""


def _tokens(tokens: list[TokenView]) -> str:
    spans = []
    for k, tok in enumerate(tokens):
        shown = escape(tok["text"] or tok["piece"] or "∅")
        spans.append(
            f'<span class="tok t{k % 2}" title="{escape(tok["piece"])}">{shown}<small>{tok["id"]}</small></span>'
        )
    return "".join(spans)


def _finding(f: Finding) -> str:
    parts = [
        f'<div class="f {f.severity.value}"><span class="code">{escape(f.code)}</span> '
        f"{escape(f.category or '')} <b>{escape(f.location or '')}</b><div>{escape(f.message)}</div>"
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
    if f.hint:
        parts.append(f'<div class="hint">hint: {escape(f.hint)}</div>')
    parts.append("</div>")
    return "".join(parts)


def render(report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None) -> None:
    """Every finding (HTML is for reading at leisure, not a terminal screen)."""
    h = report.header
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td>{escape(s['source'])}</td><td>{escape(s['backend'])}</td>"
        f"<td>{escape(s['library'])} {escape(s['version'])}</td></tr>"
        for n, s in (h.get("sides") or {}).items()
    )
    summary = "".join(
        f"<tr><td>{escape(k.replace('_', ' '))}</td><td>{escape(str(v))}</td></tr>" for k, v in report.summary.items()
    )
    model = h.get("model") or {}
    stream.write(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>tokaudit {escape(report.command)}</title><style>{CSS}</style></head><body>"
        f"<h1>tokaudit {escape(report.command)}</h1>"
        f"<div class='meta'>model {escape(str(model.get('name', '')))} @ {escape(str(model.get('revision', '')))}</div>"
        f"<table class='sum'>{rows}</table><table class='sum'>{summary}</table>"
        + "".join(_finding(f) for f in report.sorted_findings())
        + "".join(f"<div class='meta'>skipped {escape(s.where)}: {escape(s.reason)}</div>" for s in report.skipped)
        + "</body></html>\n"
    )
