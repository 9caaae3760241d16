"""`--engine ray`: the same shard scans as a Ray Data job (the `ray` extra).

Ray Data receives the shard *descriptors* (a file, a byte range or row group, a first line number),
not the samples: each actor of the pool loads both sides once, reads its shards from the files
itself and returns a pickled tally; the driver merges tallies as they stream back. On a cluster the
input files must be readable at the same paths on every node (a shared filesystem), as must the
tokenizer files. `RAY_ADDRESS` (Ray's own variable) points the job at an existing cluster;
without it a local Ray is started with `--workers` CPUs.

An actor that dies (killed by a signal, out of memory, a segfault in a native tokenizer) is restarted by
Ray, but its shard is not retried there: Ray Data would retry it forever. The job skips the blocks of dead
actors instead (each actor takes one shard at a time, so a death loses exactly its own shard), the driver
notes which shards never came back and runs them once more as a second job on fresh actors; a shard missing
again ends the run with one line (`faults.died`). Ray does not say which signal killed an actor.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from tokaudit.config import Settings
from tokaudit.errors import TokauditError
from tokaudit.faults import died
from tokaudit.shards import Shard


class _ShardWorker:
    """A Ray actor: both sides loaded once, then one shard per call. The settings and the scan travel
    as class attributes of a subclass made per run (constructor arguments would sit in the object store,
    which Ray warns about on every actor start)."""

    settings_blob: bytes = b""
    scan_blob: bytes = b""

    def __init__(self) -> None:
        from tokaudit.quiet import silence_libraries
        from tokaudit.sources.sides import load_sides

        silence_libraries()
        self.sides = load_sides(pickle.loads(self.settings_blob))
        self.scan = pickle.loads(self.scan_blob)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        out = []
        for i, blob in zip(batch["i"], batch["shard"]):
            try:
                out.append(pickle.dumps(("ok", int(i), self.scan(self.sides, pickle.loads(blob)))))
            except TokauditError as exc:  # an input error ends the run with its one line, not a Ray traceback
                out.append(pickle.dumps(("error", int(i), str(exc))))
            except Exception:  # a bug keeps its traceback; a skipped block must only ever mean a dead actor
                out.append(pickle.dumps(("bug", int(i), traceback.format_exc())))
        return {"tally": np.array(out, dtype=object)}


def run_ray(
    settings: Settings, shards: Iterable[Shard], scan: Any, workers: int, progress: Any, debug: bool = False
) -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        raise TokauditError("--engine ray needs Ray: pip install 'tokaudit[ray]'") from None
    from tokaudit.quiet import stderr_to_file

    # Ray's driver logs (C++ core worker, Ray Data's executor) go to fd 2; keep them for --debug only. Its
    # driver also prints the raylet's notices (a dead worker's) to sys.stdout, where the report may go:
    # they join the rest, and a Ray started here is shut down before the report is written.
    started = not ray.is_initialized()
    with stderr_to_file(keep=debug), contextlib.redirect_stdout(sys.stderr):
        try:
            yield from _job(ray, settings, list(shards), scan, workers, progress)
        finally:
            if started:
                ray.shutdown()


def _job(ray: Any, settings: Settings, listed: list[Shard], scan: Any, workers: int, progress: Any) -> Iterator[Any]:
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        ray.init(
            address=address or None,
            num_cpus=None if address else max(1, workers),
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=True,
        )
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    # a dead actor's shard is skipped by Ray Data and retried by the driver (below); the caller's own
    # setting comes back afterwards (the context is per process, and the API may share it)
    errored, ctx.max_errored_blocks = ctx.max_errored_blocks, -1
    try:
        yield from _passes(ray, settings, listed, scan, workers, progress)
    finally:
        ctx.max_errored_blocks = errored


def _passes(ray: Any, settings: Settings, listed: list[Shard], scan: Any, workers: int, progress: Any) -> Iterator[Any]:
    """Every shard once, then the shards whose actor died once more; still missing, the run ends."""
    worker = type(
        "ShardWorker", (_ShardWorker,), {"settings_blob": pickle.dumps(settings), "scan_blob": pickle.dumps(scan)}
    )
    todo = list(range(len(listed)))
    for _attempt in ("first", "retry"):
        came: set[int] = set()
        for i, value in _pass(ray, worker, listed, todo, workers):
            came.add(i)
            yield value
            if progress:
                progress(listed[i], value)
        todo = [i for i in todo if i not in came]
        if not todo:
            return
    raise died(listed[todo[0]], None, worker="Ray actor")


def _pass(ray: Any, worker: type, listed: list[Shard], todo: list[int], workers: int) -> Iterator[tuple[int, Any]]:
    """One Ray Data job over the shards `todo`: (index, tally) for every shard whose actor lived."""
    # descriptors only (a file and a byte range or row group), a few hundred bytes each, not the samples
    items = [{"shard": pickle.dumps(listed[i]), "i": i} for i in todo]
    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
        worker,
        batch_size=1,
        # one shard per actor at a time, so an actor's death loses only the shard it was checking
        compute=ray.data.ActorPoolStrategy(size=max(1, min(workers, len(items))), max_tasks_in_flight_per_actor=1),
        num_cpus=1,
        batch_format="numpy",
        max_restarts=-1,  # a fresh actor replaces a dead one ...
        max_task_retries=0,  # ... but the shard comes back to the driver, which retries it once
    )
    try:
        for row in ds.iter_rows():
            status, i, value = pickle.loads(row["tally"])
            if status == "error":
                raise TokauditError(value)
            if status == "bug":
                raise RuntimeError(f"a Ray actor failed on shard {i}:\n{value}")
            yield i, value
    except ray.exceptions.RayError as exc:  # Ray itself failed (actors that die as they start, a lost node)
        cause = getattr(exc, "cause", None)
        if isinstance(cause, TokauditError):  # an actor could not load a side: the loader's own line
            raise TokauditError(str(cause).strip().splitlines()[0]) from exc
        first = (str(exc).strip().splitlines() or [""])[0]
        raise TokauditError(
            f"--engine ray: the Ray job failed: {type(exc).__name__}: {first} (--debug shows Ray's log)"
        ) from exc
