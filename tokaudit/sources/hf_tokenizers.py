"""`tokenizers`: a tokenizer.json through the Rust `tokenizers` library alone, as training stacks use it."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.pieces import BYTE_PIECE, piece_bytes, scheme_of


def _token_content(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


class TokenizersTokenizer(Tokenizer):
    """tokenizers.Tokenizer.from_file: what the file says, with no transformers logic on top."""

    source = "tokenizers"
    library = "tokenizers"
    native_modes = frozenset({"parse", "literal"})
    default_special_text = "parse"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        import tokenizers

        self._lib = tokenizers
        path = Path(spec.path or "")
        self.file = path / "tokenizer.json" if path.is_dir() else path
        if not self.file.is_file():
            raise SourceError(f"{path}: no tokenizer.json in this directory")
        try:
            self.tok = tokenizers.Tokenizer.from_file(str(self.file))
        except Exception as exc:
            msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise SourceError(f"{self.file}: not a readable tokenizer.json ({msg})") from exc
        self._config = self._read_config()
        if (spec.add_bos and self.bos_id is None) or (spec.add_eos and self.eos_id is None):
            raise SourceError(
                f"{self.file}: add_bos/add_eos asked for, but no bos/eos token is known "
                "(put a tokenizer_config.json beside tokenizer.json)"
            )

    def _read_config(self) -> dict[str, Any]:
        cfg = self.file.parent / "tokenizer_config.json"
        if not cfg.is_file():
            return {}
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{cfg}: not readable JSON ({exc})") from exc
        return data if isinstance(data, dict) else {}

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        explicit = self.spec.add_bos is not None or self.spec.add_eos is not None
        add_special = self.spec.add_special_tokens if self.spec.add_special_tokens is not None else True
        self.tok.encode_special_tokens = mode == "literal"
        encode = getattr(self.tok, "encode_batch_fast", self.tok.encode_batch)  # _fast: tokenizers >= 0.21
        encs = encode(texts, add_special_tokens=add_special and not bare and not explicit)
        ids = [e.ids for e in encs]
        if explicit and not bare:
            ids = [self.wrap(x, bool(self.spec.add_bos), bool(self.spec.add_eos)) for x in ids]
        return ids

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        if self.spec.add_bos is not None or self.spec.add_eos is not None:
            return bool(self.spec.add_bos), bool(self.spec.add_eos)
        if self.spec.add_special_tokens is False:
            return False, False
        probe = self.tok.encode("a", add_special_tokens=True).ids
        bare = self.tok.encode("a", add_special_tokens=False).ids
        return probe[:1] != bare[:1], probe[-1:] != bare[-1:]

    @cached_property
    def _specials(self) -> dict[str, int]:
        return {t.content: i for i, t in self.tok.get_added_tokens_decoder().items()}

    def specials(self) -> dict[str, int]:
        return self._specials

    @cached_property
    def _json(self) -> dict[str, Any]:
        return json.loads(self.tok.to_str())

    @cached_property
    def scheme(self) -> str:
        return scheme_of(self._json)

    def piece(self, token_id: int) -> str:
        return self.tok.id_to_token(token_id) or ""

    def _surface(self, token_id: int) -> bytes | None:
        piece = self.piece(token_id)
        if token_id in self._specials.values():
            return piece.encode("utf-8")
        return piece_bytes(piece, self.scheme)

    def normalize(self, text: str) -> str | None:
        return text if self.tok.normalizer is None else self.tok.normalizer.normalize_str(text)

    def is_fallback(self, token_id: int) -> bool:
        unk = (self._json.get("model") or {}).get("unk_token")
        piece = self.piece(token_id)
        return (unk is not None and piece == unk) or bool(BYTE_PIECE.match(piece))

    def _config_id(self, key: str) -> int | None:
        content = _token_content(self._config.get(key))
        return self.tok.token_to_id(content) if content else None

    @property
    def bos_id(self) -> int | None:
        return self._config_id("bos_token")

    @property
    def eos_id(self) -> int | None:
        return self._config_id("eos_token")

    @property
    def pad_id(self) -> int | None:
        padding = self.tok.padding
        return padding["pad_id"] if padding else self._config_id("pad_token")

    def version(self) -> str:
        return str(self._lib.__version__)

    def backend(self) -> str:
        return f"tokenizers.Tokenizer ({self._json.get('model', {}).get('type', '?')})"
