"""`mistral-common`: MistralTokenizer from a tekken .json or a SentencePiece .model.vN file."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import AddedEntry, RoleToken, Tokenizer
from tokaudit.sources.capabilities import Assembly, Messages, NoPipeline, Refused
from tokaudit.sources.spm import sp_added_tokens, sp_roles, sp_surface, sp_vocab_bytes
from tokaudit.sources.tiktoken_bpe import tiktoken_decode_each, tiktoken_vocab_bytes

#: finetuning-mode MistralTokenizers by file, loaded once
_FINETUNING: dict[str, Any] = {}


class MistralCommonTokenizer(Tokenizer):
    """mistral-common's raw text encoder: control strings in text stay literal, BOS is added."""

    source = "mistral-common"
    library = "mistral-common"
    native_modes = frozenset({"literal"})
    default_special_text = "literal"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        try:
            from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
        except ImportError as exc:
            raise SourceError(
                "source mistral-common needs the optional extra: pip install 'tokaudit[mistral]'"
            ) from exc
        try:
            mt = MistralTokenizer.from_file(str(spec.path))
        except Exception as exc:
            msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise SourceError(f"{spec.path}: mistral-common cannot load it ({msg})") from exc
        self._attach(mt)

    def _attach(self, mt: Any) -> None:
        self.mt = mt
        self.tk: Any = self.mt.instruct_tokenizer.tokenizer
        self._sp = getattr(self.tk, "_model", None) if type(self.tk).__name__ != "Tekkenizer" else None

    @classmethod
    def from_loaded(cls, spec: SideSpec, mistral_tokenizer: Any) -> MistralCommonTokenizer:
        """Wrap a MistralTokenizer something else loaded (transformers' MistralCommonBackend holds one)."""
        self = cls.__new__(cls)
        Tokenizer.__init__(self, spec)
        self._attach(mistral_tokenizer)
        return self

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        # mistral-common always states bos/eos; a text-completion pipeline asks for BOS only.
        add_bos = True if self.spec.add_bos is None else self.spec.add_bos
        return add_bos, bool(self.spec.add_eos)

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        bos, eos = (False, False) if bare else self.bos_eos_defaults()
        return [list(self.tk.encode(t, bos=bos, eos=eos)) for t in texts]

    @cached_property
    def _specials(self) -> dict[str, int]:
        ids = set(self.tk.special_ids() if callable(self.tk.special_ids) else self.tk.special_ids)
        if getattr(self.tk, "unk_id", -1) >= 0:
            ids.add(self.tk.unk_id)  # parsed like the other control strings, as transformers does
        return {self.tk.id_to_piece(i): i for i in sorted(ids)}

    def specials(self) -> dict[str, int]:
        return self._specials

    def piece(self, token_id: int) -> str:
        try:
            return str(self.tk.id_to_piece(token_id))
        except Exception:
            return ""

    def _surface(self, token_id: int) -> bytes | None:
        if token_id in self._specials.values():
            return self.piece(token_id).encode("utf-8")
        if self._sp is not None:
            return sp_surface(self._sp, token_id)
        try:
            return bytes(self.tk.id_to_byte_piece(token_id, "keep"))
        except Exception:
            return None

    def normalize(self, text: str) -> str | None:
        if self._sp is not None:
            return str(self._sp.normalize(text)) if hasattr(self._sp, "normalize") else None
        return text  # tekken is tiktoken-style: no normalizer

    def is_fallback(self, token_id: int) -> bool:
        if self._sp is not None:
            return bool(self._sp.is_unknown(token_id) or self._sp.is_byte(token_id))
        return token_id == getattr(self.tk, "unk_id", -1) or (
            hasattr(self.tk, "is_byte") and bool(self.tk.is_byte(token_id))
        )

    @property
    def bos_id(self) -> int | None:
        return int(self.tk.bos_id)

    @property
    def eos_id(self) -> int | None:
        return int(self.tk.eos_id)

    def version(self) -> str:
        import mistral_common

        return str(getattr(mistral_common, "__version__", ""))

    def backend(self) -> str:
        return f"{type(self.tk).__name__} ({getattr(self.tk, 'version', '')})"

    # -- vocab-check: tekken is a tiktoken Encoding behind `num_special_tokens` special ids ---------
    def vocab_bytes(self) -> list[bytes | None]:
        if self._sp is not None:
            return sp_vocab_bytes(self._sp)
        out = tiktoken_vocab_bytes(self.tk._model, offset=self.tk.num_special_tokens)
        for text, i in self._specials.items():
            out[i] = text.encode("utf-8")
        return out

    def added_tokens(self) -> dict[str, AddedEntry]:
        if self._sp is not None:
            return sp_added_tokens(self._sp)
        return {s: AddedEntry(i, True) for s, i in self._specials.items()}

    def roles(self) -> dict[str, RoleToken | None]:
        if self._sp is not None:
            return sp_roles(self._sp)
        ids = {"bos": self.tk.bos_id, "eos": self.tk.eos_id, "pad": self.tk.pad_id, "unk": self.tk.unk_id}
        return {role: (self.piece(i), int(i)) if i is not None and i >= 0 else None for role, i in ids.items()}

    def decode_each(self, ids: list[int]) -> list[str]:
        if self._sp is not None:
            return list(self._sp.decode([[i] for i in ids]))
        offset = self.tk.num_special_tokens
        regular = [i for i in ids if i >= offset]
        decoded = iter(tiktoken_decode_each(self.tk._model, [i - offset for i in regular]))
        return [next(decoded) if i >= offset else self.piece(i) for i in ids]

    def split_patterns(self) -> list[tuple[str, str]]:
        if self._sp is not None:
            return []
        return [(str(self.tk._model._pat_str), "tiktoken")]

    # -- capabilities (tokaudit.sources.capabilities) ----------------------------------------------
    def conversion(self) -> Assembly:
        return self._conversion

    @cached_property
    def _conversion(self) -> Assembly:
        from pathlib import Path

        from tokaudit.sources.conversions import tekken_conversion

        if self._sp is not None:
            raise NoPipeline(f"{self.spec.path}: transformers' conversion is only compared for tekken files")
        return tekken_conversion(self, Path(str(self.spec.path)), str(self.tk._model._pat_str), self._specials)

    def encode_chat(self, messages: Messages, tools: Messages | None = None) -> list[int]:
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        mt = self.mt
        if messages and messages[-1].get("role") == "assistant":
            mt = self._finetuning()
        try:
            request = ChatCompletionRequest.from_openai(messages, tools=tools)
            return list(mt.encode_chat_completion(request).tokens)
        except Exception as exc:  # mistral-common's validation of roles, order, tool calls
            msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise Refused(f"{type(exc).__name__}: {msg}") from exc

    def _finetuning(self) -> Any:
        # A conversation that ends with the answer is training data: mistral-common's finetuning mode.
        from mistral_common.protocol.instruct.validator import ValidationMode
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        path = str(self.spec.path)
        if path not in _FINETUNING:
            _FINETUNING[path] = MistralTokenizer.from_file(path, mode=ValidationMode.finetuning)  # type: ignore[arg-type]
        return _FINETUNING[path]
