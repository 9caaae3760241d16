"""Fuzzed rollout records (issue 18's rollout-check): real engine turns built with transformers
(tests/rollouts/data.py) and then broken (ids of the wrong type, negative or huge, turns out of order,
fields missing or retyped, a trainer row whose mask is of another length or not 0/1), beside records of
any shape, in JSONL (plain, gz, zst), Parquet and save_to_disk folders, whole or damaged. Every one gives
a report or one `error:` line with exit 2."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import budget, cli, scratch
from tests.fuzz.formats import DAMAGE, JSON, TEXT, _clean, write_folder, write_parquet
from tests.fuzz.test_chats_fuzz import MESSAGE, record_files
from tests.rollouts import data as d

#: what an id may be instead of a small non-negative integer
BAD_ID = st.one_of(
    st.integers(-(2**70), -1),
    st.sampled_from([151_935, 151_936, 2**31, 2**32, 2**63 - 1, 2**63, 2**70]),
    st.booleans(),
    st.floats(allow_nan=False),
    TEXT,
    st.none(),
    JSON,
)
IDS = st.lists(st.integers(0, 160_000) | BAD_ID, max_size=6) | BAD_ID
MASK_VALUE = st.sampled_from([0, 1, True, False, 2, -1, 0.5, 1.0, None, "1"])


@cache
def _real() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A two-call tool trajectory as an engine samples it (messages with reasoning_content and tool_calls)."""
    messages = d.tool_trajectory(follow_up=False)
    return messages, d.engine_turns(messages, tools=[d.WEATHER])


@st.composite
def _turn(draw: Any, real: dict[str, Any]) -> Any:
    """A real turn, kept or with one part retyped, dropped or added to."""
    turn = dict(real)
    how = draw(st.sampled_from(["keep", "keep", "retype", "drop", "logprobs", "extend"]))
    key = draw(st.sampled_from(["prompt_ids", "completion_ids"]))
    if how == "retype":
        turn[key] = draw(IDS)
    elif how == "drop":
        del turn[key]
    elif how == "logprobs":
        n = len(turn["completion_ids"]) + draw(st.sampled_from([0, 0, -1, 1]))
        turn["logprobs"] = draw(st.just([-0.5] * max(n, 0)) | JSON | st.lists(JSON, max_size=3))
    elif how == "extend":
        turn[key] = [*turn[key], *draw(st.lists(st.integers(0, 160_000) | BAD_ID, min_size=1, max_size=3))]
    return turn


@st.composite
def _rollout(draw: Any) -> dict[str, Any]:
    """A real record with some of its parts broken: the shapes rollout-check must skip or check."""
    messages, turns = _real()
    if not draw(st.booleans()):  # whole: the record that reaches every check (what a shrink ends at)
        row = [*turns[-1]["prompt_ids"], *turns[-1]["completion_ids"]]
        mask = [0] * len(turns[-1]["prompt_ids"]) + [1] * len(turns[-1]["completion_ids"])
        return {"messages": messages, "turns": turns, "tools": [d.WEATHER], "input_ids": row, "loss_mask": mask}
    turns = [draw(_turn(t)) for t in turns]
    order = draw(st.sampled_from(["keep", "keep", "swap", "drop first", "repeat"]))
    if order == "swap":  # the second prompt is now shorter than the previous turn's
        turns = turns[::-1]
    elif order == "drop first":
        turns = turns[1:]
    elif order == "repeat":
        turns = turns + turns[-1:]
    msgs = [dict(m) for m in messages]
    change = draw(st.sampled_from(["keep", "keep", "reasoning", "message", "cut", "any"]))
    if change == "reasoning":
        msgs[-1]["reasoning_content"] = draw(TEXT | JSON)
    elif change == "message":
        msgs[draw(st.integers(0, len(msgs) - 1))] = draw(MESSAGE)
    elif change == "cut":
        msgs = msgs[: draw(st.integers(0, len(msgs)))]
    elif change == "any":
        msgs = draw(st.lists(MESSAGE, max_size=3))
    rec: dict[str, Any] = {"messages": msgs, "turns": turns, "tools": draw(st.just([d.WEATHER]) | JSON)}
    if draw(st.booleans()):  # the trainer's row: the last prompt and completion, trained on the completion
        last = turns[-1] if isinstance(turns[-1].get("prompt_ids"), list) else {}
        prompt, completion = last.get("prompt_ids", []), last.get("completion_ids", [])
        ids = [*prompt, *completion] if isinstance(completion, list) else prompt
        mask = [0] * len(prompt) + [1] * (len(ids) - len(prompt))
        row = draw(st.sampled_from(["keep", "keep", "shorter", "longer", "values", "ids"]))
        if row == "shorter" and mask:
            mask = mask[:-1]
        elif row == "longer":
            mask = [*mask, 1]
        elif row == "values":
            mask = [draw(MASK_VALUE) for _ in mask] or draw(st.lists(MASK_VALUE, max_size=3))
        elif row == "ids":
            ids = draw(IDS)
        rec["input_ids"], rec["loss_mask"] = ids, draw(st.just(mask) | JSON)
    if draw(st.integers(0, 3)) == 0:  # a field null or of another type
        rec[draw(st.sampled_from(sorted(rec)))] = draw(st.none() | JSON)
    return rec


#: mostly real records with something broken; sometimes a record of any shape
ROLLOUT = (
    _rollout()
    | _rollout()
    | st.fixed_dictionaries(
        {}, optional={"messages": st.lists(MESSAGE, max_size=3) | JSON, "turns": st.lists(JSON, max_size=2) | JSON}
    )
)


@st.composite
def _dump(draw: Any, tmp: Path) -> Path:
    """Rollout records in JSONL (plain, gz, zst), Parquet or a save_to_disk folder, whole or damaged. In
    the columnar formats a column no one Arrow type holds is stored as JSON strings, as dumps do."""
    kind = draw(st.sampled_from(["jsonl", "parquet", "folder"]))
    if kind == "jsonl":
        return draw(record_files(ROLLOUT, tmp))  # tests/fuzz/test_chats_fuzz.py: the JSONL family
    import pyarrow as pa

    rows = draw(st.lists(ROLLOUT, min_size=1, max_size=3))
    names = list(dict.fromkeys(k for r in rows for k in r))
    cols = {}
    for name in names:
        values = [_clean(r.get(name)) for r in rows]
        try:
            cols[name] = pa.array(values)
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            cols[name] = pa.array([json.dumps(v) for v in values], pa.string())
    table = pa.table(cols) if cols else pa.table({})
    how = draw(DAMAGE)
    try:
        return (
            write_parquet(tmp / "r.parquet", table, how) if kind == "parquet" else write_folder(tmp / "ds", table, how)
        )
    except pa.ArrowException:  # a type the format cannot store (a struct with no fields): all JSON strings
        shutil.rmtree(tmp / "ds", ignore_errors=True)
        table = pa.table({n: pa.array([json.dumps(_clean(r.get(n))) for r in rows], pa.string()) for n in names})
        return (
            write_parquet(tmp / "r.parquet", table, how) if kind == "parquet" else write_folder(tmp / "ds", table, how)
        )


def _config(tmp: Path, dump: Path, vocab: int | None, skip_special: bool) -> Path:
    """tests/rollouts/data.py's config (Qwen2's vocabulary, Qwen3's template on both sides) with the row."""
    path = d.config(
        tmp, dump, input_ids="input_ids", loss_mask="loss_mask", decode={"skip_special_tokens": skip_special}
    )
    if vocab:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(
            yaml.safe_dump({"model": {"name": "Qwen3", "vocab_size": vocab}, **spec}, sort_keys=False), encoding="utf-8"
        )
    return path


@settings(max_examples=budget(60))
@given(data=st.data(), vocab=st.sampled_from([None, 151_936, 1000]), skip_special=st.booleans())
def test_any_rollout_records_through_rollout_check(data: Any, vocab: int | None, skip_special: bool) -> None:
    with scratch() as tmp:
        dump = data.draw(_dump(tmp))
        cli("rollout-check", _config(tmp, dump, vocab, skip_special), "--format", "json")
