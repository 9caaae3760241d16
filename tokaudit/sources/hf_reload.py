"""Fresh loads of an `hf` / `hf-slow` side for load-check, many at once, each read back as a LoadRecord.

What went wrong in production was a first-time load on a fresh node: AutoTokenizer handed some
workers of a pool the Python backend. So every load here starts from its own copy of the tokenizer
files and its own HF cache, and the loads of a batch wait at a barrier so they really overlap.
Threads share their process (and transformers' module cache, as a thread pool does); processes are
spawned, not forked, so each imports transformers anew with HF_HOME pointing at its own cache.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.quiet import silence_libraries
from tokaudit.sources.capabilities import LoadRecord, ResolutionReporter
from tokaudit.sources.registry import source_class

#: model weights are never copied: a tokenizer load does not read them, and they can be gigabytes
WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".onnx", ".npz")
#: how long a load waits for the others of its batch before it starts anyway
BARRIER_SECONDS = 120.0

#: how long a batch of process loads may take before the stragglers are stopped and reported
PROCESS_SECONDS = 600.0


def reload_all(spec: SideSpec, texts: list[str], threads: int, processes: int, asked_fast: bool) -> list[LoadRecord]:
    """`threads` loads at once in threads, then `processes` at once in spawned processes."""
    records: list[LoadRecord] = []
    if threads > 0:
        barrier = threading.Barrier(threads)
        with ThreadPoolExecutor(threads, thread_name_prefix="tokaudit-load") as pool:
            futures = [pool.submit(load_once, spec, texts, "thread", n, asked_fast, barrier) for n in _numbers(threads)]
            records += [f.result() for f in futures]  # load_once never raises
    if processes > 0:
        records += _in_processes(spec, texts, processes, asked_fast)
    return records


def _numbers(n: int) -> range:
    return range(1, n + 1)


def _in_processes(spec: SideSpec, texts: list[str], processes: int, asked_fast: bool) -> list[LoadRecord]:
    # One process per load (not a pool): a process that has loaded once is no longer fresh, and a load that
    # kills its process (a crash in native code) is seen by its exit code.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results: Any = ctx.Queue()
    procs = {
        n: ctx.Process(
            target=_load_in_process,
            args=(spec, texts, n, asked_fast, barrier, results),
            name=f"tokaudit-load-{n}",
            daemon=True,
        )
        for n in _numbers(processes)
    }
    for proc in procs.values():
        proc.start()
    got: dict[int, LoadRecord] = {}
    deadline = time.monotonic() + PROCESS_SECONDS
    while len(got) < processes and time.monotonic() < deadline:
        try:
            record = results.get(timeout=0.5)
            got[record.number] = record
        except queue.Empty:
            if not any(p.is_alive() for n, p in procs.items() if n not in got) and results.empty():
                break  # the rest died without a word
    out = []
    for n, proc in procs.items():
        proc.join(timeout=5)
        if n in got:
            out.append(got[n])
            continue
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
            error = f"TimeoutError: the load did not finish within {PROCESS_SECONDS:.0f} s"
        else:
            error = f"ProcessDied: the load's process exited with code {proc.exitcode} before it reported"
        out.append(LoadRecord("process", n, asked_fast, error=error))
    return out


def _load_in_process(
    spec: SideSpec, texts: list[str], number: int, asked_fast: bool, barrier: Any, results: Any
) -> None:
    # Before transformers (and huggingface_hub) are imported: they read these once, at import.
    home = Path(tempfile.mkdtemp(prefix=f"tokaudit-hf-home-{number}-"))
    os.environ["HF_HOME"] = str(home)
    os.environ["HF_MODULES_CACHE"] = str(home / "modules")
    silence_libraries()
    try:
        results.put(load_once(spec, texts, "process", number, asked_fast, barrier))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def load_once(spec: SideSpec, texts: list[str], via: str, number: int, asked_fast: bool, barrier: Any) -> LoadRecord:
    """Copy the side's files, wait for the batch, load with a cache of its own, encode `texts`."""
    root = Path(tempfile.mkdtemp(prefix=f"tokaudit-load-{via}-{number}-"))
    copied: str | None = None
    waited = False
    try:
        copied = copy_files(spec.path, root / "files")
        fresh = spec.model_copy(update={"path": copied}) if copied else spec
        waited = True
        _wait(barrier)
        tok = source_class(spec.source)(fresh, cache_dir=str(root / "cache"), strict=False)
        cls, backend = type(tok).__name__, "unknown"
        if isinstance(tok, ResolutionReporter):
            resolved = tok.resolution()
            cls, backend = resolved.cls, resolved.backend
        ids = tuple(tok.encode_all(texts))
        return LoadRecord(via, number, asked_fast, cls=cls, backend=backend, ids=ids)
    except Exception as exc:  # whatever a load raises is what load-check reports for it
        if barrier is not None and not waited:
            barrier.abort()  # the others need not wait for a load that will never come
        message = _describe(exc)
        if copied and spec.path:
            message = message.replace(copied, spec.path)  # name the user's folder, not the temporary copy
        message = message.replace(str(root), "<the load's own folder>")
        return LoadRecord(via, number, asked_fast, error=message)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def copy_files(path: str | None, into: Path) -> str | None:
    """A fresh copy of a local folder's files (weights left out) under `into`; None for a hub id, which the
    load's own empty cache makes a first-time download."""
    if path is None or not Path(path).is_dir():
        return None
    # The folder's own name: transformers keeps a folder's remote code under that name (as it would here)
    target = into / (Path(path).resolve().name or "tokenizer")
    target.mkdir(parents=True)
    for item in Path(path).iterdir():
        if item.is_file() and not item.name.endswith(WEIGHTS):
            shutil.copy2(item, target / item.name)
        elif item.is_dir() and not item.name.startswith("."):
            shutil.copytree(item, target / item.name, ignore=shutil.ignore_patterns(*(f"*{w}" for w in WEIGHTS)))
    return str(target)


def _wait(barrier: Any) -> None:
    if barrier is None:
        return
    try:
        barrier.wait(BARRIER_SECONDS)
    except threading.BrokenBarrierError:
        pass  # another load of the batch failed before it got here, or is very slow: load anyway


def _describe(exc: BaseException) -> str:
    """`<class>: <message>` on one line; for a SourceError, the library's exception it wraps."""
    if isinstance(exc, SourceError) and exc.__cause__ is not None:
        inner = exc.__cause__
        return f"{type(inner).__name__}: {_one_line(inner)}"
    return f"{type(exc).__name__}: {_one_line(exc)}"


def _one_line(exc: BaseException, limit: int = 400) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
