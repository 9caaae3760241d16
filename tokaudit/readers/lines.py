"""Line-oriented files (.txt, .jsonl), plain, gzip or zstd, read in fixed-size chunks.

Nothing holds more than one chunk and one line. A compressed stream is checked as it is read, so
corruption anywhere in the file (a bad block, a failed checksum, a truncated end) raises an
InputError when it is reached, naming the file and the last good line.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers.base import Compression, Record, Sample, Span, display_name, one_line
from tokaudit.readers.zstd import ZstdCorrupt, zstd_chunks

CHUNK = 1 << 16


class _Corrupt(Exception):
    """A compressed stream that cannot be decoded; the line reader adds where it happened."""


def lines(path: Path, compression: Compression, key: str, span: Span | None = None) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without its \\n) for every line, blank ones included; with a
    `span`, only the lines of that byte range of an uncompressed file."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{key}: cannot read {path}: {exc.strerror or one_line(exc)}") from exc
    first = span.first_line if span else 1
    n = first - 1
    with raw:
        try:
            chunks = _range_chunks(raw, span) if span else _chunks(raw, compression)
            for n, line in enumerate(_split(chunks), start=first):
                yield n, line
        except (_Corrupt, ZstdCorrupt) as exc:
            at = f"after line {n}" if n else "at the start"
            raise InputError(f"{key}: {path}: corrupt {compression.value} data {at}: {exc}") from exc
        except OSError as exc:
            raise InputError(f"{key}: cannot read {path}: {exc.strerror or one_line(exc)}") from exc


def _chunks(raw: BinaryIO, compression: Compression) -> Iterator[bytes]:
    if compression is Compression.GZIP:
        yield from _gzip_chunks(raw)
    elif compression is Compression.ZSTD:
        yield from zstd_chunks(raw, CHUNK)
    else:
        while chunk := raw.read(CHUNK):
            yield chunk


def _range_chunks(raw: BinaryIO, span: Span) -> Iterator[bytes]:
    raw.seek(span.start)
    left = span.end - span.start
    while left > 0 and (chunk := raw.read(min(CHUNK, left))):
        left -= len(chunk)
        yield chunk


def _gzip_chunks(raw: BinaryIO) -> Iterator[bytes]:
    with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
        while True:
            try:
                chunk = gz.read(CHUNK)
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise _Corrupt(one_line(exc)) from exc
            if not chunk:
                return
            yield chunk


def _split(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending: list[bytes] = []
    for chunk in chunks:
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        parts = chunk.split(b"\n")
        if pending:
            pending.append(parts[0])
            parts[0] = b"".join(pending)
            pending = []
        last = parts.pop()
        yield from parts
        if last:
            pending = [last]
    if pending:
        yield b"".join(pending)


def text_samples(
    path: Path, compression: Compression, key: str, span: Span | None = None
) -> Iterator[Sample | Skipped]:
    """A sample per non-empty line (a trailing \\r dropped); invalid UTF-8 is Skipped."""
    name = display_name(path)
    for n, line in lines(path, compression, key, span):
        where = f"{name}:{n}"
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Skipped(where, f"invalid UTF-8 at byte {exc.start}")
            continue
        if text:
            yield Sample(text, where)


def jsonl_records(
    path: Path, compression: Compression, key: str, span: Span | None = None
) -> Iterator[Record | Skipped]:
    """A Record per JSON-object line; blank lines are ignored, anything else is Skipped."""
    name = display_name(path)
    for n, line in lines(path, compression, key, span):
        where = f"{name}:{n}"
        try:
            text = line.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield Skipped(where, f"invalid UTF-8 at byte {exc.start}")
            continue
        if not text.strip():
            continue
        value: Any
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Skipped(where, "not JSON this reader can parse: nested too deeply")
            continue
        if isinstance(value, dict):
            yield Record(where, value)
        else:
            yield Skipped(where, f"not a JSON object (a JSON {_json_kind(value)})")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"
