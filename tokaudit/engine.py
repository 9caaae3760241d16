"""Run a check's shard scans: in this process, in worker processes, or as a Ray Data job.

Every engine gets the same shards and the same `scan(sides, shard) -> tally` function and merges the
tallies the shards return; tallies merge in any order to the same result, so the report does not
depend on the engine or the number of workers. Each worker process loads both sides once.

A worker that dies gets its shard retried once in a fresh worker; a shard that kills that one too ends
the run with one line naming it (`engine_local` for worker processes, `engine_ray` for Ray, `faults`).
In this process (`--workers 1`) there is nothing to retry: a segfault in a native tokenizer ends tokaudit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from tokaudit.config import Settings
from tokaudit.shards import Shard
from tokaudit.sources.base import Sides

ENGINES = ("local", "ray")


class Tally(Protocol):
    def merge(self, other: Any) -> None: ...

    def samples(self) -> int:
        """Samples this tally covers (checked or skipped), for the progress bar."""
        ...


#: (sides, shard) -> tally; must be a module-level function (it is sent to worker processes by name)
Scan = Callable[[Sides, Shard], Any]
#: called with each finished shard and its tally
Progress = Callable[[Shard, Any], None]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_scans(
    settings: Settings,
    sides: Sides,
    shards: Iterable[Shard],
    scan: Scan,
    tally: Tally,
    workers: int = 1,
    engine: str = "local",
    progress: Progress | None = None,
    debug: bool = False,
) -> Tally:
    """Scan every shard and merge the tallies into `tally` (which is returned)."""
    if engine == "ray":
        from tokaudit.engine_ray import run_ray

        parts: Iterable[Any] = run_ray(settings, shards, scan, workers, progress, debug)
    elif workers <= 1:
        parts = _in_process(sides, shards, scan, progress)
    else:
        from tokaudit.engine_local import in_processes

        parts = in_processes(settings, sides, shards, scan, workers, progress)
    for part in parts:
        tally.merge(part)
    return tally


def _in_process(sides: Sides, shards: Iterable[Shard], scan: Scan, progress: Progress | None) -> Iterator[Any]:
    for shard in shards:
        part = scan(sides, shard)
        yield part
        if progress:
            progress(shard, part)
