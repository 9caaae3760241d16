"""Formatters, registered in a plain dict; the CLI's --format choices are its keys."""

from __future__ import annotations

from tokaudit.report import json, table
from tokaudit.report.base import Formatter

FORMATTERS: dict[str, Formatter] = {
    "table": table.render,
    "json": json.render,
}

__all__ = ["FORMATTERS", "Formatter"]
