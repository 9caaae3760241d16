"""A worker that died: how to say which shard it was checking and how it died, in one line.

Both engines retry a shard whose worker died once, in a fresh worker; a shard that kills its worker
again ends the run with `died(shard, how)` (exit 2), never with a pool's or Ray's traceback.
"""

from __future__ import annotations

import signal

from tokaudit.errors import TokauditError
from tokaudit.shards import Shard

#: what to try when a shard kills its worker every time: the usual cause is memory
HINT = "try fewer --workers (each one holds both tokenizers) or check a --sample of the corpus"


class WorkerDied(TokauditError):
    """A shard killed the worker checking it twice: once among others, once alone in a fresh worker."""


def where(shard: Shard) -> str:
    """The shard as a person finds it again: its config key and file, and the byte range or rows."""
    if shard.path is None:
        if not shard.items:
            return shard.key or "a shard"
        first, last = shard.items[0][1].where, shard.items[-1][1].where
        what = "the built-in cases" if shard.key == "builtin" else f"{len(shard.items)} sampled samples"
        return f"{what} ({first} .. {last})"
    head = f"{shard.key}: {shard.path}"
    if shard.span is not None:
        span = shard.span
        return f"{head} bytes {span.start}-{span.end} (lines from {span.first_line})"
    if shard.limit is not None:
        return f"{head} (its first {shard.limit} records)"
    return f"{head} (the whole file)"


def how(exitcode: int | None) -> str:
    """A dead process's exit code in words: the signal that killed it, or its exit status."""
    if exitcode is None or exitcode == 0:
        return "died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        # the out-of-memory killer sends SIGKILL; say so, since it is by far the likeliest sender
        return f"killed by {name}" + (", as the out-of-memory killer does" if name == "SIGKILL" else "")
    return f"exited with status {exitcode}"


def died(shard: Shard, cause: str | None, worker: str = "worker process") -> WorkerDied:
    """The one line for a shard that killed its worker, and then the fresh one it was retried in alone."""
    said = f" ({cause})" if cause else ""
    return WorkerDied(
        f"{where(shard)}: a {worker} died checking this shard{said}, and again when it was retried alone "
        f"in a fresh one; {HINT}"
    )
