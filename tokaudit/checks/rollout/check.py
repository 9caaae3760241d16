"""`rollout-check`: audit a rollout dump — what the engine sampled against what the trainer trains on.

Per trajectory: the round trip of each completion (decode → encode on the training side), append-only
turns (each prompt extends the previous prompt + completion), the trainer's re-rendering of `messages`
against each turn's ids, and the trainer's row (loss mask, stop token, logprobs, id range). The dump
streams in shards through the engines diff uses (`--workers`, `--engine ray`), `--sample` draws from it,
and each finding is one distinct cause with its exact count of trajectories.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from tokaudit.checks.base import CheckResult
from tokaudit.checks.rollout.records import columns
from tokaudit.checks.rollout.scan import RolloutTally, scan
from tokaudit.config import Settings
from tokaudit.engine import run_scans
from tokaudit.errors import ConfigError, InputError
from tokaudit.options import Options
from tokaudit.readers import Record, line_spans, records, sample_stream
from tokaudit.shards import SHARD_BYTES, SHARD_SAMPLES, Order, Shard
from tokaudit.sources.base import Sides

__all__ = ["draw", "finish", "plan", "run", "scan", "tally"]


def tally(options: Options) -> RolloutTally:
    return RolloutTally(keep=options.examples)


def _key(settings: Settings) -> str:
    return f"{settings.config_path}: rollouts"


def plan(settings: Settings) -> Iterator[Shard]:
    """The dump in shards: byte ranges of a plain JSONL file, else the whole file (or folder)."""
    spec = settings.rollouts
    if spec is None:
        raise ConfigError(f"{settings.config_path}: rollouts: rollout-check needs `rollouts:` (path and fields)")
    path, key = Path(spec.path), _key(settings)
    one = Shard(0, key, path, size=_size(path))
    spans = line_spans(path, SHARD_BYTES, key)
    yield from [one] if spans is None else (replace(one, span=s, size=s.end - s.start) for s in spans)


def draw(settings: Settings, shards: Iterable[Shard], n: int, seed: int) -> Iterator[Shard]:
    """`--sample N --seed S`: the same N records for the same seed (one pass, memory for N records)."""
    assert settings.rollouts is not None
    wanted = columns(settings.rollouts)

    def stream() -> Iterator[tuple[Order, Record]]:
        for shard in shards:
            assert shard.path is not None
            start = shard.span.start if shard.span else 0
            for k, rec in enumerate(records(shard.path, wanted, shard.key, span=shard.span)):
                if isinstance(rec, Record):
                    yield (shard.input, start, k), rec

    chosen = sample_stream(stream(), n, seed)
    for start in range(0, len(chosen), SHARD_SAMPLES):
        part = tuple(chosen[start : start + SHARD_SAMPLES])
        yield Shard(0, "sample", items=part, size=len(part))


def finish(settings: Settings, t: RolloutTally) -> CheckResult:
    """The merged tally as findings and a summary; no trajectory checked is an InputError (one line)."""
    skipped = t.skipped.items()
    if t.trajectories == 0:
        path = settings.rollouts.path if settings.rollouts else "rollouts"
        first = f"; first: {skipped[0].where}: {skipped[0].reason}" if skipped else ""
        raise InputError(
            f"{_key(settings)}: no trajectory in {path} could be checked ({t.skipped.count} skipped{first})"
        )
    findings = t.groups.findings()
    summary = {
        "trajectories": t.trajectories,
        "trajectories_skipped": t.skipped.count,
        "turns": t.turns,
        "checks_run": dict(t.checks),
        "tokens_sampled": t.sampled,
        **({"tokens_trained": t.trained} if settings.rollouts and settings.rollouts.loss_mask else {}),
        "trajectories_affected": t.affected,
        "share_trajectories_affected": round(t.affected / t.trajectories, 6),
        "distinct_problems": len(findings),
        **t.by_cause(),
    }
    if t.not_rendered:
        summary["trajectories_not_rendered"] = t.not_rendered
    return CheckResult(findings=findings, skipped=skipped, summary=summary)


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """In this process (what `check --against` gets: the dump has no lock to compare with)."""
    import functools

    shards = list(plan(settings))
    if options.sample is not None:
        shards = list(draw(settings, shards, options.sample, options.seed))
    part = functools.partial(scan, keep=options.examples, settings=settings)
    merged = tally(options)
    run_scans(settings, sides, shards, part, merged)
    return finish(settings, merged)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.glob("*.arrow"))
    return path.stat().st_size if path.exists() else 0
