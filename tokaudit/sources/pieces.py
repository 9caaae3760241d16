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
