"""Fuzzed corpus files in every reader format: truncated, corrupt, other encodings, huge lines, NUL bytes,
mixed types per row. Reading one gives samples and skipped lines, or one InputError line naming the key;
a line file cut into shards reads the same as whole; through the CLI, a report or one `error:` line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MINILM, side, write_config
from tests.fuzz.conftest import budget, cli, no_hang, scratch
from tests.fuzz.formats import (
    DAMAGE,
    LINE_NAMES,
    LINES,
    STATE,
    compress,
    damage,
    tables,
    write_folder,
    write_parquet,
)
from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers import Record, Sample, line_spans, records, texts

KEY = "tokaudit.yaml: corpus[0]"


def _read_all(path: Path, field: str | None) -> list[Any]:
    """Every item `texts` and `records` yield for `path`; an InputError must be one line naming KEY."""
    out: list[Any] = []
    with no_hang():
        for read in (lambda: texts(path, field, KEY), lambda: records(path, None, KEY)):
            try:
                items = list(read())
            except InputError as exc:
                message = str(exc)
                assert len(message.splitlines()) == 1 and message.startswith(KEY), message
                continue
            assert all(isinstance(i, (Sample, Skipped, Record)) for i in items), items
            out.extend(items)
    return out


@st.composite
def line_files(draw: Any) -> tuple[str, bytes]:
    name = draw(LINE_NAMES)
    return name, damage(compress(name, draw(LINES)), draw(DAMAGE))


@settings(max_examples=budget(150))
@given(file=line_files())
def test_any_line_file_reads_as_samples_skips_or_one_error(file: tuple[str, bytes]) -> None:
    with scratch() as tmp:
        path = tmp / file[0]
        path.write_bytes(file[1])
        _read_all(path, "text")


@settings(max_examples=budget(60))
@given(data=LINES, name=st.sampled_from(["c.txt", "c.jsonl"]), size=st.integers(1, 64))
def test_a_line_file_in_shards_reads_as_the_whole(data: bytes, name: str, size: int) -> None:
    with scratch() as tmp:
        path = tmp / name
        path.write_bytes(data)
        whole = list(texts(path, "text", KEY))
        spans = line_spans(path, size, KEY)
        assert spans is not None
        parts = [item for span in spans for item in texts(path, "text", KEY, span=span)]
    assert parts == whole


@settings(max_examples=budget(60))
@given(table=tables(), how=DAMAGE)
def test_any_parquet_file_reads_as_samples_skips_or_one_error(table: Any, how: Any) -> None:
    with scratch() as tmp:
        _read_all(write_parquet(tmp / "c.parquet", table, how), "text")


@settings(max_examples=budget(60))
@given(table=tables(), how=DAMAGE, state=STATE)
def test_any_saved_dataset_folder_reads_as_samples_skips_or_one_error(table: Any, how: Any, state: Any) -> None:
    with scratch() as tmp:
        _read_all(write_folder(tmp / "ds", table, how, state), "text")


@st.composite
def corpora(draw: Any, tmp: Path) -> Path:
    kind = draw(st.sampled_from(["line", "parquet", "folder"]))
    if kind == "line":
        name, data = draw(line_files())
        path = tmp / name
        path.write_bytes(data)
        return path
    if kind == "parquet":
        return write_parquet(tmp / "c.parquet", draw(tables()), draw(DAMAGE))
    return write_folder(tmp / "ds", draw(tables()), draw(DAMAGE), draw(STATE))


@settings(max_examples=budget(25))
@given(data=st.data(), workers=st.sampled_from([1, 2]), limit=st.none() | st.integers(1, 3))
def test_any_corpus_through_the_cli_is_a_report_or_one_error_line(data: Any, workers: int, limit: int | None) -> None:
    with scratch() as tmp:
        path = data.draw(corpora(tmp))
        same = side("hf", MINILM)
        entry = {"path": str(path), "field": "text", **({"limit": limit} if limit else {})}
        config = write_config(tmp, {"training": same, "serving": same, "corpus": [entry], "builtin_corpus": False})
        cli("diff", config, "--workers", str(workers), "--format", "json")


# Found by the fuzzer: bytes that are not UTF-8 in a Parquet string column (Parquet readers do not check)
# and in an Arrow stream's column name were a UnicodeDecodeError traceback from pyarrow's to_pylist.
def _patched(path: Path, old: bytes, new: bytes) -> Path:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new))
    return path


def test_a_parquet_string_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": ["fine", "broken-text"]}), path, compression="none")
    _patched(path, b"broken-text", b"broken\xfftext")
    for read in (lambda: texts(path, "text", KEY), lambda: records(path, None, KEY)):
        try:
            list(read())
        except InputError as exc:
            assert str(exc).startswith(f"{KEY}: {path}: corrupt Parquet data after row 0: ")
        else:
            raise AssertionError("no error")


@pytest.mark.parametrize("name", [b"input_ids", b"rolex"], ids=["column", "struct-field"])
def test_an_arrow_column_name_that_is_not_utf8_is_one_error(tmp_path: Path, name: bytes) -> None:
    import pyarrow as pa

    table = pa.table({"text": ["a"], "input_ids": [[1]], "messages": [{"rolex": "user"}]})
    folder = write_folder(tmp_path / "ds", table, ("none", 0.0, b""))
    _patched(folder / "data-00000-of-00001.arrow", name, name[:2] + b"\xff" + name[3:])
    for read in (lambda: texts(folder, "text", KEY), lambda: records(folder, None, KEY)):
        try:
            list(read())
        except InputError as exc:
            assert "is not an Arrow stream" in str(exc) and str(exc).startswith(KEY)
        else:
            raise AssertionError("no error")


def test_an_empty_corpus_file_says_it_has_no_samples(tmp_path: Path) -> None:
    # found by the fuzzer: an empty line file made no shard, and the error said no corpus was configured
    (tmp_path / "empty.txt").write_bytes(b"")
    same = side("hf", MINILM)
    config = write_config(
        tmp_path, {"training": same, "serving": same, "corpus": ["empty.txt"], "builtin_corpus": False}
    )
    result = cli("diff", config)
    assert result.exit_code == 2 and "corpus[0]: " in result.stderr and "empty.txt yielded no samples" in result.stderr
