"""Run a check's shard scans: in this process, in worker processes, or as a Ray Data job.

Every engine gets the same shards and the same `scan(sides, shard) -> tally` function and merges the
tallies the shards return; tallies merge in any order to the same result, so the report does not
depend on the engine or the number of workers. Each worker process loads both sides once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from tokaudit.config import Settings
from tokaudit.errors import TokauditError
from tokaudit.shards import Shard
from tokaudit.sources.base import Sides
from tokaudit.sources.sides import load_sides

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
        parts = _in_processes(settings, sides, shards, scan, workers, progress)
    for part in parts:
        tally.merge(part)
    return tally


def _in_process(sides: Sides, shards: Iterable[Shard], scan: Scan, progress: Progress | None) -> Iterator[Any]:
    for shard in shards:
        part = scan(sides, shard)
        yield part
        if progress:
            progress(shard, part)


# -- worker processes -------------------------------------------------------------------------------
#: the sides a worker checks with: inherited from the parent where processes fork (Linux), else loaded
_SIDES: Sides | None = None


def _init_worker(settings: Settings) -> None:
    global _SIDES
    from tokaudit.quiet import silence_libraries

    silence_libraries()
    if _SIDES is None:
        _SIDES = load_sides(settings)


def _work(scan: Scan, shard: Shard) -> Any:
    assert _SIDES is not None, "worker not initialised"
    return scan(_SIDES, shard)


def _in_processes(
    settings: Settings, sides: Sides, shards: Iterable[Shard], scan: Scan, workers: int, progress: Progress | None
) -> Iterator[Any]:
    # A bounded window of shards in flight, so memory does not follow the corpus; results are merged as
    # they come (merging is order-independent).
    global _SIDES
    # Forked workers inherit the tokenizers already loaded here instead of loading them again. The
    # Rust tokenizers' own thread pool must not be used across a fork (it warns and may deadlock):
    # the workers take the cores instead.
    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if forking else None
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _SIDES = sides if forking else None
    try:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings,))
        yield from _drain(pool, shards, scan, 2 * workers, progress)
    finally:
        _SIDES = None
        if before is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = before


def _drain(
    pool: ProcessPoolExecutor, shards: Iterable[Shard], scan: Scan, window: int, progress: Progress | None
) -> Iterator[Any]:
    with pool:
        running: dict[Future[Any], Shard] = {}
        todo = iter(shards)
        exhausted = False
        while running or not exhausted:
            while not exhausted and len(running) < window:
                shard = next(todo, None)
                if shard is None:
                    exhausted = True
                    break
                running[pool.submit(_work, scan, shard)] = shard
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                shard = running.pop(fut)
                try:
                    result = fut.result()
                except TokauditError:
                    for other in running:
                        other.cancel()
                    raise
                yield result
                if progress:
                    progress(shard, result)
