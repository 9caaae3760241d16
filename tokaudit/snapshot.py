"""Lock files: each side's token ids for every sample, with the versions that produced them.

The lock is meant to be committed and reviewed: one line per sample (where it is, a hash of its
text, a hash of each side's ids) and, at the end, each side's ids compressed in one base64 line so a
later run can show exactly how tokens moved.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from tokaudit import __version__
from tokaudit.errors import InputError

LOCK_FORMAT = 1
PACKAGES = ("transformers", "tokenizers", "sentencepiece", "tiktoken", "mistral_common", "jinja2")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ids_hash(ids: list[int] | str) -> str:
    if isinstance(ids, str):
        return "error:" + hashlib.sha256(ids.encode("utf-8")).hexdigest()[:10]
    return hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()[:16]


def pack_ids(rows: list[list[int] | str]) -> str:
    """Lengths then ids, little-endian uint32, zlib, base64 (an error row has length 0xFFFFFFFF)."""
    lengths = [0xFFFFFFFF if isinstance(r, str) else len(r) for r in rows]
    flat = [i for r in rows if not isinstance(r, str) for i in r]
    raw = struct.pack(f"<I{len(lengths)}I{len(flat)}I", len(lengths), *lengths, *flat)
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def unpack_ids(blob: str) -> list[list[int] | None]:
    raw = zlib.decompress(base64.b64decode(blob))
    (n,) = struct.unpack_from("<I", raw)
    lengths = struct.unpack_from(f"<{n}I", raw, 4)
    flat = struct.unpack_from(f"<{(len(raw) - 4 - 4 * n) // 4}I", raw, 4 + 4 * n)
    rows: list[list[int] | None] = []
    pos = 0
    for length in lengths:
        if length == 0xFFFFFFFF:
            rows.append(None)
            continue
        rows.append(list(flat[pos : pos + length]))
        pos += length
    return rows


@dataclass
class Lock:
    """A parsed lock file."""

    path: Path
    data: dict[str, Any]

    @property
    def samples(self) -> list[dict[str, Any]]:
        return list(self.data["samples"])

    def side(self, name: str) -> dict[str, Any]:
        return dict(self.data["sides"][name])

    def ids(self, name: str) -> list[list[int] | None]:
        return unpack_ids(self.data["ids"][name])


def build_lock(header: dict[str, Any], rows: list[tuple[str, str, dict[str, list[int] | str]]]) -> dict[str, Any]:
    """rows: (where, text, {side: ids or error message})."""
    sides = list(header["sides"])
    return {
        "tokaudit_lock": LOCK_FORMAT,
        "tokaudit": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": header.get("model"),
        "environment": {"python": platform.python_version(), "packages": package_versions()},
        "sides": header["sides"],
        "samples": [
            {"where": where, "text": text_hash(text), **{s: ids_hash(enc[s]) for s in sides}}
            for where, text, enc in rows
        ],
        "ids": {s: pack_ids([enc[s] for _, _, enc in rows]) for s in sides},
    }


def dump_lock(lock: dict[str, Any]) -> str:
    """JSON with one sample per line, so a lock diff in review shows which samples moved."""
    head = {k: v for k, v in lock.items() if k not in ("samples", "ids")}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)},")
    lines.append('  "samples": [')
    samples = [json.dumps(s, ensure_ascii=False) for s in lock["samples"]]
    lines += [f"    {s}," for s in samples[:-1]] + ([f"    {samples[-1]}"] if samples else [])
    lines.append("  ],")
    lines.append(f'  "ids": {json.dumps(lock["ids"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def read_lock(path: Path) -> Lock:
    """Read and validate a lock; anything wrong is one InputError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such lock file (write one with `tokaudit snapshot`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read lock file: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: lock file is truncated or not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or "tokaudit_lock" not in data:
        raise InputError(f"{path}: not a tokaudit lock file (no `tokaudit_lock` key)")
    if data["tokaudit_lock"] != LOCK_FORMAT:
        raise InputError(
            f"{path}: lock format {data['tokaudit_lock']!r} was written by tokaudit {data.get('tokaudit', '?')}; "
            f"this tokaudit ({__version__}) reads format {LOCK_FORMAT}: take a new snapshot"
        )
    try:
        lock = Lock(path, data)
        for name in data["sides"]:
            rows = lock.ids(name)
            if len(rows) != len(data["samples"]):
                raise ValueError(f"{name} ids hold {len(rows)} rows for {len(data['samples'])} samples")
    except (KeyError, TypeError, ValueError, zlib.error, struct.error) as exc:
        raise InputError(f"{path}: lock file is damaged ({exc})") from None
    return lock
