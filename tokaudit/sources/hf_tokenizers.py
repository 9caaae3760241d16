"""`tokenizers`: a tokenizer.json through the Rust `tokenizers` library alone, as training stacks use it."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import ADDED_FLAGS, ROLES, AddedEntry, FileLimits, RoleToken, Tokenizer
from tokaudit.sources.capabilities import Assembly
from tokaudit.sources.pieces import BYTE_PIECE, assemble_vocab, piece_bytes, scheme_of, split_regexes


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
        self._limits = self._read_limits()
        if (spec.add_bos and self.bos_id is None) or (spec.add_eos and self.eos_id is None):
            raise SourceError(
                f"{self.file}: add_bos/add_eos asked for, but no bos/eos token is known "
                "(put a tokenizer_config.json beside tokenizer.json)"
            )

    def _read_config(self, name: str = "tokenizer_config.json") -> dict[str, Any]:
        cfg = self.file.parent / name
        if not cfg.is_file():
            return {}
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{cfg}: not readable JSON ({exc})") from exc
        return data if isinstance(data, dict) else {}

    def _read_limits(self) -> FileLimits | None:
        max_len = self._config.get("model_max_length")
        return FileLimits.of(str(self.file), self.tok.truncation, self.tok.padding, max_len)

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        explicit = self.spec.add_bos is not None or self.spec.add_eos is not None
        add_special = self.spec.add_special_tokens if self.spec.add_special_tokens is not None else True
        self.tok.encode_special_tokens = mode == "literal"
        encode = getattr(self.tok, "encode_batch_fast", self.tok.encode_batch)  # _fast: tokenizers >= 0.21
        encs = encode(texts, add_special_tokens=add_special and not bare and not explicit)
        ids = [e.ids for e in encs]
        if explicit and not bare:
            ids = self.wrap_all(ids, bool(self.spec.add_bos), bool(self.spec.add_eos))
        return ids

    def encode_offsets(self, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]] | None:
        self.tok.encode_special_tokens = False  # parse: a rendered chat spells its control tokens
        enc = self.tok.encode(text, add_special_tokens=add_special_tokens)
        return list(enc.ids), [(int(a), int(b)) for a, b in enc.offsets]

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

    def chat_templates(self) -> dict[str, str]:
        template = self._config.get("chat_template")
        if isinstance(template, list):  # the saved form of named templates: [{"name": ..., "template": ...}]
            return {str(t.get("name")): str(t.get("template")) for t in template if isinstance(t, dict)}
        jinja = self.file.parent / "chat_template.jinja"  # transformers >= 4.50 saves it beside the config
        if template is None and jinja.is_file():
            template = jinja.read_text(encoding="utf-8")
        return {"default": template} if isinstance(template, str) and template else {}

    def template_vars(self) -> dict[str, Any]:
        out = super().template_vars()
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            content = _token_content(self._config.get(key))
            if content:
                out[key] = content
        return out

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

    # -- vocab-check -----------------------------------------------------------------------------
    def vocab_bytes(self) -> list[bytes | None]:
        literal = {i: s for s, i in self._specials.items()}
        return assemble_vocab(self.tok.get_vocab(with_added_tokens=True), literal, self.scheme)

    def added_tokens(self) -> dict[str, AddedEntry]:
        out = {}
        for i, t in self.tok.get_added_tokens_decoder().items():
            flags = tuple((f, bool(getattr(t, f, False))) for f in ADDED_FLAGS)
            out[t.content] = AddedEntry(int(i), bool(t.special), flags)
        return out

    def roles(self) -> dict[str, RoleToken | None]:
        # tokenizer.json has no bos/eos/pad: only transformers' config files beside it name them.
        has_config = any((self.file.parent / n).is_file() for n in ("tokenizer_config.json", "special_tokens_map.json"))
        out: dict[str, RoleToken | None] = {}
        if has_config:
            names = {**self._read_config("special_tokens_map.json"), **self._config}
            for role in ROLES:
                content = _token_content(names.get(f"{role}_token"))
                out[role] = (content, self.tok.token_to_id(content)) if content else None
        elif getattr(self.tok.model, "unk_token", None):  # a model with none (byte fallback) says nothing
            unk = self.tok.model.unk_token
            out["unk"] = (unk, self.tok.token_to_id(unk))
        if self.tok.padding:  # the library pads with this token whatever the config says
            out["pad"] = (self.tok.padding["pad_token"], self.tok.padding["pad_id"])
        return out

    def decode_each(self, ids: list[int]) -> list[str]:
        return list(self.tok.decode_batch([[i] for i in ids], skip_special_tokens=False))

    def decode_all(self, batch: list[list[int]], skip_special_tokens: bool) -> list[str]:
        return list(self.tok.decode_batch(batch, skip_special_tokens=skip_special_tokens))

    def split_patterns(self) -> list[tuple[str, str]]:
        if self.tok.pre_tokenizer is None:
            return []
        return [(p, "tokenizers") for p in split_regexes(json.loads(self.tok.pre_tokenizer.__getstate__()))]

    def file_limits(self) -> FileLimits | None:
        return self._limits

    # -- capabilities (tokaudit.sources.capabilities) ----------------------------------------------
    def pipeline(self) -> Assembly:
        return self._pipeline

    @cached_property
    def _pipeline(self) -> Assembly:
        from tokaudit.sources.assembly import from_backend

        # the library runs the file's truncation and padding: they are part of this side's pipeline
        return from_backend(self, self.tok, f"{self.file} (tokenizers {self._lib.__version__})", resets_limits=False)

    def backend(self) -> str:
        return f"tokenizers.Tokenizer ({self._json.get('model', {}).get('type', '?')})"
