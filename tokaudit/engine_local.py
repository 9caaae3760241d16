"""`--workers N`: shard scans in worker processes on this machine, surviving a worker that dies.

A worker killed mid-run (the out-of-memory killer's SIGKILL, a segfault in a native tokenizer) breaks a
`ProcessPoolExecutor`: every shard in flight fails with it, not only the one that killed it. So the shards
that were in flight and had not returned are suspects: each is retried once, alone, in a fresh process of
its own (which also tells, from its exit code, whether and how *that* shard kills a worker), and the rest of
the corpus goes on in a new pool. Shards already merged are never sent again, so nothing is counted twice.
A suspect that kills its fresh process too ends the run with one line (`faults.died`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import traceback
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any

from tokaudit.config import Settings
from tokaudit.errors import TokauditError
from tokaudit.faults import died, how, where
from tokaudit.shards import Shard
from tokaudit.sources.base import Sides
from tokaudit.sources.sides import load_sides

#: the sides a worker checks with: inherited from the parent where processes fork (Linux), else loaded
_SIDES: Sides | None = None


def _init_worker(settings: Settings) -> None:
    global _SIDES
    from tokaudit.quiet import silence_libraries

    # Ctrl-C reaches the whole process group: the parent alone decides, and stops the workers itself
    # (an idle worker interrupted in the pool's queue would print a traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    silence_libraries()
    if _SIDES is None:
        _SIDES = load_sides(settings)


def _work(scan: Any, shard: Shard) -> Any:
    assert _SIDES is not None, "worker not initialised"
    return scan(_SIDES, shard)


def in_processes(
    settings: Settings, sides: Sides, shards: Iterable[Shard], scan: Any, workers: int, progress: Any
) -> Iterator[Any]:
    global _SIDES
    # Forked workers inherit the tokenizers already loaded here instead of loading them again. The
    # Rust tokenizers' own thread pool must not be used across a fork (it warns and may deadlock):
    # the workers take the cores instead.
    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forking else None)
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _SIDES = sides if forking else None
    try:
        for shard, part in _drain(settings, context, shards, scan, workers):
            yield part
            if progress:
                progress(shard, part)
    finally:
        _SIDES = None
        if before is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = before


def _drain(
    settings: Settings, context: Any, shards: Iterable[Shard], scan: Any, workers: int
) -> Iterator[tuple[Shard, Any]]:
    todo: Iterator[Shard] = iter(shards)
    while True:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings,))
        try:
            suspects, unsent = yield from _stream(pool, todo, scan, 2 * workers)
        except BaseException:  # an input error, a bug, Ctrl-C: stop the workers now, not after their shards
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        if not suspects and not unsent:
            return
        yield from _alone(context, settings, scan, suspects, workers)
        todo = itertools.chain(unsent, todo)


def _stream(
    pool: ProcessPoolExecutor, todo: Iterator[Shard], scan: Any, window: int
) -> Generator[tuple[Shard, Any], None, tuple[list[Shard], list[Shard]]]:
    """(shard, tally) as they come from `pool`, a bounded window of shards in flight so memory does not
    follow the corpus (merging is order-independent). When a worker dies, returns the shards that were in
    flight (suspects) and the one the broken pool refused (never run)."""
    running: dict[Future[Any], Shard] = {}
    unsent: list[Shard] = []
    exhausted = False
    while running or not exhausted:
        while not exhausted and len(running) < window:
            shard = next(todo, None)
            if shard is None:
                exhausted = True
                break
            try:
                running[pool.submit(_work, scan, shard)] = shard
            except BrokenProcessPool:  # a worker died since the last wait
                unsent.append(shard)
                break
        if not running:
            break
        done = set() if unsent else wait(running, return_when=FIRST_COMPLETED)[0]
        broken = bool(unsent)
        for fut in done:
            if isinstance(fut.exception(), BrokenProcessPool):
                broken = True
                continue
            yield running.pop(fut), fut.result()  # an input error or a bug raises here
        if broken:
            pool.shutdown(wait=True)  # a broken pool has already stopped its workers: this returns at once
            suspects = []
            for fut, shard in running.items():
                if fut.done() and fut.exception() is None:
                    yield shard, fut.result()  # finished before the pool broke: merged once, not retried
                else:
                    suspects.append(shard)
            return suspects, unsent
    return [], unsent


def _stop(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(5)


def _alone(
    context: Any, settings: Settings, scan: Any, shards: list[Shard], workers: int
) -> Iterator[tuple[Shard, Any]]:
    """Each shard once more in a fresh process of its own, `workers` at a time; one that dies again ends the run."""
    for start in range(0, len(shards), workers):
        group: list[tuple[Shard, Any, Connection]] = []
        try:
            for shard in shards[start : start + workers]:
                reader, writer = context.Pipe(duplex=False)
                proc = context.Process(target=_one, args=(settings, scan, shard, writer), daemon=True)
                proc.start()
                writer.close()  # the child holds the only writer: its death is an EOF here
                group.append((shard, proc, reader))
            for shard, proc, reader in group:
                try:
                    kind, value = reader.recv()
                except EOFError:
                    proc.join()
                    raise died(shard, how(proc.exitcode)) from None
                proc.join()
                if kind == "error":
                    raise value
                if kind == "bug":
                    raise RuntimeError(f"a worker failed on {where(shard)}:\n{value}")
                yield shard, value
        finally:
            for _, proc, reader in group:
                reader.close()
                if proc.is_alive():
                    proc.kill()
                    proc.join()


def _one(settings: Settings, scan: Any, shard: Shard, writer: Connection) -> None:
    try:
        _init_worker(settings)
        answer: tuple[str, Any] = ("ok", _work(scan, shard))
    except TokauditError as exc:
        answer = ("error", exc)
    except Exception:
        answer = ("bug", traceback.format_exc())
    writer.send(answer)
    writer.close()
