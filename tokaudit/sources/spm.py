"""`sentencepiece`: a .model file through the sentencepiece library, as raw training code uses it."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import AddedEntry, RoleToken, Tokenizer
from tokaudit.sources.capabilities import Assembly


class SentencePieceTokenizer(Tokenizer):
    """SentencePieceProcessor.encode: control strings like `<s>` in text stay literal text."""

    source = "sentencepiece"
    library = "sentencepiece"
    native_modes = frozenset({"literal"})
    default_special_text = "literal"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        self.sp = load_sentencepiece(spec.path or "")

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        add_bos, add_eos = (False, False) if bare else self.bos_eos_defaults()
        # the library adds BOS/EOS itself, as `wrap` would (the ids are not copied again)
        return self.sp.encode(  # type: ignore[no-any-return]
            texts, add_bos=add_bos and self.bos_id is not None, add_eos=add_eos and self.eos_id is not None
        )

    @cached_property
    def _specials(self) -> dict[str, int]:
        sp = self.sp
        return {
            sp.id_to_piece(i): i
            for i in range(sp.get_piece_size())
            if sp.is_control(i) or sp.is_unknown(i) or _is_user_defined(sp, i)
        }

    def specials(self) -> dict[str, int]:
        return self._specials

    def piece(self, token_id: int) -> str:
        return self.sp.id_to_piece(token_id) if 0 <= token_id < self.sp.get_piece_size() else ""

    def _surface(self, token_id: int) -> bytes | None:
        return sp_surface(self.sp, token_id)

    def normalize(self, text: str) -> str | None:
        return str(self.sp.normalize(text)) if hasattr(self.sp, "normalize") else None

    def is_fallback(self, token_id: int) -> bool:
        return bool(self.sp.is_unknown(token_id) or self.sp.is_byte(token_id))

    @property
    def bos_id(self) -> int | None:
        return self.sp.bos_id() if self.sp.bos_id() >= 0 else None

    @property
    def eos_id(self) -> int | None:
        return self.sp.eos_id() if self.sp.eos_id() >= 0 else None

    @property
    def pad_id(self) -> int | None:
        return self.sp.pad_id() if self.sp.pad_id() >= 0 else None

    def version(self) -> str:
        import sentencepiece

        return str(sentencepiece.__version__)

    def backend(self) -> str:
        return "SentencePieceProcessor"

    def vocab_bytes(self) -> list[bytes | None]:
        return sp_vocab_bytes(self.sp)

    def added_tokens(self) -> dict[str, AddedEntry]:
        return sp_added_tokens(self.sp)

    def roles(self) -> dict[str, RoleToken | None]:
        return sp_roles(self.sp)

    def decode_each(self, ids: list[int]) -> list[str]:
        return list(self.sp.decode([[i] for i in ids]))

    # -- capabilities (tokaudit.sources.capabilities) ----------------------------------------------
    def conversion(self) -> Assembly:
        return self._conversion

    @cached_property
    def _conversion(self) -> Assembly:
        from tokaudit.sources.conversions import sentencepiece_conversion

        return sentencepiece_conversion(self, Path(self.spec.path or ""))


def load_sentencepiece(path: str):  # type: ignore[no-untyped-def]
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor()
    try:
        sp.Load(path)
    except Exception as exc:
        msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise SourceError(f"{path}: not a readable SentencePiece model ({msg})") from exc
    return sp


def _is_user_defined(sp, i: int) -> bool:  # type: ignore[no-untyped-def]
    # user-defined pieces are matched as whole strings, like added tokens
    return bool(getattr(sp, "IsUserDefined", lambda _i: False)(i))


def sp_surface(sp, token_id: int) -> bytes | None:  # type: ignore[no-untyped-def]
    """The bytes a SentencePiece id stands for ("▁" is a space, <0xNN> a raw byte)."""
    if not 0 <= token_id < sp.get_piece_size():
        return None
    return _piece_bytes(sp, token_id, sp.id_to_piece(token_id))


def _piece_bytes(sp: Any, i: int, piece: str) -> bytes:
    if sp.is_byte(i):
        return bytes([int(piece[3:5], 16)])
    if sp.is_control(i) or sp.is_unknown(i):
        return piece.encode("utf-8")
    return piece.replace("▁", " ").encode("utf-8")


def sp_vocab_bytes(sp: Any) -> list[bytes | None]:
    """sp_surface for every id, with the pieces fetched in one call."""
    pieces = sp.id_to_piece(list(range(sp.get_piece_size())))
    return [_piece_bytes(sp, i, piece) for i, piece in enumerate(pieces)]


def sp_added_tokens(sp: Any) -> dict[str, AddedEntry]:
    """Control and unknown pieces are special; user-defined pieces are matched whole but not special."""
    out = {}
    for i in range(sp.get_piece_size()):
        if sp.is_control(i) or sp.is_unknown(i):
            out[sp.id_to_piece(i)] = AddedEntry(i, True)
        elif _is_user_defined(sp, i):
            out[sp.id_to_piece(i)] = AddedEntry(i, False)
    return out


def sp_roles(sp: Any) -> dict[str, RoleToken | None]:
    """The trainer spec's bos / eos / pad / unk ids (-1: the model has none)."""
    ids = {"bos": sp.bos_id(), "eos": sp.eos_id(), "pad": sp.pad_id(), "unk": sp.unk_id()}
    return {role: (sp.id_to_piece(i), i) if i >= 0 else None for role, i in ids.items()}
