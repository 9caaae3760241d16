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
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import budget, cli, scratch
from tests.fuzz.formats import DAMAGE, JSON, TEXT, _clean, compress, damage, write_folder, write_parquet
from tests.fuzz.test_chats_fuzz import MESSAGE
from tests.rollouts import data as d

#: ids at and past the vocabulary (151,936), past 32 and 64 bits
HUGE = st.sampled_from([151_935, 151_936, 2**31, 2**32, 2**63 - 1, 2**63, 2**70])
#: what an id may be instead of a small non-negative integer
BAD_ID = st.one_of(
    st.integers(-(2**70), -1),
    HUGE,
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
def _rollout(draw: Any) -> dict[str, Any]:
    """A real record, whole or with one thing broken (so that each break meets the checks, not a skip
    of another): the shapes rollout-check must check or skip."""
    messages, real = _real()
    turns = [dict(t) for t in real]
    msgs = [dict(m) for m in messages]
    last = turns[-1]
    ids = [*last["prompt_ids"], *last["completion_ids"]]
    mask = [0] * len(last["prompt_ids"]) + [1] * len(last["completion_ids"])
    rec: dict[str, Any] = {"messages": msgs, "turns": turns, "tools": [d.WEATHER], "input_ids": ids, "loss_mask": mask}
    k = draw(st.integers(0, len(turns) - 1))
    key = draw(st.sampled_from(["prompt_ids", "completion_ids"]))
    what = draw(st.sampled_from(BREAKS))
    if what == "retype ids":
        turns[k][key] = draw(IDS)
    elif what == "add an id":  # in range, past the vocabulary, past any C integer, or not an integer
        at = draw(st.integers(0, len(turns[k][key])))
        turns[k][key] = [*turns[k][key][:at], draw(HUGE | st.integers(0, 160_000) | BAD_ID), *turns[k][key][at:]]
    elif what == "huge id":  # past the vocabulary, past 32 or 64 bits: still an id, so it reaches the checks
        turns[k][key] = [*turns[k][key], draw(HUGE)]
    elif what == "drop ids":
        del turns[k][key]
    elif what == "logprobs":
        n = max(len(turns[k]["completion_ids"]) + draw(st.sampled_from([0, 0, -1, 1])), 0)
        turns[k]["logprobs"] = draw(st.just([-0.5] * n) | JSON | st.lists(JSON, max_size=3))
    elif what == "swap turns":  # the second prompt is now shorter than the previous turn's
        turns.reverse()
    elif what == "one turn":
        del turns[0]
    elif what == "repeat a turn":
        turns.append(dict(last))
    elif what == "reasoning":
        msgs[draw(st.integers(0, len(msgs) - 1))]["reasoning_content"] = draw(TEXT | JSON)
    elif what == "a message":
        msgs[draw(st.integers(0, len(msgs) - 1))] = draw(MESSAGE)
    elif what == "cut messages":
        del msgs[draw(st.integers(0, len(msgs))) :]
    elif what == "any messages":
        rec["messages"] = draw(st.lists(MESSAGE, max_size=3))
    elif what == "mask length":
        rec["loss_mask"] = mask[:-1] if draw(st.booleans()) else [*mask, 1]
    elif what == "mask values":
        rec["loss_mask"] = [draw(MASK_VALUE) if draw(st.integers(0, 9)) == 0 else v for v in mask]
    elif what == "row ids":
        rec["input_ids"] = draw(IDS)
    elif what == "no row":
        del rec["input_ids"], rec["loss_mask"]
    elif what == "a field":  # missing, null or of another type
        name = draw(st.sampled_from(sorted(rec)))
        if draw(st.booleans()):
            del rec[name]
        else:
            rec[name] = draw(st.none() | JSON)
    return rec


BREAKS = [
    "none",
    "none",
    "retype ids",
    "add an id",
    "huge id",
    "huge id",
    "drop ids",
    "logprobs",
    "swap turns",
    "one turn",
    "repeat a turn",
    "reasoning",
    "a message",
    "cut messages",
    "any messages",
    "mask length",
    "mask values",
    "row ids",
    "no row",
    "a field",
]

#: mostly real records with something broken; sometimes a record of any shape
ROLLOUT = (
    _rollout()
    | _rollout()
    | _rollout()
    | JSON
    | st.fixed_dictionaries(
        {}, optional={"messages": st.lists(MESSAGE, max_size=3) | JSON, "turns": st.lists(JSON, max_size=2) | JSON}
    )
)


KINDS = ["c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "r.parquet", "ds"]


def _write(tmp: Path, rows: list[Any], kind: str, how: tuple[str, float, bytes]) -> Path:
    """Rollout records in JSONL (plain, gz, zst), Parquet or a save_to_disk folder, damaged as `how` says.
    In the columnar formats a column no one Arrow type holds is stored as JSON strings, as dumps do."""
    if kind.startswith("c.jsonl"):
        data = b"\n".join(json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass") for r in rows)
        (tmp / kind).write_bytes(damage(compress(kind, data), how))
        return tmp / kind
    import pyarrow as pa

    dicts = [r for r in rows if isinstance(r, dict)]
    names = list(dict.fromkeys(k for r in dicts for k in r))

    def strings(name: str) -> Any:
        return pa.array([json.dumps(_clean(r.get(name))) for r in dicts], pa.string())

    cols = {}
    for name in names:
        try:
            cols[name] = pa.array([_clean(r.get(name)) for r in dicts])
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            cols[name] = strings(name)

    def write(table: Any) -> Path:
        return write_parquet(tmp / kind, table, how) if kind == "r.parquet" else write_folder(tmp / kind, table, how)

    try:
        return write(pa.table(cols) if cols else pa.table({}))
    except pa.ArrowException:  # a type the format cannot store (a struct with no fields): all JSON strings
        shutil.rmtree(tmp / kind, ignore_errors=True)
        return write(pa.table({n: strings(n) for n in names}))


def _config(tmp: Path, dump: Path, row: bool, vocab: int | None, skip_special: bool) -> Path:
    """tests/rollouts/data.py's config (Qwen2's vocabulary, Qwen3's template on both sides), with or
    without the trainer's row mapped, with or without the model's vocabulary size."""
    mapped = {"input_ids": "input_ids", "loss_mask": "loss_mask"} if row else {}
    path = d.config(tmp, dump, decode={"skip_special_tokens": skip_special}, **mapped)
    if vocab:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        model = {"model": {"name": "Qwen3", "vocab_size": vocab}}
        path.write_text(yaml.safe_dump({**model, **spec}, sort_keys=False), encoding="utf-8")
    return path


WHOLE = ("none", 0.0, b"")
#: found by this fuzzer: an id past 32 bits in a turn made the tokenizer's decode raise OverflowError
HUGE_ID = {
    "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a"}],
    "turns": [{"prompt_ids": [1, 2], "completion_ids": [3, 2**70]}],
    "input_ids": [1, 2, 3, 2**70],
    "loss_mask": [0, 0, 1, 1],
}


@settings(max_examples=budget(100))
@given(
    rows=st.lists(ROLLOUT, min_size=1, max_size=3),
    kind=st.sampled_from(KINDS),
    how=DAMAGE,
    row=st.booleans(),
    vocab=st.sampled_from([None, 151_936, 1000]),
    skip_special=st.booleans(),
)
@example(rows=[HUGE_ID], kind="c.jsonl", how=WHOLE, row=True, vocab=None, skip_special=False)
@example(rows=[HUGE_ID], kind="r.parquet", how=WHOLE, row=False, vocab=151_936, skip_special=False)
@example(
    rows=[{**HUGE_ID, "turns": [{"prompt_ids": [2**32], "completion_ids": [3]}]}],
    kind="ds",
    how=WHOLE,
    row=False,
    vocab=None,
    skip_special=True,
)
def test_any_rollout_records_through_rollout_check(
    rows: list[Any], kind: str, how: Any, row: bool, vocab: int | None, skip_special: bool
) -> None:
    with scratch() as tmp:
        dump = _write(tmp, rows, kind, how)
        cli("rollout-check", _config(tmp, dump, row, vocab, skip_special), "--format", "json")


def test_an_id_past_31_bits_skips_the_record_with_why(tmp_path: Path) -> None:
    # found by the fuzzer: the completion was decoded and the tokenizer raised OverflowError (a traceback)
    dump = _write(tmp_path, [HUGE_ID], "c.jsonl", WHOLE)
    result = cli("rollout-check", _config(tmp_path, dump, True, None, False))
    assert result.exit_code == 2
    assert "c.jsonl:1: `turns[0].completion_ids[1]` is 1180591620717411303424, past any vocabulary" in result.stderr
