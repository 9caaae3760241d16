"""rollout-check's reader mapping: a record of a rollout dump as a Trajectory, or Skipped with why.

The fields come from the config's `rollouts:` (`messages`, `turns`, `input_ids`, `loss_mask`, `tools`);
the records from tokaudit's readers (JSONL plain / .gz / .zst, Parquet, `datasets` save_to_disk), so a
trajectory's `where` is the same `file:line` / `file:row` every other check prints. A record that cannot
be checked is Skipped with the field and the reason; nothing here raises for one record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tokaudit.config import RolloutsSpec
from tokaudit.conversations import plain_messages
from tokaudit.findings import Skipped
from tokaudit.readers import Record, Span, records

Message = dict[str, Any]
#: no vocabulary has 2**31 tokens, and the libraries' decode calls overflow on an id past 32 (tokenizers)
#: or 31 (SentencePiece) bits: such an id is a broken record, not a token to look up
ID_LIMIT = 2**31


@dataclass(frozen=True)
class Turn:
    """One engine call: the ids it was prompted with, the ids it sampled, and how many logprobs it returned."""

    prompt: tuple[int, ...]
    completion: tuple[int, ...]
    logprobs: int | None = None


@dataclass(frozen=True)
class Trajectory:
    """One record: the engine's turns, the conversation the trainer sees, the trainer's row."""

    where: str
    turns: tuple[Turn, ...] = ()
    messages: list[Message] | None = None
    tools: list[dict[str, Any]] | None = None
    input_ids: tuple[int, ...] | None = None
    loss_mask: tuple[int, ...] | None = None

    @property
    def sampled(self) -> int:
        """Tokens the engine sampled (every turn's completion)."""
        return sum(len(t.completion) for t in self.turns)


def columns(spec: RolloutsSpec) -> list[str]:
    """The record fields the config maps (the columns to read from Parquet / Arrow)."""
    names = (spec.messages, spec.turns, spec.input_ids, spec.loss_mask, spec.tools)
    return [n for n in dict.fromkeys(names) if n]


def read(spec: RolloutsSpec, key: str, span: Span | None = None) -> Iterator[Trajectory | Skipped]:
    """Every record of the dump (or of one span of a JSONL file) as a Trajectory or Skipped."""
    wanted = columns(spec)
    for rec in records(spec.path, wanted, key, span=span):
        yield rec if isinstance(rec, Skipped) else parse(spec, rec)


def parse(spec: RolloutsSpec, rec: Record) -> Trajectory | Skipped:
    """One record as a Trajectory, or Skipped with the field and the reason."""
    try:
        return trajectory(spec, rec)
    except _Bad as exc:
        return Skipped(rec.where, str(exc))


class _Bad(Exception):
    """Why a record is not a trajectory (becomes its Skipped reason)."""


def trajectory(spec: RolloutsSpec, rec: Record) -> Trajectory:
    value = rec.value
    turns = _turns(value, spec.turns) if spec.turns else ()
    messages = _messages(value, spec.messages) if spec.messages else None
    tools = _tools(value, spec.tools) if spec.tools else None
    input_ids = tuple(_ids(_field(value, spec.input_ids), spec.input_ids)) if spec.input_ids else None
    mask = None
    if spec.loss_mask:
        mask = tuple(_mask(_field(value, spec.loss_mask), spec.loss_mask))
        if input_ids is not None and len(mask) != len(input_ids):
            raise _Bad(f"`{spec.loss_mask}` has {len(mask)} values but `{spec.input_ids}` has {len(input_ids)} ids")
    return Trajectory(rec.where, turns, messages, tools, input_ids, mask)


def _field(value: dict[str, Any], name: str) -> Any:
    if name not in value:
        raise _Bad(f"field `{name}` is missing")
    got = value[name]
    if got is None:
        raise _Bad(f"field `{name}` is null")
    return got


def _ids(value: Any, name: str) -> list[int]:
    if not isinstance(value, list | tuple):
        raise _Bad(f"`{name}` is {type(value).__name__}, not a list of integers")
    for k, v in enumerate(value):
        if not isinstance(v, int) or isinstance(v, bool):
            raise _Bad(f"`{name}[{k}]` is {v!r} ({type(v).__name__}), not an integer")
        if v < 0:
            raise _Bad(f"`{name}[{k}]` is {v}, a negative id")
        if v >= ID_LIMIT:
            raise _Bad(f"`{name}[{k}]` is {v}, past any vocabulary (ids are below 2**31)")
    return list(value)


def _mask(value: Any, name: str) -> list[int]:
    if not isinstance(value, list | tuple):
        raise _Bad(f"`{name}` is {type(value).__name__}, not a list of 0 and 1")
    out = []
    for k, v in enumerate(value):
        if v not in (0, 1):  # True / False count as 1 / 0, as torch does
            raise _Bad(f"`{name}[{k}]` is {v!r}, not 0 or 1")
        out.append(int(v))
    return out


def _turns(value: dict[str, Any], name: str) -> tuple[Turn, ...]:
    raw = _field(value, name)
    if isinstance(raw, str):  # a JSON string column
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _Bad(f"`{name}` is a string but not JSON") from None
    if not isinstance(raw, list | tuple) or not raw:
        raise _Bad(f"`{name}` is not a non-empty list of turns")
    turns: list[Turn] = []
    for k, t in enumerate(raw):
        where = f"{name}[{k}]"
        if not isinstance(t, dict):
            raise _Bad(f"`{where}` is {type(t).__name__}, not an object with prompt_ids and completion_ids")
        prompt = _ids(_part(t, where, "prompt_ids"), f"{where}.prompt_ids")
        completion = _ids(_part(t, where, "completion_ids"), f"{where}.completion_ids")
        logprobs = t.get("logprobs")
        if logprobs is not None and not isinstance(logprobs, list | tuple):
            raise _Bad(f"`{where}.logprobs` is {type(logprobs).__name__}, not a list")
        if turns and len(prompt) < len(turns[-1].prompt):
            raise _Bad(
                f"`{where}.prompt_ids` has {len(prompt)} ids, fewer than the previous turn's {len(turns[-1].prompt)}: "
                "the turns are out of order or from another trajectory"
            )
        turns.append(Turn(tuple(prompt), tuple(completion), None if logprobs is None else len(logprobs)))
    return tuple(turns)


def _part(turn: dict[str, Any], where: str, key: str) -> Any:
    if turn.get(key) is None:
        raise _Bad(f"`{where}.{key}` is missing")
    return turn[key]


def _messages(value: dict[str, Any], name: str) -> list[Message]:
    raw = _field(value, name)
    if not isinstance(raw, list | tuple) or not raw:
        raise _Bad(f"`{name}` is not a non-empty list of messages")
    messages = plain_messages(list(raw))
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise _Bad(f"`{name}[{i}]` is not an object with a string `role`")
    return messages


def _tools(value: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    raw = value.get(name)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _Bad(f"`{name}` is a string but not JSON") from None
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise _Bad(f"`{name}` is not a list of tool schemas")
    return plain_messages(raw)
