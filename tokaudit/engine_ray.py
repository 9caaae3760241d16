"""`--engine ray`: the same shard scans as a Ray Data job (the `ray` extra).

Ray Data receives the shard *descriptors* (a file, a byte range or row group, a first line number),
not the samples: each actor of the pool loads both sides once, reads its shards from the files
itself and returns a pickled tally; the driver merges tallies as they stream back. On a cluster the
input files must be readable at the same paths on every node (a shared filesystem), as must the
tokenizer files. `RAY_ADDRESS` (Ray's own variable) points the job at an existing cluster;
without it a local Ray is started with `--workers` CPUs.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Iterator
from typing import Any

from tokaudit.config import Settings
from tokaudit.errors import TokauditError
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
        return {"tally": np.array(out, dtype=object)}


def run_ray(
    settings: Settings, shards: Iterable[Shard], scan: Any, workers: int, progress: Any, debug: bool = False
) -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        raise TokauditError("--engine ray needs Ray: pip install 'tokaudit[ray]'") from None
    from tokaudit.quiet import stderr_to_file

    # Ray's driver logs (C++ core worker, Ray Data's executor) go to fd 2; keep them for --debug only.
    with stderr_to_file(keep=debug):
        yield from _job(ray, settings, list(shards), scan, workers, progress)


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
    # descriptors only (a file and a byte range or row group), a few hundred bytes each, not the samples
    items = [{"shard": pickle.dumps(s), "i": i} for i, s in enumerate(listed)]
    worker = type(
        "ShardWorker", (_ShardWorker,), {"settings_blob": pickle.dumps(settings), "scan_blob": pickle.dumps(scan)}
    )
    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
        worker,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
        num_cpus=1,
        batch_format="numpy",
    )
    for row in ds.iter_rows():
        status, i, value = pickle.loads(row["tally"])
        if status == "error":
            raise TokauditError(value)
        yield value
        if progress:
            progress(listed[i], value)
