"""Fuzzed chat conversations (template-check, mask-check) and tokenized datasets (`source: dataset`,
mask-check's `dataset`): any record shape, any types per row, in JSONL (plain, gz, zst), Parquet and
save_to_disk folders, whole or damaged. Every one gives a report or one `error:` line with exit 2.
(Rollout records, rollout-check's input, are in test_rollouts_fuzz.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, MISTRAL_HF, side, write_config
from tests.fuzz.conftest import budget, cli, scratch
from tests.fuzz.formats import DAMAGE, JSON, TEXT, compress, damage, write_folder, write_parquet

TEMPLATES = FIXTURES / "templates"
MISTRAL_JINJA = TEMPLATES / "mistral-instruct.jinja"
GENERATION = TEMPLATES / "mistral-instruct-generation.jinja"
ROLES = st.sampled_from(["user", "assistant", "system", "tool", "", "USER", "function"]) | JSON
CONTENT = (
    TEXT
    | st.none()
    | st.sampled_from(["[INST]", "</s>", "<s>", "<unk>", "{{ x }}", "{% generation %}"])
    | st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(["text", "image", "x"]) | JSON}, optional={"text": TEXT | JSON}),
        max_size=2,
    )
    | JSON
)
TOOL_CALL = st.fixed_dictionaries(
    {"type": st.just("function") | JSON},
    optional={
        "id": TEXT | JSON,
        "function": st.fixed_dictionaries({"name": TEXT | JSON, "arguments": TEXT | JSON}) | JSON,
    },
)
MESSAGE = st.fixed_dictionaries(
    {"role": ROLES},
    optional={"content": CONTENT, "tool_calls": st.lists(TOOL_CALL, max_size=2) | JSON, "name": TEXT | JSON},
)
#: mostly alternating user/assistant turns (what templates accept), sometimes anything at all
TURNS = st.lists(
    st.tuples(TEXT, TEXT).map(lambda p: [{"role": "user", "content": p[0]}, {"role": "assistant", "content": p[1]}]),
    min_size=1,
    max_size=3,
).map(lambda pairs: [m for pair in pairs for m in pair])
CONVERSATION = st.fixed_dictionaries(
    {"messages": TURNS | TURNS | st.lists(MESSAGE, max_size=4) | JSON},
    optional={"tools": st.lists(JSON, max_size=2) | JSON, "other": JSON},
)
IDS = st.lists(st.integers(-5, 40_000), max_size=12) | st.lists(st.integers(), max_size=3) | JSON


@st.composite
def _well_formed(draw: Any) -> dict[str, Any]:
    """A record that reaches the checks: ids in (and a little past) Mistral's vocabulary, labels as long."""
    ids = draw(st.lists(st.integers(0, 32_010), min_size=1, max_size=12))
    labels = [draw(st.sampled_from([i, -100])) for i in ids]
    return {"text": draw(TEXT), "input_ids": ids, "labels": labels, "messages": draw(TURNS)}


TOKENIZED = (
    _well_formed()
    | _well_formed()
    | st.fixed_dictionaries(
        {}, optional={"text": TEXT | JSON, "input_ids": IDS, "labels": IDS, "messages": TURNS | JSON}
    )
)


def _line(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def record_files(draw: Any, records: st.SearchStrategy[Any], tmp: Path) -> Path:
    """Records in any of the record formats, sometimes with junk lines, and sometimes damaged."""
    rows = draw(st.lists(records | records | records | JSON, max_size=4))
    how = draw(DAMAGE)
    kind = draw(st.sampled_from(["c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "c.parquet", "folder"]))
    if kind.startswith("c.jsonl"):
        lines = [_line(r) for r in rows] + draw(st.lists(st.binary(max_size=10), max_size=1))
        path = tmp / kind
        path.write_bytes(damage(compress(kind, b"\n".join(lines)), how))
        return path
    import pyarrow as pa

    dicts = [r for r in rows if isinstance(r, dict)]
    as_strings = pa.table({"messages": pa.array([json.dumps(r) for r in dicts], pa.string())})
    try:
        table = pa.Table.from_pylist(dicts)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        table = as_strings  # no one Arrow type holds these rows: a JSON string column
    write = (
        (lambda t: write_parquet(tmp / kind, t, how))
        if kind == "c.parquet"
        else (lambda t: write_folder(tmp / "ds", t, how))
    )
    try:
        return write(table)
    except pa.ArrowException:  # a type the format cannot store (a struct with no fields)
        shutil.rmtree(tmp / "ds", ignore_errors=True)
        return write(as_strings)


@settings(max_examples=budget(25))
@given(data=st.data(), serving=st.sampled_from([MISTRAL_JINJA, TEMPLATES / "chatml.jinja"]))
def test_any_conversations_through_template_check(data: Any, serving: Path) -> None:
    with scratch() as tmp:
        chats = data.draw(record_files(CONVERSATION, tmp))
        config = {
            "training": side("hf", MISTRAL_HF, chat_template=str(MISTRAL_JINJA)),
            "serving": side("hf", MISTRAL_HF, chat_template=str(serving)),
            "conversations": str(chats),
        }
        cli("template-check", write_config(tmp, config), "--format", "json")


MASK_STRATEGIES = st.sampled_from(["generation", "per-turn", "prefix"])


@settings(max_examples=budget(20))
@given(data=st.data(), strategy=MASK_STRATEGIES, cut=st.none() | st.integers(1, 9))
def test_any_conversations_through_mask_check(data: Any, strategy: str, cut: int | None) -> None:
    with scratch() as tmp:
        chats = data.draw(record_files(CONVERSATION, tmp))
        config = {
            "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
            "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
            "conversations": str(chats),
            "mask": {"strategy": strategy, **({"max_length": cut} if cut else {})},
        }
        cli("mask-check", write_config(tmp, config), "--format", "json")


@settings(max_examples=budget(20))
@given(data=st.data())
def test_any_tokenized_dataset_through_mask_check(data: Any) -> None:
    with scratch() as tmp:
        dataset = data.draw(record_files(TOKENIZED, tmp))
        config = {
            "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
            "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
            "mask": {"strategy": "dataset", "dataset": str(dataset)},
        }
        cli("mask-check", write_config(tmp, config), "--format", "json")


@settings(max_examples=budget(25))
@given(data=st.data())
def test_any_tokenized_dataset_through_diff(data: Any) -> None:
    with scratch() as tmp:
        dataset = data.draw(record_files(TOKENIZED, tmp))
        stored = side("dataset", dataset, text_field="text", ids_field="input_ids")
        config = write_config(tmp, {"training": stored, "serving": side("hf", MISTRAL_HF)})
        cli("diff", config, "--format", "json")


def test_an_empty_tokenized_dataset_says_no_sample_was_compared(tmp_path: Path) -> None:
    # found by the fuzzer: an empty dataset file made no shard, and the error said no corpus was configured
    (tmp_path / "empty.jsonl").write_bytes(b"")
    stored = side("dataset", tmp_path / "empty.jsonl", text_field="text", ids_field="input_ids")
    result = cli("diff", write_config(tmp_path, {"training": stored, "serving": side("hf", MISTRAL_HF)}))
    assert result.exit_code == 2 and "no sample could be compared" in result.stderr


def test_stored_ids_no_vocabulary_can_index_are_findings(tmp_path: Path) -> None:
    # found by the fuzzer: a stored id below 0 or past 2**32 made the tokenizer's id-to-token call raise
    # OverflowError while the divergence was described, a traceback instead of a report
    rows = [{"text": "a b", "input_ids": ids} for ids in ([-100], [2**32], [2**70], [1, 40_000])]
    path = tmp_path / "tokenized.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stored = side("dataset", path, text_field="text", ids_field="input_ids")
    result = cli(
        "diff", write_config(tmp_path, {"training": stored, "serving": side("hf", MISTRAL_HF)}), "--format", "json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["samples_differing"] == 4
