"""The formatter contract: render a Report to a stream. Formatters never decide the exit code."""

from __future__ import annotations

from typing import Protocol, TextIO

from tokaudit.findings import Report


class Formatter(Protocol):
    """Render `report` onto `stream`; `max_shown` bounds the detailed findings a person must read.

    `width` is the terminal's width in columns when the output goes to a terminal (None otherwise:
    formats for a terminal then use their own fixed width).
    """

    def __call__(
        self,
        report: Report,
        stream: TextIO,
        *,
        max_shown: int = 20,
        color: bool | None = None,
        width: int | None = None,
    ) -> None: ...
