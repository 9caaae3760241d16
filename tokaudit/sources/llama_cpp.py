"""`llama.cpp`: llama.cpp's own C++ tokenizer on a GGUF, as llama-server, Ollama and LM Studio run it.

Through llama-cpp-python's bindings of the C API, with the model loaded vocab-only (no weights, no
context). A prompt is tokenized the way llama-server tokenizes one: `add_special` on (llama.cpp then
adds BOS/EOS as the GGUF's metadata and its own rules say) and special text parsed.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cached_property
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.quiet import debugging, stderr_to_file
from tokaudit.sources.base import ROLES, AddedEntry, RoleToken, Tokenizer
from tokaudit.sources.capabilities import GgufFacts
from tokaudit.sources.gguf_file import read_gguf

LLAMA_CPP_EXTRA = "pip install 'tokaudit[llama-cpp]' (llama-cpp-python builds from source: several minutes)"

_library: Any = None
#: kept alive for the life of the process: llama.cpp calls it from C
_log_sink: Any = None


def _llama() -> Any:
    """llama_cpp, imported once per process, with its log lines silenced unless --debug."""
    global _library, _log_sink
    if _library is None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise SourceError(f"the llama.cpp source needs llama-cpp-python: {LLAMA_CPP_EXTRA}", key="source") from exc
        if not debugging():
            _log_sink = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
            llama_cpp.llama_log_set(_log_sink, ctypes.c_void_p(0))
        with stderr_to_file(keep=debugging()):
            llama_cpp.llama_backend_init()
        _library = llama_cpp
    return _library


def _sized(room: int, make: Callable[[int], Any], call: Callable[[Any, int], int]) -> tuple[Any, int]:
    """llama.cpp's output-buffer convention: a negative result is the size it needs, so ask once more."""
    for _ in range(2):
        buf = make(room)
        n = call(buf, room)
        if n >= 0:
            return buf, n
        room = -n
    raise RuntimeError(f"llama.cpp asked for a {room}-entry buffer twice")


class LlamaCppTokenizer(Tokenizer):
    """llama_tokenize on the GGUF's vocabulary; pieces and bytes from llama.cpp itself."""

    source = "llama.cpp"
    library = "llama-cpp-python"  # the bindings' version is what pins the llama.cpp inside them
    native_modes = frozenset({"parse", "literal"})
    default_special_text = "parse"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        self._lib = _llama()
        path = spec.path or ""
        self.path = path
        self._check_magic(path)
        params = self._lib.llama_model_default_params()
        params.vocab_only = True
        with stderr_to_file(keep=debugging()):
            self._model = self._lib.llama_model_load_from_file(path.encode(), params)
        if not self._model:
            raise SourceError(
                f"{path}: llama.cpp refused to load this GGUF's vocabulary (a truncated or corrupt file, or a "
                "tokenizer this llama.cpp does not know; --debug shows llama.cpp's log)",
                key="path",
            )
        self._vocab = self._lib.llama_model_get_vocab(self._model)
        self.n_tokens = int(self._lib.llama_vocab_n_tokens(self._vocab))
        self._check_byte_fallback(path)
        self._add_bos = bool(self._lib.llama_vocab_get_add_bos(self._vocab))
        self._add_eos = bool(self._lib.llama_vocab_get_add_eos(self._vocab))

    @staticmethod
    def _check_magic(path: str) -> None:
        # llama.cpp's loader answers a wrong file with a log line and NULL; name the file ourselves.
        try:
            with open(path, "rb") as fh:
                magic = fh.read(4)
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror})", key="path") from exc
        if magic != b"GGUF":
            raise SourceError(f"{path}: not a GGUF file (it does not start with the GGUF magic bytes)", key="path")

    def _check_byte_fallback(self, path: str) -> None:
        # llama.cpp's SentencePiece tokenizer spells a character it has no piece for as byte tokens, looked
        # up with unordered_map::at: a byte with neither `<0xXX>` nor itself in the vocabulary throws
        # std::out_of_range through the C API, which aborts the whole process. Refuse such a file up front.
        if self._lib.llama_vocab_type(self._vocab) != self._lib.LLAMA_VOCAB_TYPE_SPM:
            return
        texts = {bytes(self._lib.llama_vocab_get_text(self._vocab, i) or b"") for i in range(self.n_tokens)}
        missing = [b for b in range(256) if f"<0x{b:02X}>".encode() not in texts and bytes([b]) not in texts]
        if missing:
            raise SourceError(
                f"{path}: llama.cpp aborts the process on text outside this SentencePiece vocabulary: it lacks "
                f"the byte tokens it falls back on for {len(missing)} of 256 bytes (first: <0x{missing[0]:02X}>)",
                key="path",
            )

    # -- encoding ------------------------------------------------------------------------------
    def _tokenize(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        data = text.encode("utf-8")
        buf, n = _sized(
            len(data) + 8,
            lambda room: (self._lib.llama_token * room)(),
            lambda buf, room: self._lib.llama_tokenize(
                self._vocab, data, len(data), buf, room, add_special, parse_special
            ),
        )
        return list(buf[:n])

    def _wanted(self) -> tuple[bool, bool]:
        bos = self._add_bos if self.spec.add_bos is None else self.spec.add_bos
        eos = self._add_eos if self.spec.add_eos is None else self.spec.add_eos
        return bos, eos

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        parse = mode == "parse"
        bos, eos = self._wanted()
        if bare or (bos, eos) == (False, False):
            return [self._tokenize(t, False, parse) for t in texts]
        if (bos, eos) == (self._add_bos, self._add_eos):
            return [self._tokenize(t, True, parse) for t in texts]  # llama.cpp adds them itself, as llama-server
        return self.wrap_all([self._tokenize(t, False, parse) for t in texts], bos, eos)

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        return self._wanted()

    def encode_rendered(self, text: str, add_special: bool) -> list[int]:
        # llama-server tokenizes a rendered chat prompt with add_special and parse_special on
        parse = self.special_text != "literal"
        if add_special:
            return self.encode_batch([text], "parse" if parse else "literal")[0]
        return self._tokenize(text, False, parse)

    # -- vocabulary ----------------------------------------------------------------------------
    def _attr(self, token_id: int) -> int:
        return int(self._lib.llama_vocab_get_attr(self._vocab, token_id))

    @cached_property
    def _specials(self) -> dict[str, int]:
        # the tokens llama.cpp's special-text parser splits out of a text (tokenizer_st_partition)
        lib = self._lib
        wanted = lib.LLAMA_TOKEN_ATTR_CONTROL | lib.LLAMA_TOKEN_ATTR_USER_DEFINED | lib.LLAMA_TOKEN_ATTR_UNKNOWN
        return {self.piece(i): i for i in range(self.n_tokens) if self._attr(i) & wanted}

    def specials(self) -> dict[str, int]:
        return self._specials

    def piece(self, token_id: int) -> str:
        if not 0 <= token_id < self.n_tokens:
            return ""
        text = self._lib.llama_vocab_get_text(self._vocab, token_id)
        return text.decode("utf-8", errors="replace") if text else ""

    def _surface(self, token_id: int) -> bytes | None:
        # an unused slot has no text in llama.cpp (it never produces or prints it): a hole, like a missing id
        if not 0 <= token_id < self.n_tokens or self._attr(token_id) & self._lib.LLAMA_TOKEN_ATTR_UNUSED:
            return None
        buf, n = _sized(
            256,
            ctypes.create_string_buffer,
            lambda buf, room: self._lib.llama_token_to_piece(self._vocab, token_id, buf, room, 0, True),
        )
        return bytes(buf.raw[:n])

    def is_fallback(self, token_id: int) -> bool:
        return bool(self._attr(token_id) & (self._lib.LLAMA_TOKEN_ATTR_BYTE | self._lib.LLAMA_TOKEN_ATTR_UNKNOWN))

    def _id(self, fn: str) -> int | None:
        tid = int(getattr(self._lib, fn)(self._vocab))
        return tid if 0 <= tid < self.n_tokens else None  # llama.cpp says -1 for "none"

    @property
    def bos_id(self) -> int | None:
        return self._id("llama_vocab_bos")

    @property
    def eos_id(self) -> int | None:
        return self._id("llama_vocab_eos")

    @property
    def pad_id(self) -> int | None:
        return self._id("llama_vocab_pad")

    def vocab_bytes(self) -> list[bytes | None]:
        return [self.surface(i) for i in range(self.n_tokens)]

    def added_tokens(self) -> dict[str, AddedEntry]:
        control = self._lib.LLAMA_TOKEN_ATTR_CONTROL
        return {s: AddedEntry(i, bool(self._attr(i) & control)) for s, i in self._specials.items()}

    def roles(self) -> dict[str, RoleToken | None]:
        out: dict[str, RoleToken | None] = {}
        ids = {"bos": self.bos_id, "eos": self.eos_id, "pad": self.pad_id, "unk": None}
        for role in ROLES:
            tid = ids[role]
            out[role] = (self.piece(tid), tid) if tid is not None else None
        del out["unk"]  # llama.cpp's API has no unknown-token getter: unknown, not "none"
        return out

    def decode_each(self, ids: list[int]) -> list[str]:
        return [self._detokenize([i]) for i in ids]

    def _detokenize(self, ids: list[int]) -> str:
        # llama_detokenize as llama-server turns ids into text (it drops SentencePiece's prefix space)
        tokens = (self._lib.llama_token * len(ids))(*ids)
        buf, n = _sized(
            64 + 16 * len(ids),
            ctypes.create_string_buffer,
            lambda buf, room: self._lib.llama_detokenize(self._vocab, tokens, len(ids), buf, room, False, True),
        )
        return bytes(buf.raw[:n]).decode("utf-8", errors="replace")

    def chat_templates(self) -> dict[str, str]:
        template = self._lib.llama_model_chat_template(self._model, None)
        return {"default": template.decode("utf-8")} if template else {}

    def gguf_facts(self) -> GgufFacts:
        # read on demand: only vocab-check asks, and the gguf reader walks every token in Python
        return read_gguf(self.path).facts()

    def version(self) -> str:
        from importlib.metadata import version

        return version("llama-cpp-python")

    def backend(self) -> str:
        kinds = {1: "SPM", 2: "BPE", 3: "WPM", 4: "UGM", 5: "RWKV", 6: "PLaMo-2"}
        return f"llama.cpp vocab ({kinds.get(int(self._lib.llama_vocab_type(self._vocab)), '?')})"
