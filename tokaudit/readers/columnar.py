"""Parquet files and Hugging Face `datasets` save_to_disk folders, read with pyarrow batch by batch.

Only the needed columns are read. A save_to_disk folder is its state.json's `_data_files` in order,
each an Arrow IPC stream; its rows are numbered across the files, so `folder:n` is `ds[n - 1]`.
`datasets` itself is never imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.readers.base import check_readable, one_line

BATCH = 1024


def parquet_batches(path: Path, columns: list[str] | None, key: str, text: str | None = None) -> Iterator[Any]:
    """pyarrow RecordBatches of `columns` (None: all), read a page at a time however large the row
    groups are. `text` names a column that must hold strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_readable(path, key)
    try:
        # pre_buffer (on by default) reads whole row groups ahead; a buffered stream reads page by page
        pf = pq.ParquetFile(str(path), pre_buffer=False, buffer_size=1 << 20)
        schema = pf.schema_arrow
        _decode_names(schema)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{key}: {path} is not a Parquet file: {one_line(exc)}") from exc
    _check_columns(schema, columns, text, path, key)
    rows = 0
    try:
        for batch in pf.iter_batches(batch_size=BATCH, columns=columns):
            _valid(batch)
            rows += batch.num_rows
            yield batch
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{key}: {path}: corrupt Parquet data after row {rows}: {one_line(exc)}") from exc
    finally:
        pf.close()


def arrow_batches(folder: Path, columns: list[str] | None, key: str, text: str | None = None) -> Iterator[Any]:
    """pyarrow RecordBatches of `columns` (None: all) from a save_to_disk folder, file by file.
    `text` names a column that must hold strings."""
    import pyarrow as pa

    rows = 0
    for data in data_files(folder, key):
        try:
            source = pa.OSFile(str(data))
        except OSError as exc:
            raise InputError(f"{key}: cannot read {data}: {exc.strerror or one_line(exc)}") from exc
        with source:
            try:
                reader = pa.ipc.open_stream(source)
                _decode_names(reader.schema)
            except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{key}: {data} is not an Arrow stream: {one_line(exc)}") from exc
            _check_columns(reader.schema, columns, text, data, key)
            try:
                for batch in reader:
                    batch = batch.select(columns) if columns is not None else batch
                    _valid(batch)
                    rows += batch.num_rows
                    yield batch
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{key}: {data}: corrupt Arrow data after row {rows}: {one_line(exc)}") from exc


def _decode_names(fields: Any) -> None:
    """Decode every field name, nested ones too (UnicodeDecodeError if one is not UTF-8): pyarrow decodes
    a struct's names only when to_pylist() meets a row, and a corrupt file's names can be any bytes."""
    for field in fields:
        field.name  # noqa: B018
        kind = field.type
        _decode_names(kind.field(i) for i in range(kind.num_fields))


def _valid(batch: Any) -> None:
    """Raise ArrowInvalid for a batch pyarrow cannot turn into Python values: neither Parquet nor Arrow
    IPC readers check that a string column holds UTF-8, and to_pylist() then fails mid-batch."""
    batch.validate(full=True)


def schema_names(path: Path, folder: bool, key: str) -> list[str]:
    """The column names of a Parquet file, or of a save_to_disk folder (its first data file's schema),
    read without reading any rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not folder:
        check_readable(path, key)
        try:
            return list(pq.read_schema(str(path)).names)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{key}: {path} is not a Parquet file: {one_line(exc)}") from exc
    files = data_files(path, key)
    if not files:
        return []
    try:
        source = pa.OSFile(str(files[0]))
    except OSError as exc:
        raise InputError(f"{key}: cannot read {files[0]}: {exc.strerror or one_line(exc)}") from exc
    with source:
        try:
            return list(pa.ipc.open_stream(source).schema.names)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{key}: {files[0]} is not an Arrow stream: {one_line(exc)}") from exc


def data_files(folder: Path, key: str) -> list[Path]:
    """The data files of a save_to_disk folder in state.json's order; every one must exist."""
    if (folder / "dataset_dict.json").is_file():
        splits = _splits(folder)
        example = f", e.g. {folder / splits[0]}" if splits else ""
        raise InputError(
            f"{key}: {folder} is a DatasetDict (splits: {', '.join(splits) or 'none listed'}); "
            f"point `path` at one split's folder{example}"
        )
    state = folder / "state.json"
    if not state.is_file():
        raise InputError(f"{key}: {folder} is a folder but not a `datasets` save_to_disk folder (no state.json)")
    try:
        files = [folder / entry["filename"] for entry in json.loads(state.read_text(encoding="utf-8"))["_data_files"]]
    except OSError as exc:
        raise InputError(f"{key}: cannot read {state}: {exc.strerror or one_line(exc)}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{key}: {state} is not a `datasets` state.json (no `_data_files` list)") from exc
    for data in files:
        if not data.is_file():
            raise InputError(f"{key}: {folder}: data file {data.name} (listed in state.json) is missing")
    return files


def _splits(folder: Path) -> list[str]:
    try:
        splits = json.loads((folder / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [str(s) for s in splits] if isinstance(splits, list) else []


def _check_columns(schema: Any, columns: list[str] | None, text: str | None, path: Path, key: str) -> None:
    missing = [c for c in columns or [] if c not in schema.names]
    if missing:
        has = ", ".join(schema.names) or "none"
        what = "column" if len(missing) == 1 else "columns"
        where = f"{key}.field" if missing == [text] else key
        raise InputError(f"{where}: {path} has no {what} {', '.join(map(repr, missing))} (its columns: {has})")
    if text is not None:
        _check_text_column(schema, text, path, key)


def _check_text_column(schema: Any, field: str, path: Path, key: str) -> None:
    # a whole column of ints is one error, not a Skipped per row; a null row is still Skipped
    import pyarrow as pa

    kind = schema.field(field).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_string_view(kind) or kind == pa.null()):
        raise InputError(f"{key}.field: column {field!r} of {path} holds {kind}, not strings")


def _is_string_view(kind: Any) -> bool:
    import pyarrow as pa

    check = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
    return bool(check and check(kind))


def column_values(batches: Iterator[Any], field: str) -> Iterator[Any]:
    """The Python values of one column, batch by batch."""
    for batch in batches:
        yield from batch.column(field).to_pylist()


def rows(batches: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Every row as a dict, batch by batch."""
    for batch in batches:
        yield from batch.to_pylist()
