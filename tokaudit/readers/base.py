"""What the readers yield (Record, Sample), how a path picks its format, and one-line error text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError


@dataclass(frozen=True)
class Sample:
    """A text to encode and where it came from (file:line, file:row or builtin:<case>); for a
    tokenized dataset, also the token ids stored with it."""

    text: str
    where: str
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Record:
    """One row of a dataset as a dict, and where it came from (file:line or file:row)."""

    where: str
    value: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """A byte range of an uncompressed line file that starts and ends at a line boundary, and the
    1-based number of its first line: a shard one worker reads on its own."""

    start: int
    end: int
    first_line: int


class Format(str, Enum):
    """How a path is read; chosen by its name (and, for a folder, by what it holds)."""

    TEXT = "text"
    JSONL = "jsonl"
    PARQUET = "parquet"
    ARROW = "arrow"  # a Hugging Face `datasets` save_to_disk folder


class Compression(str, Enum):
    """The stream a line-oriented file is wrapped in."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


_COMPRESSION = {".gz": Compression.GZIP, ".zst": Compression.ZSTD, ".zstd": Compression.ZSTD}
_JSONL = (".jsonl", ".ndjson")


def detect(path: Path) -> tuple[Format, Compression]:
    """The format of `path` by its name: .jsonl/.ndjson (optionally .gz/.zst), .parquet, a folder
    (a `datasets` save_to_disk folder), and anything else one text sample per line, as ever."""
    if path.is_dir():
        return Format.ARROW, Compression.NONE
    suffixes = [s.lower() for s in path.suffixes]
    compression = Compression.NONE
    if suffixes and suffixes[-1] in _COMPRESSION:
        compression = _COMPRESSION[suffixes.pop()]
    last = suffixes[-1] if suffixes else ""
    if last in _JSONL:
        return Format.JSONL, compression
    if last == ".parquet" and compression is Compression.NONE:
        return Format.PARQUET, compression
    return Format.TEXT, compression


def label(path: Path) -> str:
    """How a message names the kind of file: `.jsonl`, `.jsonl.gz`, `.parquet`, `datasets folder`."""
    fmt, compression = detect(path)
    if fmt is Format.ARROW:
        return "datasets folder"
    base = ".jsonl" if fmt is Format.JSONL else ".parquet" if fmt is Format.PARQUET else ".txt"
    return base + {Compression.NONE: "", Compression.GZIP: ".gz", Compression.ZSTD: ".zst"}[compression]


def one_line(exc: BaseException, limit: int = 160) -> str:
    """A third-party exception as at most one short line."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_readable(path: Path, key: str) -> None:
    """Raise today's `cannot read` InputError when `path` cannot be opened as a file."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"{key}: cannot read {path}: {exc.strerror or one_line(exc)}") from exc


def display_name(path: Path) -> str:
    """The name `where` strings start with (a folder given as `.` still has one)."""
    return path.name or path.resolve().name
