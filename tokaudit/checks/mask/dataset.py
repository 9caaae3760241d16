"""mask-check `dataset`: read the user's tokenized training records, one problem per malformed line.

A line is `{"input_ids": [...], "labels": [...], "messages": [...]}`; a label of -100 is masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokaudit.jsonl import read_jsonl

IGNORE = -100


@dataclass(frozen=True)
class Record:
    """One tokenized training sample and the conversation it came from."""

    where: str
    line: int
    messages: list[dict[str, Any]]
    input_ids: list[int]
    labels: list[int]


@dataclass(frozen=True)
class Malformed:
    """A line that is not a usable record, and why."""

    where: str
    line: int
    problem: str


def read_records(path: Path, cfg: Path | None) -> tuple[list[Record], list[Malformed]]:
    records: list[Record] = []
    bad: list[Malformed] = []
    for where, n, obj, problem in read_jsonl(path, f"{cfg}: mask.dataset"):
        problem = problem or _problem(obj)
        if problem:
            bad.append(Malformed(where, n, problem))
        else:
            records.append(Record(where, n, obj["messages"], obj["input_ids"], obj["labels"]))
    return records, bad


def _ints(obj: dict[str, Any], key: str) -> str | None:
    if key not in obj:
        return f"`{key}` is missing"
    value = obj[key]
    if not isinstance(value, list):
        return f"`{key}` is {type(value).__name__}, not a list of integers"
    for k, v in enumerate(value):
        if not isinstance(v, int) or isinstance(v, bool):
            return f"`{key}[{k}]` is {v!r} ({type(v).__name__}), not an integer"
    return None


def _problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected an object with input_ids, labels and messages, got {type(obj).__name__}"
    for key in ("input_ids", "labels"):
        problem = _ints(obj, key)
        if problem:
            return problem
    if len(obj["input_ids"]) != len(obj["labels"]):
        return f"`input_ids` has {len(obj['input_ids'])} ids but `labels` has {len(obj['labels'])}"
    if not obj["input_ids"]:
        return "`input_ids` is empty"
    if any(v < 0 for v in obj["input_ids"]):
        return "`input_ids` holds a negative id"
    odd = next((v for v in obj["labels"] if v < 0 and v != IGNORE), None)
    if odd is not None:
        return f"`labels` holds {odd}: a masked label is {IGNORE}"
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        return "`messages` is missing or not a non-empty list (the conversation the ids were made from)"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            return f"`messages[{i}]` is not an object with string `role` and `content`"
    return None
