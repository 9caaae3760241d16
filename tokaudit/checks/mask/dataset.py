"""mask-check `dataset`: read the user's tokenized training records, one problem per malformed record.

A record is `{"input_ids": [...], "labels": [...], "messages": [...]}`; a label of -100 is masked. It is
a line of a .jsonl / .jsonl.gz / .jsonl.zst file or a row of a .parquet file or a `datasets`
save_to_disk folder (`messages` a list of structs, as `datasets` writes it), read lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokaudit.conversations import plain_messages
from tokaudit.readers import Record as Row
from tokaudit.readers import columns, records

IGNORE = -100
#: the columns read from a Parquet file or save_to_disk folder (each one required)
COLUMNS = ["input_ids", "labels", "messages"]


@dataclass(frozen=True)
class Record:
    """One tokenized training sample and the conversation it came from."""

    where: str
    messages: list[dict[str, Any]]
    input_ids: list[int]
    labels: list[int]


@dataclass(frozen=True)
class Malformed:
    """A record that is not usable, and why."""

    where: str
    problem: str


def read_records(path: Path, cfg: Path | None) -> Iterator[Record | Malformed]:
    """Every record of the dataset in input order, a malformed one as Malformed. A file that cannot be
    read, or a Parquet / Arrow dataset without one of COLUMNS, is an InputError."""
    key = f"{cfg}: mask.dataset"
    columnar = columns(path, key) is not None
    for item in records(path, COLUMNS, key):
        if not isinstance(item, Row):
            yield Malformed(item.where, item.reason)
            continue
        obj = item.value
        if columnar and isinstance(obj.get("messages"), list):
            obj = {**obj, "messages": plain_messages(obj["messages"])}
        problem = _problem(obj)
        if problem:
            yield Malformed(item.where, problem)
        else:
            yield Record(item.where, obj["messages"], obj["input_ids"], obj["labels"])


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
