"""Lock files: each side's token ids for every sample, with the versions that produced them.

The lock is meant to be committed and reviewed: one line per sample (where it is, a hash of its
text, a hash of each side's ids) and, at the end, each side's ids compressed in one base64 line so a
later run can show exactly how tokens moved.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import lzma
import platform
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.version import __version__

LOCK_FORMAT = 1
PACKAGES = (
    "transformers",
    "tokenizers",
    "sentencepiece",
    "tiktoken",
    "mistral_common",
    "jinja2",
    "llama_cpp_python",
    "gguf",
)


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def ids_hash(ids: list[int] | str) -> str:
    if isinstance(ids, str):
        return "error:" + hashlib.sha256(ids.encode("utf-8")).hexdigest()[:8]
    return hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()[:12]


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def pack_ids(rows: list[list[int] | str], ref: list[list[int] | str] | None = None) -> str:
    """Each row as LEB128 varints, xz-compressed, base64.

    A row starts with a tag: 0 = the side refused the sample, 1 = same ids as the reference side's
    row (most samples, when both sides agree), 2 + n = n ids follow.
    """
    out = bytearray()
    for i, row in enumerate(rows):
        if isinstance(row, str):
            _varint(0, out)
        elif ref is not None and ref[i] == row:
            _varint(1, out)
        else:
            _varint(2 + len(row), out)
            for tid in row:
                _varint(tid, out)
    return base64.b64encode(lzma.compress(bytes(out), preset=9)).decode("ascii")


def unpack_ids(blob: str, ref: list[list[int] | None] | None = None) -> list[list[int] | None]:
    raw = lzma.decompress(base64.b64decode(blob, validate=True))
    values: list[int] = []
    n = shift = 0
    for byte in raw:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        values.append(n)
        n = shift = 0
    rows: list[list[int] | None] = []
    pos = 0
    while pos < len(values):
        tag = values[pos]
        pos += 1
        if tag == 0:
            rows.append(None)
        elif tag == 1:
            if ref is None:
                raise ValueError("a row refers to a reference side the lock does not name")
            rows.append(ref[len(rows)])
        else:
            rows.append(list(values[pos : pos + tag - 2]))
            pos += tag - 2
    return rows


@dataclass
class Lock:
    """A parsed lock file."""

    path: Path
    data: dict[str, Any]
    _ids: dict[str, list[list[int] | None]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.data["columns"])

    @property
    def samples(self) -> list[dict[str, Any]]:
        """Sample rows as dicts keyed by `columns` (where, text, and one hash per side)."""
        return [dict(zip(self.columns, row)) for row in self.data["samples"]]

    def side(self, name: str) -> dict[str, Any]:
        return dict(self.data["sides"][name])

    def ids(self, name: str) -> list[list[int] | None]:
        if name not in self._ids:
            ref_name = self.data.get("ids_ref", {}).get(name)
            ref = self.ids(ref_name) if ref_name else None
            self._ids[name] = unpack_ids(self.data["ids"][name], ref)
        return self._ids[name]


def build_lock(header: dict[str, Any], rows: list[tuple[str, str, dict[str, list[int] | str]]]) -> dict[str, Any]:
    """rows: (where, text, {side: ids or error message})."""
    sides = list(header["sides"])
    first = sides[0]
    first_rows = [enc[first] for _, _, enc in rows]
    return {
        "tokaudit_lock": LOCK_FORMAT,
        "tokaudit": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": header.get("model"),
        "environment": {"python": platform.python_version(), "packages": package_versions()},
        "sides": header["sides"],
        "columns": ["where", "text", *sides],
        "samples": [[where, text_hash(text), *(ids_hash(enc[s]) for s in sides)] for where, text, enc in rows],
        "ids_ref": {s: first for s in sides[1:]},
        "ids": {s: pack_ids([enc[s] for _, _, enc in rows], None if s == first else first_rows) for s in sides},
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
    except json.JSONDecodeError as exc:
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
    except (KeyError, TypeError, ValueError, lzma.LZMAError, binascii.Error) as exc:
        raise InputError(f"{path}: lock file is damaged ({exc})") from None
    return lock
