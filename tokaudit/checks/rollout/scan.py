"""rollout-check over one shard: read trajectories, run the four checks in batches, tally by cause.

The library calls are batched over a chunk of trajectories (every completion decoded and re-encoded in
one call each; every conversation rendered, then encoded in one call); comparing ids is plain list work.
A cause's evidence (`findings.py`) is built only the first time a shard sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from tokaudit.chat import RenderError, Template, add_special_default, load_template, render_text
from tokaudit.checks.rollout import findings as rf
from tokaudit.checks.rollout import roundtrip, row
from tokaudit.checks.rollout.boundary import explain, prefix_break
from tokaudit.checks.rollout.records import Trajectory, parse, read
from tokaudit.checks.rollout.tally import RolloutTally, Seen
from tokaudit.config import RolloutsSpec, Settings
from tokaudit.errors import ConfigError
from tokaudit.findings import Skipped
from tokaudit.shards import Order, Shard
from tokaudit.sources.base import Sides, Tokenizer

#: trajectories per batch of library calls
CHUNK = 512


@dataclass(frozen=True)
class Context:
    """What every trajectory is checked with: the trainer's tokenizer and template, the mapping, the limits."""

    tok: Tokenizer
    spec: RolloutsSpec
    template: Template | None  # None: `messages` not mapped, no re-render
    add_special: bool
    rows: int | None  # the model's embedding rows (`model.vocab_size`)
    stops: frozenset[int]  # ids a completion may end with to stop: special and added tokens, EOS


def context(settings: Settings, sides: Sides) -> Context:
    spec = settings.rollouts
    cfg = settings.config_path
    if spec is None:
        raise ConfigError(f"{cfg}: rollouts: rollout-check needs `rollouts:` (path and the fields to read)")
    tok = sides.training
    template = None
    if spec.messages:
        template = load_template(tok, settings.training, f"{cfg}: training.chat_template")
    stops = set(tok.special_names())
    if tok.eos_id is not None:
        stops.add(tok.eos_id)
    rows = settings.model.vocab_size if settings.model is not None else None
    return Context(tok, spec, template, add_special_default(settings.training, "training"), rows, frozenset(stops))


def scan(sides: Sides, shard: Shard, keep: int = 5, settings: Settings | None = None) -> RolloutTally:
    assert settings is not None, "rollout-check's scan needs the settings"
    ctx = context(settings, sides)
    tally = RolloutTally(keep=keep)
    batch: list[tuple[Order, Trajectory]] = []
    for order, item in _items(ctx, shard):
        if isinstance(item, Skipped):
            tally.skipped.add(order, item)
            continue
        batch.append((order, item))
        if len(batch) >= CHUNK:
            check_batch(ctx, batch, tally)
            batch = []
    if batch:
        check_batch(ctx, batch, tally)
    return tally


def _items(ctx: Context, shard: Shard) -> Iterator[tuple[Order, Trajectory | Skipped]]:
    if shard.path is None:  # a `--sample` draw carries its records
        for order, rec in shard.items:
            yield order, parse(ctx.spec, rec)
        return
    start = shard.span.start if shard.span else 0
    for k, item in enumerate(read(ctx.spec, shard.key, shard.span)):
        yield (shard.input, start, k), item


def check_batch(ctx: Context, batch: list[tuple[Order, Trajectory]], tally: RolloutTally) -> None:
    trips = _round_trips(ctx, [t for _, t in batch])
    rendered = _rerendered(ctx, [t for _, t in batch])
    for (order, t), trip, again in zip(batch, trips, rendered):
        seen = Seen(tally, order, t.where)
        tally.turns += len(t.turns)
        tally.sampled += t.sampled
        if t.loss_mask is not None:
            tally.trained += sum(t.loss_mask)
        if t.turns:
            tally.checks["round trip"] += 1
            for k, text, ids in trip:
                _round_trip(ctx, seen, t, k, text, ids)
        if len(t.turns) > 1:
            tally.checks["append-only"] += 1
            _append_only(ctx, seen, t)
        if isinstance(again, str):
            tally.not_rendered += 1
        elif again is not None and t.turns:
            tally.checks["re-render"] += 1
            _rerender(ctx, seen, t, again)
        _row(ctx, seen, t)
        seen.close()


def _round_trips(ctx: Context, trajs: list[Trajectory]) -> list[list[tuple[int, str, list[int]]]]:
    """(turn, decoded text, re-encoded ids) for every non-empty completion, two library calls in all."""
    where = [(n, k) for n, t in enumerate(trajs) for k, turn in enumerate(t.turns) if turn.completion]
    sampled = [list(trajs[n].turns[k].completion) for n, k in where]
    texts = ctx.tok.decode_all(sampled, ctx.spec.decode.skip_special_tokens) if sampled else []
    again = ctx.tok.encode_rendered_all(texts, False) if texts else []
    out: list[list[tuple[int, str, list[int]]]] = [[] for _ in trajs]
    for (n, k), text, ids in zip(where, texts, again):
        out[n].append((k, text, ids))
    return out


def _rerendered(ctx: Context, trajs: list[Trajectory]) -> list[list[int] | str | None]:
    """The trainer's ids for each conversation; a template's refusal as its message; None when not mapped."""
    if ctx.template is None:
        return [None] * len(trajs)
    texts: list[str | None] = []
    out: list[list[int] | str | None] = []
    for t in trajs:
        if t.messages is None:
            texts.append(None)
            out.append(None)
            continue
        try:
            texts.append(render_text(ctx.tok, ctx.template, t.messages, False, t.tools)[0])
            out.append(None)
        except RenderError as exc:
            texts.append(None)
            out.append(str(exc))
    todo = [i for i, x in enumerate(texts) if x is not None]
    encoded = ctx.tok.encode_rendered_all([texts[i] or "" for i in todo], ctx.add_special) if todo else []
    for i, ids in zip(todo, encoded):
        out[i] = ids
    return out


def _round_trip(ctx: Context, seen: Seen, t: Trajectory, k: int, text: str, again: list[int]) -> None:
    sampled = t.turns[k].completion
    if tuple(again) == sampled:
        return
    trip = roundtrip.classify(ctx.tok, sampled, text, again, ctx.spec.decode.skip_special_tokens)
    code = roundtrip.CODES[trip.cause]
    make = partial(rf.round_trip, ctx.tok, t, k, trip, again, code)
    seen.note(code, f"round trip: {trip.cause}", len(sampled) - trip.index, make)


def _append_only(ctx: Context, seen: Seen, t: Trajectory) -> None:
    first = t.turns[0]
    spans = [(len(first.prompt), len(first.prompt) + len(first.completion))]
    for k in range(1, len(t.turns)):
        prev = t.turns[k - 1].prompt + t.turns[k - 1].completion
        turn = t.turns[k]
        i = prefix_break(prev, turn.prompt)
        if i is not None:
            tokens = sum(max(0, e - max(s, i)) for s, e in spans)
            brk = explain(ctx.tok, prev, turn.prompt, i, rf.reasoning(t.messages))
            code = rf.boundary_code("append-only", brk.cause)
            make = partial(rf.append_only, ctx.tok, t, k, brk, spans, code)
            seen.note(code, f"append-only: {brk.cause}", tokens, make)
            spans = [(s, e) for s, e in spans if e <= i]
        spans.append((len(turn.prompt), len(turn.prompt) + len(turn.completion)))


def _rerender(ctx: Context, seen: Seen, t: Trajectory, again: list[int]) -> None:
    first: tuple[int, int] | None = None
    tokens = 0
    for k, turn in enumerate(t.turns):
        seq = turn.prompt + turn.completion
        i = prefix_break(seq, again)
        if i is None:
            continue
        tokens += len(seq) - max(i, len(turn.prompt))
        first = first or (k, i)
    if first is None:
        return
    k, i = first
    seq = t.turns[k].prompt + t.turns[k].completion
    brk = explain(ctx.tok, seq, again, i, rf.reasoning(t.messages))
    code = rf.boundary_code("re-render", brk.cause)
    make = partial(rf.rerender, ctx.tok, t, k, brk, again, code)
    seen.note(code, f"re-render: {brk.cause}", tokens, make)


def _row(ctx: Context, seen: Seen, t: Trajectory) -> None:
    problems: list[Any] = row.logprob_problems(t)
    if ctx.rows is not None:
        problems += row.range_problems(t, ctx.rows)
    if t.turns and t.input_ids is not None and t.loss_mask is not None:
        seen.tally.checks["trainer row"] += 1
        problems += row.mask_problems(t, set(ctx.stops))
    for p in problems:
        code = row.CODES[p.cause]
        seen.note(code, f"row: {p.cause}", p.tokens, partial(rf.row_problem, ctx.tok, t, p, code, ctx.rows))
