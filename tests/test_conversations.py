"""Conversation reader and the built-in conversation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tokaudit.conversations import builtin_conversations, read_conversations
from tokaudit.errors import InputError


def test_reads_fixture() -> None:
    convs, skipped = read_conversations(FIXTURES / "chats" / "mistral.jsonl")
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
    convs, skipped = read_conversations(path)
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
        read_conversations(path)


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
