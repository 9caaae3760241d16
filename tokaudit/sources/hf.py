"""`hf` and `hf-slow`: Hugging Face transformers tokenizers, as a serving stack loads them."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.hub import Pinned, find, is_hub_id, offline, pin
from tokaudit.quiet import import_transformers
from tokaudit.sources.base import ADDED_FLAGS, ROLES, AddedEntry, FileLimits, RoleToken, Tokenizer
from tokaudit.sources.capabilities import Assembly, LoadRecord, Messages, NoPipeline, Refused, Resolution
from tokaudit.sources.pieces import (
    BYTE_PIECE,
    assemble_vocab,
    piece_bytes,
    scheme_of,
    scheme_of_vocab,
    split_regexes,
)

#: the files AutoTokenizer builds a tokenizer from: a folder with none of them holds no tokenizer
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "tekken.json",
    "vocab.json",
    "vocab.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
)


#: where the fast tokenizers' encode path is defined (in 4.x and 5.x); a subclass that redefines a
#: step of it is called through transformers
BASE_MODULES = (
    "transformers.tokenization_utils_base",
    "transformers.tokenization_utils_fast",
    "transformers.tokenization_utils_tokenizers",
)

#: texts of the first batch (per setting) encoded both ways to confirm the backend call gives the same ids
CHECKED = 256


def _one_line(exc: BaseException, limit: int = 400) -> str:
    """The library's message on one line: transformers spreads some over several, and the first alone
    ends mid-sentence ("... from one of:")."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HFTokenizer(Tokenizer):
    """AutoTokenizer with the fast (Rust `tokenizers`) backend requested explicitly."""

    source = "hf"
    library = "transformers"
    native_modes = frozenset({"parse", "literal"})
    default_special_text = "parse"
    want_fast = True

    def __init__(self, spec: SideSpec, *, cache_dir: str | None = None, strict: bool = True) -> None:
        super().__init__(spec)
        #: load-check's fresh loads: their own HF cache, and whatever AutoTokenizer hands back is kept
        #: (not refused) so the check can report it
        self._cache_dir = cache_dir
        self._strict = strict
        hub_id = is_hub_id(spec.path)
        #: the commit of a Hub id this side loaded: pinned from the cache before loading when offline
        self.pinned: Pinned | None = pin(str(spec.path), spec.revision) if hub_id and offline() else None
        self.tf = import_transformers()
        self.tok = self._load()
        self._direct_checked: set[tuple[bool, bool]] = set()
        if hub_id and self.pinned is None:  # online: transformers fetched it; record what the cache now holds
            self.pinned = find(str(spec.path), spec.revision)
        # Read now: transformers resets the backend's truncation/padding on every encode call.
        self._limits = self._read_limits()

    @classmethod
    def from_loaded(cls, spec: SideSpec, tok: Any) -> HFTokenizer:
        """Wrap a transformers tokenizer something else loaded (the one vLLM resolved), to read its vocabulary."""
        self = cls.__new__(cls)
        Tokenizer.__init__(self, spec)
        self._cache_dir, self._strict = None, False
        self.pinned = None  # the loader that made `tok` resolved its files
        self.tf = import_transformers()
        self.tok = tok
        self._limits = self._read_limits()
        return self

    def _from_pretrained(self, cls: Any, use_fast: bool) -> Any:
        kwargs: dict[str, Any] = {"trust_remote_code": self.spec.trust_remote_code}
        # A pinned Hub id loads its snapshot folder: exactly that commit's files, whatever `main` is now.
        target = str(self.pinned.folder) if self.pinned else self.spec.path
        if self.spec.revision and not self.pinned:
            kwargs["revision"] = self.spec.revision
        if cls is self.tf.AutoTokenizer:
            kwargs["use_fast"] = use_fast
        if self._cache_dir is not None:
            kwargs["cache_dir"] = self._cache_dir
        folder = Path(self.spec.path) if self.spec.path else None
        if folder is not None and folder.is_dir() and not any((folder / f).is_file() for f in TOKENIZER_FILES):
            raise SourceError(
                f"cannot load {self.spec.path}: no tokenizer files in the folder "
                f"(looked for {', '.join(TOKENIZER_FILES)})"
            )
        try:
            return cls.from_pretrained(target, **kwargs)
        except Exception as exc:
            raise SourceError(
                f"cannot load {self.spec.path} with transformers {self.tf.__version__} "
                f"{getattr(cls, '__name__', cls)}: {_one_line(exc)}"
            ) from exc

    def _load(self) -> Any:
        tok = self._from_pretrained(self.tf.AutoTokenizer, use_fast=True)
        if not self._strict:
            return tok
        if type(tok).__name__.startswith("MistralCommon"):
            raise SourceError(
                f"{self.spec.path}: AutoTokenizer resolved {type(tok).__name__}, mistral-common's tokenizer "
                "(mistral-common is installed and this is a Mistral checkpoint with tekken.json); audit it with "
                "`source: mistral-common` (or `hf-slow`)"
            )
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
        ids = self._direct(texts, kwargs)
        if ids is None:
            ids = self.tok(texts, **kwargs)["input_ids"]
        if explicit and not bare:
            ids = self.wrap_all([list(x) for x in ids], bool(self.spec.add_bos), bool(self.spec.add_eos))
        return ids

    def _direct(self, texts: list[str], kwargs: dict[str, Any]) -> list[list[int]] | None:
        """What `tok(texts, **kwargs)["input_ids"]` returns, from the backend's own batch call: the same
        Rust call transformers makes, without its per-sample conversion to Python (half of its cost).
        None where that is not known to be the same: a class that overrides the call path, or a first
        batch on which the two disagreed (each call's settings are checked once against transformers)."""
        if not self._direct_ok:
            return None
        backend = self.tok.backend_tokenizer
        split = kwargs.get("split_special_tokens", self.tok.split_special_tokens)
        # what transformers sets before every call: no truncation, no padding, special-text splitting
        if backend.truncation is not None:
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        if backend.encode_special_tokens != split:
            backend.encode_special_tokens = split
        ids = [e.ids for e in backend.encode_batch(texts, add_special_tokens=kwargs["add_special_tokens"])]
        settings = (kwargs["add_special_tokens"], split)
        if settings not in self._direct_checked:
            self._direct_checked.add(settings)
            probe = texts[:CHECKED]
            if ids[:CHECKED] != [list(x) for x in self.tok(probe, **kwargs)["input_ids"]]:
                self._direct_ok = False
                return None
        return ids

    @cached_property
    def _direct_ok(self) -> bool:
        # only the base classes' call path, which ends in backend.encode_batch (transformers 4.x and 5.x)
        if not getattr(self.tok, "is_fast", False) or getattr(self.tok, "backend_tokenizer", None) is None:
            return False
        cls = type(self.tok)
        # _switch_to_input_mode: e.g. a translation model's source language, set on every call
        names: tuple[str, ...] = ("__call__", "_call_one", "encode_plus", "batch_encode_plus", "_encode_plus")
        names += ("_batch_encode_plus", "_switch_to_input_mode")
        return all(getattr(getattr(cls, n, None), "__module__", BASE_MODULES[0]) in BASE_MODULES for n in names)

    def encode_offsets(self, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]] | None:
        if not getattr(self.tok, "is_fast", False):
            return None
        enc = self.tok(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        return list(enc["input_ids"]), [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        if self.spec.add_bos is not None or self.spec.add_eos is not None:
            return bool(self.spec.add_bos), bool(self.spec.add_eos)
        if self.spec.add_special_tokens is False:
            return False, False
        # What the post-processor adds to a single sequence.
        probe = self.tok("a", add_special_tokens=True)["input_ids"]
        bare = self.tok("a", add_special_tokens=False)["input_ids"]
        return probe[:1] != bare[:1], probe[-1:] != bare[-1:]

    def chat_templates(self) -> dict[str, str]:
        template = getattr(self.tok, "chat_template", None)
        if isinstance(template, dict):
            return {str(k): str(v) for k, v in template.items()}
        return {"default": template} if isinstance(template, str) and template else {}

    def template_vars(self) -> dict[str, Any]:
        # What apply_chat_template passes to the template, in both transformers 4.x and 5.x.
        return dict(self.tok.special_tokens_map)

    # -- capabilities (tokaudit.sources.capabilities) ----------------------------------------------
    def assistant_mask(self, messages: Messages, chat_template: str) -> tuple[list[int], list[bool]]:
        try:
            out = self.tok.apply_chat_template(
                messages,
                chat_template=chat_template,
                tokenize=True,
                return_dict=True,
                return_assistant_tokens_mask=True,
            )
        except Exception as exc:  # the template's refusal, raised by transformers
            raise Refused(f"{type(exc).__name__}: {exc}") from exc
        return [int(i) for i in out["input_ids"]], [bool(m) for m in out["assistant_masks"]]

    def reload(self, texts: list[str], threads: int, processes: int) -> list[LoadRecord]:
        from tokaudit.sources.hf_reload import reload_all

        spec = self.spec
        if self.pinned is not None:  # each fresh load copies the snapshot this side loaded
            spec = spec.model_copy(update={"path": str(self.pinned.folder), "revision": None})
        return reload_all(spec, texts, threads, processes, asked_fast=self.want_fast)

    def pipeline(self) -> Assembly:
        return self._pipeline

    @cached_property
    def _pipeline(self) -> Assembly:
        from tokaudit.sources.assembly import from_backend

        backend = getattr(self.tok, "backend_tokenizer", None)
        origin = f"{type(self.tok).__name__}.backend_tokenizer (transformers {self.tf.__version__})"
        if backend is None:
            raise NoPipeline(f"{origin}: the loaded class has no tokenizers backend")
        # transformers turns the backend's truncation and padding off on every call (see _read_limits)
        return from_backend(self, backend, origin, resets_limits=True)

    def resolution(self) -> Resolution:
        cls = type(self.tok).__name__
        fast = bool(getattr(self.tok, "is_fast", False))
        backend = "mistral-common" if cls.startswith("MistralCommon") else ("tokenizers (Rust)" if fast else "Python")
        legacy = getattr(self.tok, "legacy", None)
        return Resolution(
            library=self.library,
            version=str(self.tf.__version__),
            cls=cls,
            backend=backend,
            fast=fast,
            legacy=legacy if isinstance(legacy, bool) else None,
        )

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

    # -- vocab-check -----------------------------------------------------------------------------
    def vocab_reader(self) -> Tokenizer:
        # transformers' MistralCommonBackend is mistral-common underneath: read the vocabulary there.
        if type(self.tok).__name__.startswith("MistralCommon") and hasattr(self.tok, "tokenizer"):
            from tokaudit.sources.mistral import MistralCommonTokenizer

            return MistralCommonTokenizer.from_loaded(self.spec, self.tok.tokenizer)
        return self

    @property
    def _backend(self) -> Any:
        return getattr(self.tok, "backend_tokenizer", None)

    def vocab_bytes(self) -> list[bytes | None]:
        backend = self._backend
        vocab = backend.get_vocab(with_added_tokens=True) if backend is not None else self.tok.get_vocab()
        # Added tokens first: a role string that is not in the vocabulary maps to <unk>'s id.
        literal = {i: s for s, i in reversed(list(self._specials.items()))}
        return assemble_vocab(vocab, literal, self.scheme)

    def added_tokens(self) -> dict[str, AddedEntry]:
        out = {}
        for i, t in self.tok.added_tokens_decoder.items():
            flags = tuple((f, bool(getattr(t, f, False))) for f in ADDED_FLAGS)
            out[str(t)] = AddedEntry(int(i), bool(getattr(t, "special", False)), flags)
        return out

    def roles(self) -> dict[str, RoleToken | None]:
        out: dict[str, RoleToken | None] = {}
        for role in ROLES:
            value = getattr(self.tok, f"{role}_token", None)
            if value is None:
                out[role] = None
                continue
            tid = self.tok.convert_tokens_to_ids(str(value))
            out[role] = (str(value), tid if isinstance(tid, int) else None)
        return out

    def decode_each(self, ids: list[int]) -> list[str]:
        singles = [[i] for i in ids]
        backend = self._backend
        if backend is not None and not self.tok.clean_up_tokenization_spaces:
            # What transformers' decode does when there is no clean-up, without its per-call overhead.
            return list(backend.decode_batch(singles, skip_special_tokens=False))
        return list(self.tok.batch_decode(singles, skip_special_tokens=False))

    def decode_all(self, batch: list[list[int]], skip_special_tokens: bool) -> list[str]:
        backend = self._backend
        if backend is not None and not self.tok.clean_up_tokenization_spaces:
            # what transformers' decode does when there is no clean-up, without its per-call overhead
            return list(backend.decode_batch(batch, skip_special_tokens=skip_special_tokens))
        return list(self.tok.batch_decode(batch, skip_special_tokens=skip_special_tokens))

    def split_patterns(self) -> list[tuple[str, str]]:
        backend = self._backend
        if backend is None or backend.pre_tokenizer is None:
            return []
        node = json.loads(backend.pre_tokenizer.__getstate__())
        return [(p, "tokenizers") for p in split_regexes(node)]

    def _read_limits(self) -> FileLimits | None:
        backend = self._backend
        if backend is None:
            return None
        folder = self.files_dir()
        where = str(folder / "tokenizer.json") if folder else f"{self.spec.path}: tokenizer.json"
        max_len = getattr(self.tok, "model_max_length", None)
        return FileLimits.of(where, backend.truncation, backend.padding, max_len)

    def file_limits(self) -> FileLimits | None:
        return self._limits

    def files_dir(self) -> Path | None:
        if self.pinned is not None:
            return self.pinned.folder
        path = Path(self.spec.path) if self.spec.path else None
        return path if path is not None and path.is_dir() else None

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.pinned is not None:  # what the header and the lock record: the commit really loaded
            out["revision"] = self.pinned.revision
            out["commit"] = self.pinned.commit
        return out


class HFSlowTokenizer(HFTokenizer):
    """The Python / SentencePiece backend, where the installed transformers still has one."""

    source = "hf-slow"
    want_fast = False
    #: the Python backend runs no tokenizers pipeline (None: not capabilities.Pipeline)
    pipeline = None  # type: ignore[assignment]

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
