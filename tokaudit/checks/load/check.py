"""`load-check`: load each `hf` / `hf-slow` side N times at once (threads, then spawned processes), each
from a fresh copy of its files and a fresh HF cache, and compare every load with the audit's own load
of the side: the class and backend AutoTokenizer picked, no Python fallback where the fast backend was
asked for, no exception, and the same ids on the built-in corpus (TA601-TA604, docs/load-check.md).

The loading itself is the source's (`Reloadable`); this module only decides what a load's record means.
"""

from __future__ import annotations

from typing import Any

from tokaudit.checks.base import CheckResult
from tokaudit.checks.load.judge import Reference, judge
from tokaudit.config import MAX_LOADS, Settings
from tokaudit.corpus import builtin_samples
from tokaudit.errors import ConfigError
from tokaudit.findings import Skipped
from tokaudit.options import Options
from tokaudit.sources.base import Sides
from tokaudit.sources.capabilities import LoadRecord, Reloadable, ResolutionReporter

#: loads of each kind when neither the flags nor the config's `load_check:` say
DEFAULT_THREADS = 4
DEFAULT_PROCESSES = 2


def counts(settings: Settings, options: Options) -> tuple[int, int]:
    """(threads, processes): the flags, else the config's `load_check:`, else the defaults."""
    spec = settings.load_check
    threads = options.threads if options.threads is not None else (spec.threads if spec else DEFAULT_THREADS)
    processes = options.processes if options.processes is not None else (spec.processes if spec else DEFAULT_PROCESSES)
    if threads <= 0 and processes <= 0:
        raise ConfigError(f"{settings.config_path}: load_check: nothing to load: --threads and --processes are both 0")
    if max(threads, processes) > MAX_LOADS:
        raise ConfigError(f"{settings.config_path}: --threads / --processes: at most {MAX_LOADS} loads of each kind")
    return threads, processes


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Reload every side that can be reloaded and judge each load. Raises ConfigError when none can."""
    threads, processes = counts(settings, options)
    result = CheckResult()
    reloadable = [(name, tok) for name, tok in sides.items() if isinstance(tok, Reloadable)]
    for name, tok in sides.items():
        if not isinstance(tok, Reloadable):
            result.skipped.append(Skipped(name, f"`source: {tok.source}` is not loaded by AutoTokenizer"))
    if not reloadable:
        raise ConfigError(
            f"{settings.config_path}: load-check loads `hf` and `hf-slow` sides, and this config has none "
            f"(training: {sides.training.source}, serving: {sides.serving.source})"
        )
    samples = builtin_samples(sides.specials())
    texts = [s.text for s in samples]
    summary: dict[str, Any] = {"load_threads": threads, "load_processes": processes, "load_samples": len(texts)}
    failing = 0
    for name, tok in reloadable:
        records = tok.reload(texts, threads, processes)
        reference = _reference(tok, records, tok.encode_all(texts))
        found, bad = judge(name, reference, records, [s.where for s in samples], threads, processes)
        result.findings += found
        failing += bad
        summary[f"{name}_loads"] = _classes(records)
    summary["loads_checked"] = len(reloadable) * (threads + processes)
    summary["loads_failing"] = failing
    result.summary = summary
    return result


def _reference(tok: Any, records: list[LoadRecord], ids: list[list[int] | str]) -> Reference:
    """What every fresh load should match: the audit's own load of the side."""
    if isinstance(tok, ResolutionReporter):
        own = tok.resolution()
        return Reference(own.cls, own.backend, tuple(ids))
    first = next((r for r in records if r.error is None), None)  # a source that cannot say: the first load
    return Reference(first.cls if first else None, first.backend if first else None, tuple(ids))


def _classes(records: list[LoadRecord]) -> dict[str, int]:
    """How many loads got each class (backend), and how many raised: the summary's one line per side."""
    out: dict[str, int] = {}
    for r in records:
        key = "raised" if r.error is not None else f"{r.cls} ({r.backend})"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))
