"""Formatters, registered in a plain dict; the CLI's --format choices are its keys."""

from __future__ import annotations

from tokaudit.report import github, html, json, junit, markdown, table
from tokaudit.report.base import Formatter

FORMATTERS: dict[str, Formatter] = {
    "table": table.render,
    "json": json.render,
    "junit": junit.render,
    "github": github.render,
    "markdown": markdown.render,
    "html": html.render,
}

__all__ = ["FORMATTERS", "Formatter"]
