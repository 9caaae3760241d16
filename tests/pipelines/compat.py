"""A compatibility layer of the kind training repos grow around AutoTokenizer.

It sets a pad token, adds a generation marker to the vocabulary and delegates encoding to the
tokenizer; `variant` adds what such layers also do: normalise whitespace before delegating
(`strip`), or put a space in front of every text (`prefix-space`).
"""

from __future__ import annotations

from typing import Any

from transformers import AutoTokenizer

GENERATION_MARKER = "<|assistant|>"
PAD = "<pad>"
VARIANTS = ("delegate", "strip", "prefix-space")


class CompatTokenizer:
    """Encodes through the wrapped tokenizer; everything else is the wrapped tokenizer's."""

    def __init__(self, path: str, variant: str = "delegate") -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.hf = AutoTokenizer.from_pretrained(path)
        self.hf.add_special_tokens({"pad_token": PAD, "additional_special_tokens": [GENERATION_MARKER]})
        self.variant = variant

    def _prepare(self, text: str) -> str:
        if self.variant == "strip":
            return " ".join(text.split())
        if self.variant == "prefix-space":
            return " " + text
        return text

    def encode(self, text: str) -> list[int]:
        return self.hf(self._prepare(text))["input_ids"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hf, name)


def build(path: str, variant: str = "delegate") -> CompatTokenizer:
    return CompatTokenizer(path, variant)
