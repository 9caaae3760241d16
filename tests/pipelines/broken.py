"""Objects a config's `object:` can name by mistake: each is a one-line config error, never a traceback."""

from __future__ import annotations

from typing import Any


def factory_raises(path: str = "") -> Any:
    raise FileNotFoundError(f"no tokenizer at {path!r}")


class NoEncode:
    """Has tokenize() but no encode()."""

    def tokenize(self, text: str) -> list[str]:
        return text.split()


def no_encode() -> NoEncode:
    return NoEncode()


class EncodesStrings:
    """encode() returns the pieces, not the ids."""

    def encode(self, text: str) -> list[str]:
        return text.split()


strings = EncodesStrings()


class RaisesOnSome:
    """A tokenizer that refuses one kind of text: a per-sample finding, not a load error."""

    def encode(self, text: str) -> list[int]:
        if "\t" in text:
            raise ValueError("tabs are not supported")
        return [ord(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i) for i in ids)


raises_on_tabs = RaisesOnSome()


class OnlyIds:
    """No piece method, no decode, no specials: findings can only show ids."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


only_ids = OnlyIds()
