"""`hf` and `hf-slow`: Hugging Face transformers tokenizers, as a serving stack loads them."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.pieces import BYTE_PIECE, piece_bytes, scheme_of, scheme_of_vocab


def import_transformers() -> Any:
    """Import transformers quietly: tokaudit needs no torch, so its notice is noise."""
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import transformers

    return transformers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class HFTokenizer(Tokenizer):
    """AutoTokenizer with the fast (Rust `tokenizers`) backend requested explicitly."""

    source = "hf"
    library = "transformers"
    native_modes = frozenset({"parse", "literal"})
    default_special_text = "parse"
    want_fast = True

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        self.tf = import_transformers()
        self.tok = self._load()

    def _from_pretrained(self, cls: Any, use_fast: bool) -> Any:
        kwargs: dict[str, Any] = {"trust_remote_code": self.spec.trust_remote_code}
        if self.spec.revision:
            kwargs["revision"] = self.spec.revision
        if cls is self.tf.AutoTokenizer:
            kwargs["use_fast"] = use_fast
        try:
            return cls.from_pretrained(self.spec.path, **kwargs)
        except Exception as exc:
            raise SourceError(
                f"cannot load {self.spec.path} with transformers {self.tf.__version__} "
                f"{getattr(cls, '__name__', cls)}: {_first_line(exc)}"
            ) from exc

    def _load(self) -> Any:
        tok = self._from_pretrained(self.tf.AutoTokenizer, use_fast=True)
        if not getattr(tok, "is_fast", False):
            raise SourceError(
                f"{self.spec.path}: AutoTokenizer returned the Python backend {type(tok).__name__} "
                "although the fast backend was requested; serving would not tokenize like this "
                "(is tokenizer.json missing, or the `tokenizers` package broken?)"
            )
        return tok

    # -- encoding ------------------------------------------------------------------------------
    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        explicit = self.spec.add_bos is not None or self.spec.add_eos is not None
        add_special = self.spec.add_special_tokens if self.spec.add_special_tokens is not None else True
        kwargs: dict[str, Any] = {"add_special_tokens": add_special and not bare and not explicit}
        if mode == "literal":
            kwargs["split_special_tokens"] = True
        ids = self.tok(texts, **kwargs)["input_ids"]
        if explicit and not bare:
            ids = [self.wrap(list(x), bool(self.spec.add_bos), bool(self.spec.add_eos)) for x in ids]
        return ids

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        if self.spec.add_bos is not None or self.spec.add_eos is not None:
            return bool(self.spec.add_bos), bool(self.spec.add_eos)
        if self.spec.add_special_tokens is False:
            return False, False
        # What the post-processor adds to a single sequence.
        probe = self.tok("a", add_special_tokens=True)["input_ids"]
        bare = self.tok("a", add_special_tokens=False)["input_ids"]
        return probe[:1] != bare[:1], probe[-1:] != bare[-1:]

    # -- vocabulary ----------------------------------------------------------------------------
    @cached_property
    def _specials(self) -> dict[str, int]:
        out = {str(t): i for i, t in self.tok.added_tokens_decoder.items()}
        for name in ("bos_token", "eos_token", "unk_token", "pad_token"):
            value = getattr(self.tok, name, None)
            if value:
                tid = self.tok.convert_tokens_to_ids(str(value))
                if isinstance(tid, int):
                    out.setdefault(str(value), tid)
        return out

    def specials(self) -> dict[str, int]:
        return self._specials

    @cached_property
    def _special_ids(self) -> set[int]:
        return set(self._specials.values())

    @cached_property
    def scheme(self) -> str:
        backend = getattr(self.tok, "backend_tokenizer", None)
        if backend is not None:
            return scheme_of(backend.to_str())
        return scheme_of_vocab(list(self.tok.get_vocab()))

    def piece(self, token_id: int) -> str:
        piece = self.tok.convert_ids_to_tokens(token_id)
        return "" if piece is None else str(piece)

    def _surface(self, token_id: int) -> bytes | None:
        piece = self.piece(token_id)
        if token_id in self._special_ids:
            return piece.encode("utf-8")
        return piece_bytes(piece, self.scheme)

    def normalize(self, text: str) -> str | None:
        backend = getattr(self.tok, "backend_tokenizer", None)
        if backend is None:
            return None
        return text if backend.normalizer is None else backend.normalizer.normalize_str(text)

    def is_fallback(self, token_id: int) -> bool:
        return token_id == self.tok.unk_token_id or bool(BYTE_PIECE.match(self.piece(token_id)))

    @property
    def bos_id(self) -> int | None:
        return self.tok.bos_token_id

    @property
    def eos_id(self) -> int | None:
        return self.tok.eos_token_id

    @property
    def pad_id(self) -> int | None:
        return self.tok.pad_token_id

    def version(self) -> str:
        return str(self.tf.__version__)

    def backend(self) -> str:
        bases = [c.__name__ for c in type(self.tok).__mro__[1:3]]
        return f"{type(self.tok).__name__} ({', '.join(bases)})"


class HFSlowTokenizer(HFTokenizer):
    """The Python / SentencePiece backend, where the installed transformers still has one."""

    source = "hf-slow"
    want_fast = False

    def _load(self) -> Any:
        tok = self._from_pretrained(self.tf.AutoTokenizer, use_fast=False)
        if not getattr(tok, "is_fast", False):
            return tok
        # transformers 5 quietly hands back the fast class; its Python twin, if any, is `<Name>Legacy`.
        name = type(tok).__name__
        legacy = getattr(self.tf, f"{name}Legacy", None)
        if legacy is None:
            raise SourceError(
                f"{self.spec.path}: transformers {self.tf.__version__} has no Python backend for "
                f"{name} (AutoTokenizer(use_fast=False) returned the fast class); use `hf` or "
                "`sentencepiece` for this side"
            )
        slow = self._from_pretrained(legacy, use_fast=False)
        if getattr(slow, "is_fast", False):
            raise SourceError(f"{self.spec.path}: {legacy.__name__} loaded a fast backend")
        return slow
