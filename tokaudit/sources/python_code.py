"""`python`: the user's own tokenizer code, imported from the config's `object` and called as the pipeline calls it.

`object: my_pipeline.tokenizer:build` names the tokenizer itself (anything with an `encode` method) or a
factory that returns one, called with `args`. tokaudit calls `encode(text)` with no other arguments, and
`encode_batch(texts)` where the object has it, so what the code does around its library (a prefix space,
whitespace clean-up, added tokens, a different pre-tokenizer) is what gets audited. Ids must be a
sequence of ints. Loading imports and runs that code.

Evidence comes from what the object offers: pieces from the first of `convert_ids_to_tokens`,
`id_to_piece`, `id_to_token` or `decode([id])`; specials from `all_special_tokens` / `all_special_ids`;
roles from `<role>_token` / `<role>_token_id`. An id's bytes are its piece under the vocabulary's spelling
(▁, Ġ, ##) when the spelling can be read off the pieces, else `decode([id])` as UTF-8 (which drops a
SentencePiece token's leading space, so it is the second choice); describe() says which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cached_property
from numbers import Integral
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import ROLES, RoleToken, Tokenizer
from tokaudit.sources.pieces import piece_bytes, scheme_of_vocab
from tokaudit.usercode import UserCodeError, as_ids, import_attribute, one_line, shown

PIECE_METHODS = ("convert_ids_to_tokens", "id_to_piece", "id_to_token")
SIZE_METHODS = ("get_vocab_size", "get_piece_size")
UNAVAILABLE = "(piece unavailable)"
PROBE = "Hello world"


def _tokenizer_like(obj: Any) -> bool:
    # str and bytes have an `encode` of their own: a config that names a string has named the wrong thing
    return not isinstance(obj, (str, bytes)) and callable(getattr(obj, "encode", None))


class PythonTokenizer(Tokenizer):
    """The object a config's `object` names (or its factory returns), with its own encode."""

    source = "python"
    library = "python"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        self.special_text = "literal"  # tokaudit never cuts the text at special strings: encode(text) decides
        self.ref = str(spec.object)
        try:
            self._lib, target = import_attribute(self.ref, spec.config_dir)  # the user's module
        except UserCodeError as exc:
            raise SourceError(f"{self.ref}: {exc}", key="object") from exc
        self.tok = self._build(target)
        batch = getattr(self.tok, "encode_batch", None)
        self._batch = batch if callable(batch) else None
        self._probe()
        self._piece_method = next((m for m in PIECE_METHODS if callable(getattr(self.tok, m, None))), None)
        decode = getattr(self.tok, "decode", None)
        self._decode = decode if callable(decode) else None

    def _build(self, target: Any) -> Any:
        if _tokenizer_like(target) and not isinstance(target, type):
            if self.spec.args is not None:
                raise SourceError(f"{self.ref}: has `encode`, so it is the tokenizer and takes no `args`", key="args")
            return target
        if not callable(target):
            raise SourceError(
                f"{self.ref}: a {type(target).__name__}, neither a tokenizer (an object with `encode`) "
                "nor a function that returns one",
                key="object",
            )
        try:
            obj = target(**(self.spec.args or {}))
        except Exception as exc:  # the factory's own failure, shown as one line (--debug: the traceback)
            raise SourceError(f"{self.ref}: calling it raised {one_line(exc)}", key="object") from exc
        if not _tokenizer_like(obj):
            what = type(obj).__name__
            raise SourceError(f"{self.ref}: returned a {what}, which has no `encode` method", key="object")
        return obj

    def _probe(self) -> None:
        """Encode a plain text once, so a wrong return type is a config error and not one per sample."""
        calls: dict[str, Any] = {f"encode({PROBE!r})": lambda: [self.tok.encode(PROBE)]}
        if (batch := self._batch) is not None:
            calls[f"encode_batch([{PROBE!r}])"] = lambda: list(batch([PROBE]))
        for call, run in calls.items():
            try:
                got = run()
            except Exception as exc:
                raise SourceError(f"{self.ref}: {call} raised {one_line(exc)}", key="object") from exc
            if len(got) != 1 or as_ids(got[0]) is None:
                what = shown(got[0] if len(got) == 1 else got)
                raise SourceError(
                    f"{self.ref}: {call} returned {what}; expected a sequence of ints (token ids)", key="object"
                )

    # -- encoding: the object's own calls; `mode` and `bare` are tokaudit's and do not reach it --------
    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        if len(texts) > 1 and self._batch is not None:
            results = list(self._batch(texts))
            if len(results) != len(texts):
                raise ValueError(f"encode_batch returned {len(results)} results for {len(texts)} texts")
        else:
            results = [self.tok.encode(t) for t in texts]
        out = []
        for got in results:
            ids = as_ids(got)
            if ids is None:
                raise TypeError(f"encode returned {shown(got)}, not a sequence of ints")
            out.append(ids)
        return out

    # -- evidence ---------------------------------------------------------------------------------
    @cached_property
    def _specials(self) -> dict[str, int]:
        tokens = getattr(self.tok, "all_special_tokens", None)
        ids = getattr(self.tok, "all_special_ids", None)
        if not isinstance(tokens, (list, tuple)) or not isinstance(ids, (list, tuple)) or len(tokens) != len(ids):
            return {}
        return {t: int(i) for t, i in zip(tokens, ids) if isinstance(t, str) and isinstance(i, Integral)}

    def specials(self) -> dict[str, int]:
        return dict(self._specials)

    def _piece(self, token_id: int) -> str | None:
        try:
            if self._piece_method == "convert_ids_to_tokens":
                got = self.tok.convert_ids_to_tokens([token_id])
                got = got[0] if isinstance(got, (list, tuple)) and got else got
            elif self._piece_method is not None:
                got = getattr(self.tok, self._piece_method)(token_id)
            elif self._decode is not None:
                got = self._decode([token_id])
            else:
                return None
        except Exception:  # an id the object does not know: evidence only, never a crash
            return None
        return got if isinstance(got, str) else None

    def piece(self, token_id: int) -> str:
        return self._piece(token_id) or UNAVAILABLE

    @cached_property
    def _size(self) -> int | None:
        vocab = self._vocab
        if vocab:
            return max(vocab.values()) + 1
        for name in SIZE_METHODS:
            method = getattr(self.tok, name, None)
            if callable(method):
                return int(method())
        size = getattr(self.tok, "vocab_size", None)
        if isinstance(size, Integral):
            return int(size)
        return len(self.tok) if hasattr(self.tok, "__len__") else None

    @cached_property
    def _vocab(self) -> dict[str, int]:
        get = getattr(self.tok, "get_vocab", None)
        vocab = get() if callable(get) else None
        return {p: int(i) for p, i in vocab.items() if isinstance(i, Integral)} if isinstance(vocab, Mapping) else {}

    @cached_property
    def scheme(self) -> str | None:
        """How the pieces spell bytes (metaspace, bytelevel, wordpiece); None when they cannot say."""
        if self._piece_method is None:
            return None
        if self._vocab:
            pieces = [p for p, _ in sorted(self._vocab.items(), key=lambda kv: kv[1])]
        else:
            pieces = [p for p in (self._piece(i) for i in range(min(self._size or 0, 5000))) if p]
        scheme = scheme_of_vocab(pieces)
        return None if scheme == "raw" and self._decode is not None else scheme

    def _surface(self, token_id: int) -> bytes | None:
        name = self.special_names().get(token_id)
        if name is not None:
            return name.encode("utf-8")
        if self.scheme is not None:
            piece = self._piece(token_id)
            return None if piece is None else piece_bytes(piece, self.scheme)
        if self._decode is not None:
            try:
                text = self._decode([token_id])
            except Exception:
                return None
            return text.encode("utf-8") if isinstance(text, str) else None
        return None

    def bytes_from(self) -> str | None:
        if self.scheme is not None:
            return f"{self._piece_method} ({self.scheme} pieces)"
        return "decode([id])" if self._decode is not None else None

    def _role_id(self, role: str) -> int | None:
        value = getattr(self.tok, f"{role}_token_id", None)
        return int(value) if isinstance(value, Integral) and not isinstance(value, bool) else None

    @property
    def bos_id(self) -> int | None:
        return self._role_id("bos")

    @property
    def eos_id(self) -> int | None:
        return self._role_id("eos")

    @property
    def pad_id(self) -> int | None:
        return self._role_id("pad")

    def is_fallback(self, token_id: int) -> bool:
        return token_id == self._role_id("unk")

    def roles(self) -> dict[str, RoleToken | None]:
        out: dict[str, RoleToken | None] = {}
        for role in ROLES:
            if not hasattr(self.tok, f"{role}_token_id"):
                continue  # the object has no such notion: unknown, never a mismatch
            tid, text = self._role_id(role), getattr(self.tok, f"{role}_token", None)
            out[role] = None if tid is None else (text if isinstance(text, str) else self.piece(tid), tid)
        return out

    def vocab_bytes(self) -> list[bytes | None]:
        if self._size is None:
            raise SourceError(
                f"{self.ref}: lists no vocabulary (get_vocab, vocab_size or __len__), which vocab-check reads",
                key="object",
            )
        return [self.surface(i) for i in range(self._size)]

    def decode_each(self, ids: list[int]) -> list[str]:
        if self._decode is None:
            raise SourceError(f"{self.ref}: has no `decode`, which vocab-check's round trip calls", key="object")
        return [str(self._decode([i])) for i in ids]

    def chat_templates(self) -> dict[str, str]:
        template = getattr(self.tok, "chat_template", None)
        if isinstance(template, str):
            return {"default": template}
        if isinstance(template, Mapping):
            return {str(k): v for k, v in template.items() if isinstance(v, str)}
        return {}

    def backend(self) -> str:
        return type(self.tok).__name__

    def version(self) -> str:
        """The module's `__version__`, else a hash of its file: a snapshot then shows that the code changed."""
        version = getattr(self._lib, "__version__", None)
        if isinstance(version, str) and version:
            return version
        file = getattr(self._lib, "__file__", None)
        try:
            return "sha256:" + hashlib.sha256(Path(file).read_bytes()).hexdigest()[:12] if file else ""
        except OSError:
            return ""

    def describe(self) -> dict[str, Any]:
        has = [m for m in (*PIECE_METHODS, "decode") if callable(getattr(self.tok, m, None))]
        return {
            **super().describe(),
            "path": self.ref,
            "special_text": "object",  # the object's encode decides; tokaudit passes the text as is
            "args": self.spec.args,
            "evidence": {
                "methods": has,
                "pieces": self._piece_method or ("decode([id])" if self._decode else None),
                "bytes": self.bytes_from(),
                "special_tokens": "all_special_tokens" if self._specials else None,
                "encode_batch": self._batch is not None,
                "note": None if has else "the object has no piece method: findings show ids, pieces are unavailable",
            },
        }
