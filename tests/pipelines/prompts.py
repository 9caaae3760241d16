"""Chat formatting the way FastChat-style data builders do it: f-strings, no Jinja.

`llama2` writes Llama-2 / Mistral "[INST] ... [/INST]" turns as fixtures/templates/mistral-instruct.jinja
does, with one slip: no space before "[/INST]". `llama2_faithful` has the space. `llama2_ids` builds the
ids itself (the faithful text, encoded piece by piece with the tokenizers library), as some builders do.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import tokenizers

TOKENIZER_JSON = Path(__file__).resolve().parents[2] / "fixtures" / "mistral-7b-hf" / "tokenizer.json"
BOS, EOS = "<s>", "</s>"


def _render(messages: list[dict[str, Any]], close: str) -> str:
    out = BOS
    for i, m in enumerate(messages):
        if (m["role"] == "user") != (i % 2 == 0):
            raise ValueError("Conversation roles must alternate user/assistant/user/assistant/...")
        if m["role"] == "user":
            out += f"[INST] {m['content']}{close}"
        elif m["role"] == "assistant":
            out += f"{m['content']}{EOS}"
        else:
            raise ValueError(f"unsupported role {m['role']!r}")
    return out


def llama2(messages: list[dict[str, Any]], add_generation_prompt: bool) -> str:
    return _render(messages, "[/INST]")  # the slip: the template has " [/INST]"


def llama2_faithful(messages: list[dict[str, Any]], add_generation_prompt: bool) -> str:
    return _render(messages, " [/INST]")


@lru_cache(maxsize=1)
def _tokenizer() -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_file(str(TOKENIZER_JSON))


def llama2_ids(messages: list[dict[str, Any]], add_generation_prompt: bool) -> list[int]:
    return _tokenizer().encode(llama2_faithful(messages, add_generation_prompt), add_special_tokens=False).ids


NOT_A_FUNCTION = "a string where a function should be"


def returns_a_dict(messages: list[dict[str, Any]], add_generation_prompt: bool) -> dict[str, Any]:
    return {"text": llama2_faithful(messages, add_generation_prompt)}
