"""The one place that runs the pipeline: config -> sides -> samples -> checks -> findings ->
ignore / baseline -> Report (and, for `snapshot`, the lock). Never prints, never exits.

The CLI and `tokaudit.audit` build a Request; `run` carries it out and returns an Outcome.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokaudit.baseline import apply_baseline, read_baseline, write_baseline
from tokaudit.bump import Other
from tokaudit.bump import run as bump_run
from tokaudit.checks.base import CheckResult
from tokaudit.checks.registry import CHECKS, Stream, checks_for, stored_side
from tokaudit.checks.revisions import config_findings
from tokaudit.config import Settings, load_config
from tokaudit.engine import default_workers, run_scans
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Finding, Report, Skipped
from tokaudit.options import Options
from tokaudit.output import write_file
from tokaudit.quiet import set_debug
from tokaudit.readers import Sample
from tokaudit.shards import SHARD_BYTES, Shard, draw, plan, read
from tokaudit.snapshot import build_lock, dump_lock
from tokaudit.sources.base import Sides
from tokaudit.sources.sides import load_sides
from tokaudit.version import __version__

_NOTHING = (
    "{cfg}: nothing to compare: no corpus is configured and the built-in corpus is off "
    "(add `corpus:` or drop --no-builtin)"
)
SNAPSHOT_CHUNK = 2048
#: what `Request.command` may be besides a CHECKS name
ALL = "check"
SNAPSHOT = "snapshot"
BUMP = "bump"


@dataclass(frozen=True)
class Request:
    """One run, as the CLI's flags (or the API's arguments) describe it."""

    command: str  # a CHECKS name, "check" (every check with inputs), "snapshot" or "bump"
    config: Path | Settings
    options: Options = field(default_factory=Options)
    #: fail only on findings not recorded in this baseline file
    baseline: Path | None = None
    #: record the run's findings in this file instead of judging them
    write_baseline: Path | None = None
    #: snapshot: where the lock goes
    lock: Path | None = None
    #: bump: the other environment's interpreter (`--python`), or what a throwaway one gets (`--with`)
    python: Path | None = None
    with_specs: tuple[str, ...] = ()
    #: where a long step says what it is doing (the CLI prints it on stderr; the runner never prints)
    say: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Outcome:
    """What a run produced: the Report, and one line for every file it wrote."""

    report: Report
    settings: Settings
    wrote: tuple[str, ...] = ()
    #: False when the run's job was to write a file (a baseline, a lock), not to judge findings
    judged: bool = True


def run(request: Request) -> Outcome:
    """Carry out a Request. Config and input problems raise TokauditError."""
    settings = request.config if isinstance(request.config, Settings) else load_config(request.config)
    known = read_baseline(request.baseline) if request.baseline else None  # a bad baseline fails before the work
    _refuse_stored(settings, request)
    set_debug(request.options.debug)  # llama.cpp logs from C: only --debug lets them through
    with load_sides(settings) as sides:  # a side in another interpreter holds a worker until the run ends
        if request.command == SNAPSHOT:
            return _snapshot(request, settings, sides)
        if request.command == BUMP:
            report = _bump(request, settings, sides)
        else:
            report = run_checks(settings, sides, request.command, request.options)
    if request.write_baseline is not None:
        n = write_baseline(report, request.write_baseline)
        return Outcome(report, settings, (f"wrote {request.write_baseline} ({n} finding(s) recorded)",), judged=False)
    if known is not None:
        report = apply_baseline(report, known)
    return Outcome(report, settings)


def _refuse_stored(settings: Settings, request: Request) -> None:
    """Stored ids can be diffed against a tokenizer, and nothing else: say so before loading anything."""
    side = stored_side(settings)
    if side is None:
        return
    what = None
    if request.command in (SNAPSHOT, BUMP) or request.options.against is not None:
        what = "a snapshot"
    elif request.command in CHECKS and CHECKS[request.command].needs_tokenizers:
        what = f"`{request.command}`"
    if what:
        raise ConfigError(
            f"{settings.config_path}: {side}.source: {what} needs a tokenizer on both sides; "
            "a `source: dataset` side only has stored ids (use `tokaudit diff`)"
        )


def run_checks(settings: Settings, sides: Sides, command: str, options: Options) -> Report:
    """Run one check (or, for "check", every check with inputs) on loaded sides; apply `ignore:`."""
    names = checks_for(settings) if command == ALL else [command]
    findings: list[Finding] = config_findings(settings)
    skipped: list[Skipped] = []
    summaries: dict[str, Any] = {}
    for name in names:
        check = CHECKS[name]
        if check.stream is not None and options.against is None:
            result = _streamed(check.stream, settings, sides, options)
        else:
            result = check.run(settings, sides, options)
        findings += result.findings
        skipped += result.skipped
        summaries[name] = result.summary
    ignore = set(settings.ignore)
    kept = tuple(f for f in findings if f.code not in ignore)
    return Report(
        command=command,
        findings=kept,
        summary=summaries[command] if command != ALL else {"checks": names, **summaries},
        header=header(settings, sides),
        skipped=tuple(skipped),
        ignored=len(findings) - len(kept),
    )


def _streamed(stream: Stream, settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Shard the corpus, scan the shards (here, in worker processes or on Ray), merge, finish."""
    scan = functools.partial(stream.scan, keep=options.examples)
    if stream.plan is not None:  # the check reads its own input (rollout-check's dump)
        shards = list(stream.plan(settings))
        scan = functools.partial(stream.scan, keep=options.examples, settings=settings)
    else:
        shards = list(plan(settings, sides.specials(), options.use_builtin(settings.builtin_corpus)))
        if not shards:
            raise InputError(_NOTHING.format(cfg=settings.config_path))
    if options.sample is not None:
        drawn = stream.draw(settings, shards, options.sample, options.seed) if stream.draw else None
        shards = list(drawn if drawn is not None else draw(shards, options.sample, options.seed))
    workers = _workers(options.workers, shards)
    progress = options.progress
    if progress is not None:
        progress.start(sum(s.size for s in shards), "B" if any(s.path for s in shards) else "samples")
    try:
        tally = run_scans(
            settings,
            sides,
            shards,
            scan,
            stream.tally(options),
            workers=workers,
            engine=options.engine,
            progress=(lambda shard, part: progress.advance(shard.size, part.samples())) if progress else None,
            debug=options.debug,
        )
    finally:
        if progress is not None:
            progress.stop()
    return stream.finish(settings, tally)


def _encoded(sides: Sides, batch: list[Sample]) -> list[tuple[str, str, dict[str, list[int] | str]]]:
    encoded = {name: tok.encode_all([s.text for s in batch]) for name, tok in sides.items()} if batch else {}
    return [(s.where, s.text, {name: encoded[name][i] for name in encoded}) for i, s in enumerate(batch)]


def _workers(asked: int | None, shards: list[Shard]) -> int:
    # A worker process costs a second or two to start (it loads both tokenizers): by default, use
    # them only when there is more than one shard's worth of input. Never more workers than shards.
    if asked is None:
        asked = default_workers() if sum(s.size for s in shards if s.path) > SHARD_BYTES else 1
    return max(1, min(asked, len(shards)))


def header(settings: Settings, sides: Sides) -> dict[str, Any]:
    """Versions, backends and revision: what a reader needs to reproduce the run."""
    model = settings.model
    return {
        "tokaudit": __version__,
        "python": platform.python_version(),
        "config": str(settings.config_path) if settings.config_path else None,
        "model": model.model_dump(mode="json") if model else None,
        "sides": {name: tok.describe() for name, tok in sides.items()},
    }


def _bump(request: Request, settings: Settings, sides: Sides) -> Report:
    """Snapshot in the other environment, `diff --against` it here (tokaudit.bump)."""
    other = Other(request.python, request.with_specs)

    def diff(options: Options) -> Report:
        return run_checks(settings, sides, "diff", options)

    return bump_run(settings, other, request.options, diff, say=request.say or (lambda _: None))


def _snapshot(request: Request, settings: Settings, sides: Sides) -> Outcome:
    """Encode every sample with both sides, chunk by chunk, and write the lock (see tokaudit.snapshot)."""
    shards = list(plan(settings, sides.specials(), request.options.use_builtin(settings.builtin_corpus)))
    if not shards:
        raise InputError(_NOTHING.format(cfg=settings.config_path))
    rows: list[tuple[str, str, dict[str, list[int] | str]]] = []
    skipped: list[Skipped] = []
    for shard in shards:
        batch: list[Sample] = []
        for _, item in read(shard):
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            batch.append(item)
            if len(batch) >= SNAPSHOT_CHUNK:
                rows += _encoded(sides, batch)
                batch = []
        rows += _encoded(sides, batch)
    head = header(settings, sides)
    lock = build_lock(head, rows)
    target = request.lock or Path("tokaudit.lock.json")
    write_file(dump_lock(lock), target, protect=settings.config_path)
    report = Report(
        command=SNAPSHOT,
        findings=(),
        summary={"samples": len(lock["samples"]), "sides": len(lock["sides"]), "lock": str(target)},
        header=head,
        skipped=tuple(skipped),
    )
    line = f"wrote {target}: {len(lock['samples'])} samples, {len(lock['sides'])} sides recorded"
    return Outcome(report, settings, (line,), judged=False)
