"""Turn a vocabulary piece back into the bytes it stands for, whatever the library's spelling.

SentencePiece writes a space as "▁" and raw bytes as "<0x0A>"; byte-level BPE (GPT-2, tiktoken
conversions) maps every byte to a printable character ("Ġ" is a space); WordPiece marks a
word-internal piece with "##". Comparing two tokenizers byte for byte needs all of them reduced
to plain bytes.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def piece_bytes(piece: str, scheme: str) -> bytes:
    """The bytes `piece` stands for under `scheme` (bytelevel | metaspace | wordpiece | raw)."""
    m = BYTE_PIECE.match(piece)
    if m and scheme != "bytelevel":
        return bytes([int(m.group(1), 16)])
    if scheme == "bytelevel":
        table = byte_decoder()
        if all(ch in table for ch in piece):
            return bytes(table[ch] for ch in piece)
        return piece.encode("utf-8")
    if scheme == "metaspace":
        return piece.replace("▁", " ").encode("utf-8")
    if scheme == "wordpiece":
        return (piece[2:] if piece.startswith("##") else piece).encode("utf-8")
    return piece.encode("utf-8")


def _types(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    found = [str(node.get("type"))]
    for key in ("decoders", "pretokenizers"):
        for child in node.get(key) or []:
            found += _types(child)
    if node.get("type") == "Replace" and node.get("pattern", {}).get("String") == "▁":
        found.append("Metaspace")
    return found


def scheme_of(tokenizer_json: str | dict[str, Any]) -> str:
    """Guess how a tokenizer.json spells bytes, from its decoder and pre-tokenizer."""
    data = json.loads(tokenizer_json) if isinstance(tokenizer_json, str) else tokenizer_json
    kinds = _types(data.get("decoder")) + _types(data.get("pre_tokenizer"))
    if "ByteLevel" in kinds:
        return "bytelevel"
    if "Metaspace" in kinds:
        return "metaspace"
    if "WordPiece" in kinds or (data.get("model") or {}).get("type") == "WordPiece":
        return "wordpiece"
    return "raw"


def scheme_of_vocab(pieces: list[str]) -> str:
    """Guess the scheme from the pieces alone (for Python-backend tokenizers with no tokenizer.json)."""
    sample = pieces[:5000]
    if sum(p.startswith("▁") for p in sample) > len(sample) // 20:
        return "metaspace"
    if sum(p.startswith("Ġ") for p in sample) > len(sample) // 20:
        return "bytelevel"
    if any(p.startswith("##") for p in sample):
        return "wordpiece"
    return "raw"


@lru_cache(maxsize=1)
def _bytelevel_table() -> dict[int, int | str]:
    # Each byte-level character to the latin-1 character of its byte; every other character below
    # U+0100 to U+FFFF so that encode("latin-1") fails and the piece falls back to piece_bytes.
    table: dict[int, int | str] = {ord(ch): b for ch, b in byte_decoder().items()}
    for c in range(256):
        table.setdefault(c, "\uffff")
    return table


def pieces_bytes(pieces: list[str], scheme: str) -> list[bytes]:
    """piece_bytes over a whole vocabulary, with the common cases done by C-level str methods."""
    if scheme == "bytelevel":
        table = _bytelevel_table()
        out = []
        for piece in pieces:
            try:
                out.append(piece.translate(table).encode("latin-1"))
            except UnicodeEncodeError:
                out.append(piece_bytes(piece, scheme))
        return out
    if scheme == "metaspace":
        return [piece_bytes(p, scheme) if p.startswith("<0x") else p.replace("▁", " ").encode("utf-8") for p in pieces]
    return [piece_bytes(p, scheme) for p in pieces]


def assemble_vocab(vocab: dict[str, int], literal: dict[int, str], scheme: str) -> list[bytes | None]:
    """id -> bytes for a piece -> id map; ids in `literal` (added tokens) stand for their own text."""
    size = max(max(vocab.values(), default=-1), max(literal, default=-1)) + 1
    out: list[bytes | None] = [None] * size
    plain = [(p, i) for p, i in vocab.items() if i not in literal]
    for (_, i), raw in zip(plain, pieces_bytes([p for p, _ in plain], scheme)):
        out[i] = raw
    for i, content in literal.items():
        out[i] = content.encode("utf-8")
    return out


def split_regexes(node: Any) -> list[str]:
    """Every Split pre-tokenizer's regex in a tokenizer.json pre_tokenizer node."""
    if not isinstance(node, dict):
        return []
    found = []
    if node.get("type") == "Split" and isinstance(node.get("pattern"), dict) and "Regex" in node["pattern"]:
        found.append(str(node["pattern"]["Regex"]))
    for child in node.get("pretokenizers") or []:
        found += split_regexes(child)
    return found
