"""The typed per-run options a check receives (from CLI flags or the Python API), beside the config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class Progress(Protocol):
    """Where a long run reports how far it is (the CLI draws a bar on stderr; the API passes none)."""

    def start(self, total: int, unit: str) -> None: ...

    def advance(self, amount: int, samples: int) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Options:
    """Per-run choices that are not in the config (they come from flags or the Python API)."""

    #: the built-in edge-case corpus; None means the config's `builtin_corpus`
    builtin: bool | None = None
    #: diff against this lock file (from `tokaudit snapshot`) instead of side against side
    against: Path | None = None
    #: example locations kept per distinct finding (`--examples`)
    examples: int = 5
    #: worker processes (`--workers`); None means one per CPU
    workers: int | None = None
    #: "local" (processes on this machine) or "ray" (a Ray Data job)
    engine: str = "local"
    #: check a reproducible random sample of this many samples (`--sample N --seed S`)
    sample: int | None = None
    seed: int = 0
    #: load-check: fresh loads at once in threads / in processes (`--threads`, `--processes`); None means the
    #: config's `load_check:`, else the check's default
    threads: int | None = None
    processes: int | None = None
    #: show third-party log output (`--debug`)
    debug: bool = False
    progress: Progress | None = None

    def use_builtin(self, configured: bool) -> bool:
        return configured if self.builtin is None else self.builtin
