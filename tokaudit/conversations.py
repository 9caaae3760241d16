"""Conversations for template-check and mask-check: the JSONL reader and the built-in conversation set.

A line is `{"messages": [{"role": ..., "content": ...}, ...], "tools": [...]}` (`tools` optional),
in the OpenAI / transformers chat format. A malformed line is skipped with its file:line and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.jsonl import read_jsonl

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


def read_conversations(path: Path, cfg: Path | None = None) -> tuple[list[Conversation], list[Skipped]]:
    """Read a conversations JSONL file. A file that yields no conversation at all is an InputError."""
    key = f"{cfg}: conversations" if cfg else "conversations"
    out: list[Conversation] = []
    skipped: list[Skipped] = []
    for where, _, record, problem in read_jsonl(path, key):
        problem = problem or _problem(record)
        if problem:
            skipped.append(Skipped(where, problem))
            continue
        out.append(Conversation(record["messages"], where, record.get("tools")))
    if not out:
        why = f"; {len(skipped)} line(s) skipped, first: {skipped[0].where}: {skipped[0].reason}" if skipped else ""
        raise InputError(f"{key}: {path} yielded no conversations{why}")
    return out, skipped


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
