"""Conversation reader and the built-in conversation set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tokaudit.conversations import Conversation, builtin_conversations, read_conversations
from tokaudit.errors import InputError
from tokaudit.findings import Skipped


def read(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(read_conversations(path))
    return [c for c in items if isinstance(c, Conversation)], [s for s in items if isinstance(s, Skipped)]


def test_reads_fixture() -> None:
    convs, skipped = read(FIXTURES / "chats" / "mistral.jsonl")
    assert len(convs) == 4 and skipped == [] and convs[0].where == "mistral.jsonl:1"


def test_malformed_lines_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_bytes(
        b'{"messages": [{"role": "user", "content": "hi"}]}\n'
        b"not json\n"
        b"\n"
        b'{"messages": []}\n'
        b'{"messages": [{"content": "no role"}]}\n'
        b'{"messages": [{"role": "user", "content": 3}]}\n'
        b'{"messages": [{"role": "user", "content": "x"}], "tools": "nope"}\n'
        b"\xff\n"
    )
    convs, skipped = read(path)
    assert [c.where for c in convs] == ["chats.jsonl:1"]
    assert [(s.where, s.reason.split(" ")[0]) for s in skipped] == [
        ("chats.jsonl:2", "not"),
        ("chats.jsonl:4", "`messages`"),
        ("chats.jsonl:5", "messages[0]"),
        ("chats.jsonl:6", "messages[0].content"),
        ("chats.jsonl:7", "`tools`"),
        ("chats.jsonl:8", "invalid"),
    ]


def test_no_usable_line_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(
        InputError, match=r"bad\.jsonl yielded no conversations; 1 line\(s\) skipped, first: bad\.jsonl:1"
    ):
        read(path)


def test_builtin_set_covers_the_edge_cases() -> None:
    convs = {c.where: c for c in builtin_conversations(["</s>", "[/INST]"])}
    assert set(convs) == {
        f"builtin:{n}"
        for n in ("system", "multi-turn", "empty-content", "special-tokens", "whitespace", "unicode", "tool-calls")
    }
    assert convs["builtin:system"].messages[0]["role"] == "system"
    assert any(m["content"] == "" for m in convs["builtin:empty-content"].messages)
    assert all("</s> [/INST]" in m["content"] for m in convs["builtin:special-tokens"].messages)
    assert convs["builtin:tool-calls"].uses_tools and not convs["builtin:unicode"].uses_tools


TOOL_CHAT = {
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}],
        },
        {"role": "tool", "name": "get_weather", "content": "22"},
        {"role": "assistant", "content": "22 °C."},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
}
PLAIN_CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}


def test_a_parquet_row_is_the_record_it_was_written_from(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a struct column has every field any message has: the reader drops the ones a message did not have
    path = tmp_path / "chats.parquet"
    rows = [TOOL_CHAT, PLAIN_CHAT, {**PLAIN_CHAT, "tools": None}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    convs, skipped = read(path)
    assert skipped == [] and [c.where for c in convs] == ["chats.parquet:1", "chats.parquet:2", "chats.parquet:3"]
    assert convs[0].messages == TOOL_CHAT["messages"] and convs[0].tools == TOOL_CHAT["tools"]
    assert convs[1].messages == PLAIN_CHAT["messages"] and convs[1].tools is None and not convs[1].uses_tools
    # `tools` stored as a JSON string, as many datasets do; a string that is not JSON skips the row
    strings = tmp_path / "strings.parquet"
    pq.write_table(
        pa.Table.from_pylist([{**TOOL_CHAT, "tools": json.dumps(TOOL_CHAT["tools"])}, {**PLAIN_CHAT, "tools": "{"}]),
        strings,
    )
    convs, skipped = read(strings)
    assert convs[0].tools == TOOL_CHAT["tools"]
    assert skipped == [Skipped("strings.parquet:2", "`tools` is a string but not JSON")]


def test_a_dataset_without_messages_is_an_input_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "text.parquet"
    pq.write_table(pa.table({"text": ["hi"]}), path)
    with pytest.raises(InputError, match=r"text\.parquet has no column 'messages' \(its columns: text\)"):
        read(path)


def test_conversations_are_read_lazily(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "chats.jsonl.gz"
    data = gzip.compress("".join(json.dumps(PLAIN_CHAT) + f" {' ' * (k % 7)}\n" for k in range(20000)).encode())
    path.write_bytes(data[: len(data) - 64])  # the end is cut off: the reader only notices there
    items = read_conversations(path)
    first = next(items)
    assert isinstance(first, Conversation) and first.where == "chats.jsonl.gz:1"
    with pytest.raises(InputError, match=r"chats\.jsonl\.gz: corrupt gzip data after line \d+"):
        for _ in items:
            pass


def test_a_text_file_is_not_a_conversations_file(tmp_path: Path) -> None:
    path = tmp_path / "chats.txt"
    path.write_text(json.dumps(PLAIN_CHAT) + "\n")
    with pytest.raises(
        InputError, match=r"chats\.txt is read as text .* use \.jsonl, \.jsonl\.gz, \.jsonl\.zst, \.parquet"
    ):
        read(path)
