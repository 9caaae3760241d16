"""Rollout dumps for rollout-check's tests, built with the libraries as an engine and a trainer build them.

An engine call k renders `messages[:k]` with the generation prompt and encodes it (`prompt_ids`); the model
"samples" the assistant turn the template would write for it when it is the last message (reasoning kept),
up to and including the end-of-turn token (`completion_ids`). A non-canonical sample is the same text
encoded in two pieces. Everything here uses transformers directly, never tokaudit.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import FIXTURES

QWEN = FIXTURES / "qwen2-hf"
LLAMA = FIXTURES / "llama3-hf"
QWEN3 = FIXTURES / "templates" / "Qwen-Qwen3-0.6B.jinja"
QWQ = FIXTURES / "templates" / "Qwen-QwQ-32B.jinja"
LLAMA31 = FIXTURES / "templates" / "meta-llama-Llama-3.1-8B-Instruct.jinja"
END = "<|im_end|>"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@cache
def tokenizer(folder: Path = QWEN) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def tool_trajectory(city: str = "Paris", follow_up: bool = True) -> list[dict[str, Any]]:
    """user → assistant (reasoning, tool call) → tool → assistant (reasoning, answer) [→ user → assistant]."""
    msgs: list[dict[str, Any]] = [
        {"role": "user", "content": f"What is the weather in {city}?"},
        {
            "role": "assistant",
            "reasoning_content": f"The user wants the weather in {city}. I should call get_weather.",
            "content": "",
            "tool_calls": [call("get_weather", city=city)],
        },
        {"role": "tool", "content": json.dumps({"city": city, "temperature": 21, "sky": "sunny"})},
        {
            "role": "assistant",
            "reasoning_content": "The tool says 21 degrees and sunny.",
            "content": f"It is 21 °C and sunny in {city}.",
        },
    ]
    if follow_up:
        msgs += [
            {"role": "user", "content": "And tomorrow?"},
            {"role": "assistant", "reasoning_content": "I have no forecast tool.", "content": "I cannot know that."},
        ]
    return msgs


def render(messages: list[dict[str, Any]], template: Path, gen: bool, tools: Any = None, folder: Path = QWEN) -> str:
    tok = tokenizer(folder)
    source = template.read_text(encoding="utf-8")
    # enable_thinking=True: llama.cpp's QwQ template closes `<think>` in the generation prompt unless it is set
    return str(
        tok.apply_chat_template(
            messages, tools=tools, chat_template=source, add_generation_prompt=gen, tokenize=False, enable_thinking=True
        )
    )


def engine_turns(
    messages: list[dict[str, Any]],
    template: Path = QWEN3,
    tools: Any = None,
    folder: Path = QWEN,
    end: str = END,
    split: dict[int, int] | None = None,
) -> list[dict[str, Any]]:
    """The engine's calls for every assistant turn. `split` {turn: character}: that turn's completion is
    sampled non-canonically, its text encoded as two pieces cut at that character."""
    tok = tokenizer(folder)
    turns = []
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt = render(messages[:k], template, True, tools, folder)
        whole = render(messages[: k + 1], template, False, tools, folder)
        assert whole.startswith(prompt), "the template does not continue its own generation prompt"
        text = whole[len(prompt) :]
        text = text[: text.index(end) + len(end)]
        n = len(turns)
        if split and n in split:
            cut = split[n]
            ids = tok.encode(text[:cut], add_special_tokens=False) + tok.encode(text[cut:], add_special_tokens=False)
        else:
            ids = tok.encode(text, add_special_tokens=False)
        turns.append({"prompt_ids": tok.encode(prompt, add_special_tokens=False), "completion_ids": ids})
    return turns


def record(
    messages: list[dict[str, Any]], turns: list[dict[str, Any]], tools: Any = None, **extra: Any
) -> dict[str, Any]:
    return {"messages": messages, "turns": turns, **({"tools": tools} if tools else {}), **extra}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def config(tmp: Path, dump: Path, template: Path = QWEN3, folder: Path = QWEN, **rollouts: Any) -> Path:
    """A rollout-check config: both sides the same tokenizer and template (the trainer's is `training`)."""
    side = {"source": "hf", "path": str(folder), "chat_template": str(template)}
    spec = {
        "training": side,
        "serving": dict(side),
        "rollouts": {"path": str(dump), "messages": "messages", "turns": "turns", "tools": "tools", **rollouts},
    }
    path = tmp / "rollouts.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path
