"""Streaming dataset readers with bounded memory: .txt, .jsonl/.ndjson (plain, .gz, .zst), .parquet,
and Hugging Face `datasets` save_to_disk folders.

The format comes from the path: a folder is a save_to_disk folder; `.jsonl`/`.ndjson`, optionally
followed by `.gz` or `.zst`, is one JSON object per line; `.parquet` is Parquet; anything else is
text, one sample per line (as the corpus reader has always done).

`where` strings are `<file name>:<n>`: for text and JSONL files n is the 1-based line number in
the (decompressed) file; for Parquet n is the 1-based row number in the file; for a save_to_disk
folder the name is the folder's and n the 1-based row number across its data files (`ds[n - 1]`).

Nothing is read at the call: bad arguments (a corpus without `field`, records from a text file)
raise InputError at once; a file that is missing, unreadable, corrupt or lacks a column raises
InputError (one line, naming the file and `key`) when iteration reaches the problem. Rows that
cannot be used are yielded as `Skipped` with their location; a file with no rows is not an error
here (the caller counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers.base import Compression, Format, Record, Sample, Span, detect, display_name, label
from tokaudit.readers.columnar import arrow_batches, column_values, parquet_batches, rows, schema_names
from tokaudit.readers.lines import jsonl_records, text_samples
from tokaudit.readers.sampling import sample_stream

__all__ = ["Record", "Sample", "Span", "columns", "line_spans", "records", "sample_stream", "texts"]


def records(path: Path, columns: list[str] | None, key: str, span: Span | None = None) -> Iterator[Record | Skipped]:
    """Every row of a JSONL file, Parquet file or save_to_disk folder as a dict.

    `columns` are the columns to read from Parquet and Arrow (None: all; a missing one is an
    InputError that lists the columns there are). A JSONL line is yielded as its whole object; a
    line that is not JSON, or not an object, is Skipped. `key` prefixes every error
    (`configs/x.yaml: corpus[0]`)."""
    path = Path(path)
    fmt, compression = detect(path)
    if fmt is Format.TEXT:
        raise InputError(
            f"{key}: {path} is read as text (a sample per line), not as records: "
            "use .jsonl, .jsonl.gz, .jsonl.zst, .parquet or a `datasets` save_to_disk folder"
        )
    if fmt is Format.JSONL:
        return jsonl_records(path, compression, key, span)
    return _rows(path, fmt, columns, key)


def columns(path: Path, key: str) -> list[str] | None:
    """The column names of a Parquet file or save_to_disk folder, to ask `records` for only the columns
    there are of those a reader can use; None for JSONL (a line has whatever keys it has). Reads no rows."""
    path = Path(path)
    fmt, _ = detect(path)
    if fmt in (Format.TEXT, Format.JSONL):
        return None
    return schema_names(path, fmt is Format.ARROW, key)


def texts(
    path: Path, field: str | None, key: str, limit: int | None = None, span: Span | None = None
) -> Iterator[Sample | Skipped]:
    """The samples of a corpus: each non-empty line of a text file, or the string `field` of each
    record of any other format. A record without the field, with null there, or with something
    other than a string is Skipped; a Parquet or Arrow column that is not a string column is an
    InputError. `field` is not used for a text file. `limit` stops after that many samples."""
    path = Path(path)
    fmt, compression = detect(path)
    if fmt is Format.TEXT:
        items: Iterator[Sample | Skipped] = text_samples(path, compression, key, span)
    elif not field:
        what = "key" if fmt is Format.JSONL else "column"
        raise InputError(f"{key}.field: a {label(path)} corpus needs `field` (the text {what})")
    elif fmt is Format.JSONL:
        items = _jsonl_texts(jsonl_records(path, compression, key, span), field)
    else:
        items = _column_texts(path, fmt, field, key)
    return items if limit is None else _limited(items, limit)


def line_spans(path: Path, size: int, key: str) -> Iterator[Span] | None:
    """Cut an uncompressed text or JSONL file into spans of about `size` bytes at line boundaries,
    or None when the file cannot be cut (compressed, Parquet, a folder). Reads the file once, at the
    speed of counting newlines, and holds one chunk."""
    fmt, compression = detect(path)
    if fmt not in (Format.TEXT, Format.JSONL) or compression is not Compression.NONE:
        return None
    return _spans(path, size, key)


def _spans(path: Path, size: int, key: str) -> Iterator[Span]:
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    with fh:
        start, line, pos, newlines = 0, 1, 0, 0
        while chunk := fh.read(1 << 20):
            at = 0
            while True:
                cut = start + size - pos  # where in this chunk the current span wants to end
                if cut >= len(chunk):
                    newlines += chunk.count(b"\n", at)
                    break
                nl = chunk.find(b"\n", max(cut, at))
                if nl < 0:
                    newlines += chunk.count(b"\n", at)
                    break
                newlines += chunk.count(b"\n", at, nl + 1)
                end = pos + nl + 1
                yield Span(start, end, line)
                start, line, newlines, at = end, line + newlines, 0, nl + 1
            pos += len(chunk)
        if pos > start or pos == 0:  # an empty file is one empty span: read, it says it has no samples
            yield Span(start, pos, line)


def _rows(path: Path, fmt: Format, columns: list[str] | None, key: str) -> Iterator[Record | Skipped]:
    name = display_name(path)
    batches = parquet_batches(path, columns, key) if fmt is Format.PARQUET else arrow_batches(path, columns, key)
    for n, row in enumerate(rows(batches), start=1):
        yield Record(f"{name}:{n}", row)


def _jsonl_texts(items: Iterator[Record | Skipped], field: str) -> Iterator[Sample | Skipped]:
    for item in items:
        if isinstance(item, Skipped):
            yield item
        elif field not in item.value:
            yield Skipped(item.where, f"no field {field!r}")
        else:
            yield _text(item.value[field], field, item.where)


def _column_texts(path: Path, fmt: Format, field: str, key: str) -> Iterator[Sample | Skipped]:
    name = display_name(path)
    read = parquet_batches if fmt is Format.PARQUET else arrow_batches
    for n, value in enumerate(column_values(read(path, [field], key, text=field), field), start=1):
        yield _text(value, field, f"{name}:{n}")


def _text(value: object, field: str, where: str) -> Sample | Skipped:
    if isinstance(value, str):
        return Sample(value, where)
    if value is None:
        return Skipped(where, f"field {field!r} is null")
    return Skipped(where, f"field {field!r} is {type(value).__name__}, not a string")


def _limited(items: Iterator[Sample | Skipped], limit: int) -> Iterator[Sample | Skipped]:
    if limit <= 0:
        return
    taken = 0
    try:
        for item in items:
            yield item
            if isinstance(item, Sample):
                taken += 1
                if taken >= limit:
                    return
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # the file is closed now, not when the generator is collected
