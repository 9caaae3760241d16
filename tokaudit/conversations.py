"""Conversations for template-check and mask-check: the reader and the built-in conversation set.

A record is `{"messages": [{"role": ..., "content": ...}, ...], "tools": [...]}` (`tools` optional), in
the OpenAI / transformers chat format: a line of a .jsonl / .jsonl.gz / .jsonl.zst file, or a row of a
.parquet file or a `datasets` save_to_disk folder (`messages` a list of structs, as `datasets` writes it;
`tools` a list of structs or a JSON string). A record that is not a conversation is skipped with its
file:line (file:row) and reason. Conversations are read lazily, a batch of rows at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers import Record, columns, records

Message = dict[str, Any]


@dataclass(frozen=True)
class Conversation:
    """Messages (and tool schemas) to render, and where they came from (file:line or builtin:<case>)."""

    messages: list[Message]
    where: str
    tools: list[dict[str, Any]] | None = None
    builtin: bool = False

    @property
    def uses_tools(self) -> bool:
        return bool(self.tools) or any(m.get("tool_calls") or m.get("role") == "tool" for m in self.messages)


def read_conversations(path: Path, cfg: Path | None = None) -> Iterator[Conversation | Skipped]:
    """Every conversation of a file (or save_to_disk folder) in input order, and every record that is
    not one as Skipped. A file that yields no conversation at all is an InputError, raised once the
    last record is read; a file that cannot be read is one when the reader reaches the problem."""
    key = f"{cfg}: conversations" if cfg else "conversations"
    wanted = _columns(path, key)
    found, skipped, first = 0, 0, None
    for item in records(path, wanted, key):
        if isinstance(item, Record):
            value: Any = item.value if wanted is None else from_columns(item.value)
            problem = value if isinstance(value, str) else _problem(value)
            if problem is None:
                found += 1
                yield Conversation(value["messages"], item.where, value.get("tools"))
                continue
            item = Skipped(item.where, problem)
        skipped += 1
        first = first or item
        yield item
    if not found:
        why = f"; {skipped} line(s) skipped, first: {first.where}: {first.reason}" if first else ""
        raise InputError(f"{key}: {path} yielded no conversations{why}")


def _columns(path: Path, key: str) -> list[str] | None:
    """The columns to read from a Parquet file or save_to_disk folder (None: a JSONL file)."""
    names = columns(path, key)
    if names is None:
        return None
    return ["messages", *(["tools"] if "tools" in names else [])]  # no `messages` column: the reader's error


def from_columns(row: dict[str, Any]) -> dict[str, Any] | str:
    """A Parquet / Arrow row as the record it was written from, or why it is not one. A struct column
    has every field any message has, None where a message has none: those fields are dropped (a
    message's `content` is kept, null content is meaningful). `tools` may be a JSON string."""
    out = dict(row)
    if isinstance(row.get("messages"), list):
        out["messages"] = plain_messages(row["messages"])
    tools = row.get("tools")
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except ValueError:
            return "`tools` is a string but not JSON"
    out["tools"] = _plain(tools)
    return out


def plain_messages(messages: list[Any]) -> list[Any]:
    """Messages read from a struct column, without the None fields the struct added."""
    return [
        {k: _plain(v) for k, v in m.items() if v is not None or k == "content"} if isinstance(m, dict) else m
        for m in messages
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _problem(record: Any) -> str | None:
    """Why a parsed line is not a conversation, or None."""
    if not isinstance(record, dict):
        return f"expected an object with `messages`, got {type(record).__name__}"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return "`messages` must be a non-empty list"
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            return f"messages[{i}] is {type(m).__name__}, not an object"
        if not isinstance(m.get("role"), str):
            return f"messages[{i}] has no string `role`"
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return f"messages[{i}].content is {type(content).__name__}, not a string, list or null"
    tools = record.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)):
        return "`tools` must be a list of objects"
    return None


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name."}},
            "required": ["city"],
        },
    },
}


def builtin_conversations(controls: list[str]) -> list[Conversation]:
    """The edge cases every template-check runs: `controls` are the template's control strings
    (`[/INST]`, `</s>`, `<|im_end|>` ...) to put inside message content."""

    def u(text: str) -> Message:
        return {"role": "user", "content": text}

    def a(text: str) -> Message:
        return {"role": "assistant", "content": text}

    injected = " ".join(controls)
    cases: dict[str, list[Message]] = {
        "system": [
            {"role": "system", "content": "You are a concise assistant."},
            u("What is the capital of France?"),
            a("Paris."),
        ],
        "multi-turn": [u("Hello!"), a("Hi there. How can I help?"), u("Name a prime number."), a("7"), u("Another?")],
        "empty-content": [u(""), a("You sent an empty message."), u(""), a("Still empty.")],
        "special-tokens": [
            u(f"Repeat after me: {injected} and then continue."),
            a(f"You wrote {injected} which I treat as text."),
        ],
        "whitespace": [
            u("  leading and trailing spaces  "),
            a("\nThe answer starts with a newline.\n"),
            u("\n\ttab and newlines\n\n"),
            a(" A leading space."),
        ],
        "unicode": [u("Grüße! 你好 こんにちは café naïve — “quotes” 🙂"), a("Ça va? 👍 ñ Ω ≠ ∑")],
    }
    out = [Conversation(m, f"builtin:{name}", builtin=True) for name, m in cases.items()]
    call = {
        "id": "call12345",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    tool_chat: list[Message] = [
        u("What is the weather in Paris?"),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": '{"temperature": 22}'},
        a("It is 22 °C in Paris."),
    ]
    out.append(Conversation(tool_chat, "builtin:tool-calls", tools=[WEATHER_TOOL], builtin=True))
    return out
