"""The progress bar long runs draw on stderr (only when stderr is a terminal; `--quiet` turns it off)."""

from __future__ import annotations

from typing import Any


class Bar:
    """options.Progress drawn with Rich: input done (bytes), samples and samples/s, ETA."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._samples = 0

    def start(self, total: int, unit: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        amount = DownloadColumn() if unit == "B" else MofNCompleteColumn()
        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            amount,
            "{task.fields[samples]:,} samples",
            "{task.fields[rate]}",
            "ETA",
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("checking", total=total or None, samples=0, rate="")

    def advance(self, amount: int, samples: int) -> None:
        if self._bar is None:
            return
        self._samples += samples
        elapsed = self._bar.tasks[0].elapsed or 0.0
        rate = f"{self._samples / elapsed:,.0f} samples/s" if elapsed > 0 else ""
        self._bar.update(self._task, advance=amount, samples=self._samples, rate=rate)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
