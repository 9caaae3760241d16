"""The Tokenizer every source returns, and the special-text handling they share.

A source wraps one real library. It must encode a batch the way that library does by
default in a pipeline, and describe each id well enough for the diff to explain a
divergence: the bytes a token stands for, a display piece, whether it is special.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec

SampleResult = list[int] | str  # ids, or the message of the exception the library raised
#: A role's token as (string, id); the id is None when the string is not in the vocabulary.
RoleToken = tuple[str, int | None]
ADDED_FLAGS = ("lstrip", "rstrip", "normalized", "single_word")
ROLES = ("bos", "eos", "pad", "unk")
#: transformers' stand-in for "no limit" (VERY_LARGE_INTEGER) in model_max_length
NO_LIMIT = 10**20


@dataclass(frozen=True)
class AddedEntry:
    """A special or added token as its library records it; None where the library has no such notion."""

    id: int
    special: bool | None = None
    flags: tuple[tuple[str, bool], ...] | None = None  # (name, value) for ADDED_FLAGS


@dataclass(frozen=True)
class FileLimits:
    """Truncation / padding written into a tokenizer.json, and tokenizer_config.json's model_max_length."""

    file: str
    truncation: dict[str, Any] | None
    padding: dict[str, Any] | None
    model_max_length: int | None

    @classmethod
    def of(cls, file: str, truncation: Any, padding: Any, max_length: Any) -> FileLimits | None:
        """From a tokenizers.Tokenizer's truncation/padding and a model_max_length; None when neither is set."""
        if not truncation and not padding:
            return None
        limit = max_length if isinstance(max_length, int) and max_length < NO_LIMIT else None
        return cls(file, dict(truncation) if truncation else None, dict(padding) if padding else None, limit)


class Tokenizer(ABC):
    """A loaded tokenizer for one side. Subclasses wrap one library each."""

    source: str = ""
    library: str = ""
    #: special-text modes the library implements itself; the rest are done here.
    native_modes: frozenset[str] = frozenset()
    default_special_text: str = "literal"

    def __init__(self, spec: SideSpec) -> None:
        self.spec = spec
        self.special_text = spec.special_text or self.default_special_text
        self.surface = lru_cache(maxsize=None)(self._surface)
        self._special_re: re.Pattern[str] | None = None
        self._special_names: dict[int, str] | None = None

    # -- what subclasses provide -------------------------------------------------------------
    @abstractmethod
    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        """Encode with the library; `mode` is one of native_modes (or literal); `bare` drops BOS/EOS."""

    @abstractmethod
    def specials(self) -> dict[str, int]:
        """Special and added token strings -> ids (control tokens, added tokens)."""

    @abstractmethod
    def piece(self, token_id: int) -> str:
        """The library's display string for an id."""

    @abstractmethod
    def _surface(self, token_id: int) -> bytes | None:
        """The bytes of text an id stands for; None for a control token with no text."""

    def normalize(self, text: str) -> str | None:
        """The text as the library's normalizer sees it; None when the library does not say."""
        return None

    def is_fallback(self, token_id: int) -> bool:
        """True for the unknown token and byte-fallback tokens."""
        return False

    def encode_offsets(self, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]] | None:
        """Ids and each id's character span in `text`, special strings parsed; None when the library has no offsets."""
        return None

    @property
    def bos_id(self) -> int | None:
        return None

    @property
    def eos_id(self) -> int | None:
        return None

    @property
    def pad_id(self) -> int | None:
        return None

    def backend(self) -> str:
        return type(self).__name__

    def version(self) -> str:
        return ""

    # -- vocabulary as a whole (vocab-check); subclasses override with their library's batch APIs ------
    def vocab_bytes(self) -> list[bytes | None]:
        """The bytes of every id from 0 to the largest id, as surface() gives them; None for a hole."""
        raise NotImplementedError(f"{type(self).__name__} does not list its vocabulary")

    def added_tokens(self) -> dict[str, AddedEntry]:
        """Special and added tokens: content -> id and, where the library keeps them, flags."""
        return {s: AddedEntry(i) for s, i in self.specials().items()}

    def roles(self) -> dict[str, RoleToken | None]:
        """bos / eos / pad / unk this side knows of: a token, or None for "has none". A role missing
        from the dict is unknown (the library has no such notion, e.g. tiktoken has no BOS)."""
        return {}

    def decode_each(self, ids: list[int]) -> list[str]:
        """Each id decoded on its own by the library, as text."""
        raise NotImplementedError

    def chat_template(self) -> str | None:
        """The default chat template the tokenizer files ship, if any."""
        return self.chat_templates().get("default")

    def split_patterns(self) -> list[tuple[str, str]]:
        """Pre-tokenizer regexes as (pattern, engine): engine "tiktoken" or "tokenizers"."""
        return []

    def file_limits(self) -> FileLimits | None:
        """Truncation / padding stored in the tokenizer file (tokenizer.json only)."""
        return None

    def vocab_reader(self) -> Tokenizer:
        """The tokenizer vocab-check reads the vocabulary from: this one, unless the library only wraps another."""
        return self

    def files_dir(self) -> Path | None:
        """The local folder the tokenizer files were read from (None for a registry name or hub id)."""
        path = Path(self.spec.path) if self.spec.path else None
        if path is None or not path.exists():
            return None
        return path if path.is_dir() else path.parent

    def close(self) -> None:
        """Let go of what the side holds outside this process (a worker in another interpreter); most hold none."""
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.spec.path or self.spec.encoding,
            "library": self.library,
            "version": self.version(),
            "backend": self.backend(),
            "special_text": self.special_text,
        }

    # -- shared behaviour ---------------------------------------------------------------------
    def special_names(self) -> dict[int, str]:
        """id -> string for every special or added token (cached)."""
        if self._special_names is None:
            self._special_names = {v: k for k, v in self.specials().items()}
        return self._special_names

    def wrap_all(self, batch: list[list[int]], add_bos: bool, add_eos: bool) -> list[list[int]]:
        """`wrap` for a whole batch, reading the BOS/EOS ids once (it runs once per sample)."""
        pre = [self.bos_id] if add_bos and self.bos_id is not None else []
        post = [self.eos_id] if add_eos and self.eos_id is not None else []
        if not pre and not post:
            return batch
        return [[*pre, *ids, *post] for ids in batch]  # type: ignore[list-item]

    def wrap(self, ids: list[int], add_bos: bool, add_eos: bool) -> list[int]:
        if add_bos and self.bos_id is not None:
            ids = [self.bos_id, *ids]
        if add_eos and self.eos_id is not None:
            ids = [*ids, self.eos_id]
        return ids

    def special_pattern(self) -> re.Pattern[str] | None:
        if self._special_re is None:
            strings = sorted((s for s in self.specials() if s), key=len, reverse=True)
            if not strings:
                return None
            self._special_re = re.compile("|".join(re.escape(s) for s in strings))
        return self._special_re

    def encode_all(self, texts: list[str]) -> list[SampleResult]:
        """Encode every text; a text the library refuses becomes its error message, not a crash."""
        results: list[SampleResult | None] = [None] * len(texts)
        todo = list(range(len(texts)))
        pattern = self.special_pattern()
        if self.special_text == "raise" and "raise" not in self.native_modes and pattern is not None:
            keep = []
            for i in todo:
                m = pattern.search(texts[i])
                if m:
                    results[i] = f"text contains the special token {m.group(0)!r} (special_text: raise)"
                else:
                    keep.append(i)
            todo = keep
        batch = [texts[i] for i in todo]
        try:
            encoded = self._encode_many(batch)
        except Exception:
            encoded = []
            for text in batch:
                try:
                    encoded.append(self._encode_many([text])[0])
                except Exception as exc:  # the library's own refusal, kept as evidence
                    encoded.append(f"{type(exc).__name__}: {exc}")
        for i, ids in zip(todo, encoded):
            results[i] = ids
        return results  # type: ignore[return-value]

    def _encode_many(self, texts: list[str]) -> list[SampleResult]:
        if self.special_text == "parse" and "parse" not in self.native_modes:
            return [self._parse_split(t) for t in texts]
        mode = self.special_text if self.special_text in self.native_modes else "literal"
        return list(self.encode_batch(texts, mode))

    def _parse_split(self, text: str, bare: bool = False) -> list[int]:
        # How Python-side tokenizers have always parsed specials: cut the text at each special
        # string, encode the pieces in between on their own, and splice in the special ids.
        pattern = self.special_pattern()
        specials = self.specials()
        if pattern is None:
            return self.encode_batch([text], "literal")[0]
        ids: list[int] = []
        pos = 0
        chunks: list[str | int] = []
        for m in pattern.finditer(text):
            if m.start() > pos:
                chunks.append(text[pos : m.start()])
            chunks.append(specials[m.group(0)])
            pos = m.end()
        if pos < len(text):
            chunks.append(text[pos:])
        plain = [c for c in chunks if isinstance(c, str)]
        plain_ids = iter(self.encode_batch(plain, "literal", bare=True) if plain else [])
        for c in chunks:
            ids.extend([c] if isinstance(c, int) else next(plain_ids))
        return ids if bare else self.wrap(ids, *self.bos_eos_defaults())

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        return bool(self.spec.add_bos), bool(self.spec.add_eos)

    # -- chat (template-check, mask-check) ----------------------------------------------------
    def chat_templates(self) -> dict[str, str]:
        """Every chat template the files ship, by name (`default`, `tool_use`, ...); {} if there is none."""
        return {}

    def template_vars(self) -> dict[str, Any]:
        """Special-token strings a chat template sees (`bos_token`, `eos_token` ...), as transformers passes them."""
        out: dict[str, Any] = {}
        names = self.special_names()
        for key, tid in (("bos_token", self.bos_id), ("eos_token", self.eos_id), ("pad_token", self.pad_id)):
            if tid is not None:
                out[key] = names.get(tid) or self.piece(tid)
        return out

    def encode_rendered_all(self, texts: list[str], add_special: bool) -> list[list[int]]:
        """`encode_rendered` for many texts, in one library call where the side encodes as the base class does."""
        if type(self).encode_rendered is not Tokenizer.encode_rendered:
            return [self.encode_rendered(t, add_special) for t in texts]
        if self.special_text == "literal":
            batch = [list(x) for x in self.encode_batch(texts, "literal", bare=True)]
        elif "parse" in self.native_modes:
            batch = [list(x) for x in self.encode_batch(texts, "parse", bare=True)]
        else:
            batch = [self._parse_split(t, bare=True) for t in texts]
        return self.wrap_all(batch, *self.bos_eos_defaults()) if add_special else batch

    def decode_all(self, batch: list[list[int]], skip_special_tokens: bool) -> list[str]:
        """Each id list as the text the library's decode gives (rollout-check's round trip). Here: the ids'
        bytes joined, special and added tokens left out when asked, bytes that are no UTF-8 as U+FFFD, which
        is what a byte-level decode does; libraries with a decode of their own override it."""
        names = self.special_names() if skip_special_tokens else {}
        return [
            b"".join(self.surface(i) or b"" for i in ids if i not in names).decode("utf-8", errors="replace")
            for ids in batch
        ]

    def encode_rendered(self, text: str, add_special: bool) -> list[int]:
        """Encode one rendered chat as a pipeline does: the template's control strings become control tokens
        (unless `special_text: literal`); BOS/EOS are added as for any text only when `add_special`."""
        if self.special_text == "literal":
            ids = self.encode_batch([text], "literal", bare=True)[0]
        elif "parse" in self.native_modes:
            ids = self.encode_batch([text], "parse", bare=True)[0]
        else:
            ids = self._parse_split(text, bare=True)
        return self.wrap(list(ids), *self.bos_eos_defaults()) if add_special else list(ids)


@dataclass
class Sides:
    """Both sides' tokenizers, loaded."""

    training: Tokenizer
    serving: Tokenizer

    def items(self) -> list[tuple[str, Tokenizer]]:
        return [("training", self.training), ("serving", self.serving)]

    def specials(self) -> set[str]:
        """Every special or added token string of either side (the built-in corpus types each one)."""
        return set(self.training.specials()) | set(self.serving.specials())

    def close(self) -> None:
        for _, tok in self.items():
            tok.close()

    def __enter__(self) -> Sides:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
