"""Streaming readers: every format yields the same texts, errors are one line naming file and key,
bad rows are Skipped with their location, reservoir sampling, and bounded memory."""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers import Record, Sample, records, sample_stream, texts

KEY = "configs/x.yaml: corpus[0]"

# Samples a line-splitter could get wrong: the other Unicode line breaks (U+2028, NEL, form feed,
# vertical tab) and a \r inside a line must survive a .txt line untouched.
_TRICKY = [
    "tab\tseparated\t\tcolumns",
    "carriage\rreturn inside",
    "line\u2028separator and\x85next line",
    "form\x0cfeed and vertical\x0btab",
    "  leading and trailing spaces  ",
    "emoji 👍🏽 👨‍👩‍👧‍👦, CJK 日本語の中文, RTL مرحبا שלום, astral 𝔘𝔫𝔦",
    "combining e\u0301 and NFKC ﬁ ｆｕｌｌ, zero\u200bwidth",
    '"quoted" {json-looking} [text] \\ backslash',
]
# Only a JSON string (or a column) can hold these; a .txt line cannot.
_NOT_FOR_TXT = ["", "two\nlines", "ends with a carriage return\r"]


def _rows() -> list[str]:
    rows = [f"row {i}: {_TRICKY[i % len(_TRICKY)]}" for i in range(1000 - len(_TRICKY) - len(_NOT_FOR_TXT))]
    rows[10:10] = _TRICKY
    rows[500:500] = _NOT_FOR_TXT
    return rows


ROWS = _rows()
TXT_ROWS = [r for r in ROWS if r not in _NOT_FOR_TXT]


def _jsonl(rows: list[Any]) -> bytes:
    # every other line escapes non-ASCII characters, as json.dumps does by default
    lines = (json.dumps({"id": i, "text": r}, ensure_ascii=i % 2 == 0) + "\n" for i, r in enumerate(rows))
    return "".join(lines).encode()


def _zstd(data: bytes) -> bytes:
    # the zstd CLI writes a content checksum by default; do the same
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


def _save_to_disk(folder: Path, columns: dict[str, list[Any]], shard_bytes: int = 20_000) -> Path:
    import datasets  # the test extra's; tokaudit itself never imports it

    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(columns).save_to_disk(str(folder), max_shard_size=shard_bytes)
    return folder


def _write_all(tmp_path: Path) -> dict[str, Path]:
    p = {name: tmp_path / name for name in ("c.txt", "c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "c.parquet")}
    p["c.txt"].write_bytes("".join(r + "\n" for r in TXT_ROWS).encode())
    p["c.jsonl"].write_bytes(_jsonl(ROWS))
    p["c.jsonl.gz"].write_bytes(gzip.compress(_jsonl(ROWS)))
    p["c.jsonl.zst"].write_bytes(_zstd(_jsonl(ROWS)))
    pq.write_table(pa.table({"id": range(len(ROWS)), "text": ROWS}), p["c.parquet"], row_group_size=128)
    p["train"] = _save_to_disk(tmp_path / "train", {"id": list(range(len(ROWS))), "text": ROWS})
    return p


def _split(items: Any) -> tuple[list[Any], list[Skipped]]:
    got = list(items)
    return [x for x in got if not isinstance(x, Skipped)], [x for x in got if isinstance(x, Skipped)]


# -- 1. every format, the same texts -------------------------------------------------------------
def test_every_format_yields_the_same_texts(tmp_path: Path) -> None:
    assert len(ROWS) == 1000 and len(set(ROWS)) == 1000
    paths = _write_all(tmp_path)
    assert len(list((tmp_path / "train").glob("data-*.arrow"))) > 2  # several shards, read in order
    for name, path in paths.items():
        samples, skipped = _split(texts(path, None if name.endswith(".txt") else "text", KEY))
        assert skipped == [], name
        assert [s.text for s in samples] == (TXT_ROWS if name.endswith(".txt") else ROWS), name
        assert all(isinstance(s, Sample) for s in samples)
    samples, _ = _split(texts(paths["c.txt"], None, KEY))
    assert [s.where for s in samples] == [f"c.txt:{n}" for n in range(1, len(TXT_ROWS) + 1)]


def test_records_where_strings_and_values(tmp_path: Path) -> None:
    paths = _write_all(tmp_path)
    for name in ("c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "c.parquet", "train"):
        got, skipped = _split(records(paths[name], None, KEY))
        assert skipped == [] and all(isinstance(r, Record) for r in got)
        # line number for JSONL, row number for Parquet, row number across data files for a folder
        assert [r.where for r in got] == [f"{name}:{n}" for n in range(1, 1001)], name
        assert [r.value for r in got] == [{"id": i, "text": t} for i, t in enumerate(ROWS)], name
    only_text, _ = _split(records(paths["c.parquet"], ["text"], KEY))
    assert only_text[3].value == {"text": ROWS[3]}
    only_id, _ = _split(records(paths["train"], ["id"], KEY))
    assert only_id[999] == Record("train:1000", {"id": 999})


def test_a_folder_is_read_in_state_json_order_like_datasets_does(tmp_path: Path) -> None:
    import datasets

    folder = _save_to_disk(tmp_path / "ds", {"text": ROWS})
    state = json.loads((folder / "state.json").read_text())
    state["_data_files"].reverse()
    (folder / "state.json").write_text(json.dumps(state))
    expected = list(datasets.load_from_disk(str(folder))["text"])
    assert expected != ROWS
    assert [s.text for s in texts(folder, "text", KEY) if isinstance(s, Sample)] == expected


def test_txt_crlf_bom_free_ndjson_and_limit(tmp_path: Path) -> None:
    txt = tmp_path / "c.txt"
    txt.write_bytes(b"one\r\n\r\n\ntwo\r\nno final newline")
    assert [(s.text, s.where) for s in texts(txt, None, KEY) if isinstance(s, Sample)] == [
        ("one", "c.txt:1"),
        ("two", "c.txt:4"),
        ("no final newline", "c.txt:5"),
    ]
    nd = tmp_path / "c.ndjson"
    nd.write_bytes(b"\xef\xbb\xbf" + _jsonl(["a", "b", "c", "d"]))  # a BOM is not a JSON error
    assert [s.text for s in texts(nd, "text", KEY, limit=3) if isinstance(s, Sample)] == ["a", "b", "c"]
    assert [s.text for s in texts(txt, None, KEY, limit=1) if isinstance(s, Sample)] == ["one"]


def test_concatenated_streams_and_compressed_text(tmp_path: Path) -> None:
    a, b = _jsonl(["a", "b"]), _jsonl(["c"])
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(a) + gzip.compress(b))  # `cat x.gz y.gz`
    (tmp_path / "c.jsonl.zst").write_bytes(_zstd(a) + _zstd(b))
    for name in ("c.jsonl.gz", "c.jsonl.zst"):
        assert [(s.text, s.where) for s in texts(tmp_path / name, "text", KEY) if isinstance(s, Sample)] == [
            ("a", f"{name}:1"),
            ("b", f"{name}:2"),
            ("c", f"{name}:3"),
        ]
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress("é\r\n\nz\n".encode()))
    assert [s.text for s in texts(tmp_path / "c.txt.gz", None, KEY) if isinstance(s, Sample)] == ["é", "z"]


# -- 2. errors: one line, naming the file and the key ----------------------------------------------
def _error(items: Callable[[], Any]) -> str:
    with pytest.raises(InputError) as info:
        for _ in items():
            pass
    message = str(info.value)
    assert "\n" not in message and message.startswith(KEY), message
    return message


def _big_jsonl(n: int = 30_000) -> bytes:
    return _jsonl([f"row {i} {base64.b64encode(os.urandom(30)).decode()}" for i in range(n)])


def test_truncated_gzip_raises_where_the_stream_breaks(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    full = gzip.compress(_big_jsonl())
    path.write_bytes(full[: len(full) // 2])
    seen: list[Any] = []

    def read() -> Any:
        for item in texts(path, "text", KEY):
            seen.append(item)
            yield item

    message = _error(read)
    assert str(path) in message and "corrupt gzip data after line" in message
    assert len(seen) > 1000  # the rows before the cut were read: it is a stream


@pytest.mark.parametrize("damage", ["flip", "truncate", "not-zstd"])
def test_corrupt_zstd_is_one_clean_line(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "bad.jsonl.zst"
    data = bytearray(_zstd(_big_jsonl()))
    if damage == "flip":
        mid = len(data) // 2
        data[mid : mid + 32] = bytes(b ^ 0xFF for b in data[mid : mid + 32])
    elif damage == "truncate":
        del data[len(data) * 2 // 3 :]
    else:
        data = bytearray(_big_jsonl()[:5000])
    path.write_bytes(bytes(data))
    message = _error(lambda: texts(path, "text", KEY))
    assert str(path) in message and "corrupt zstd data" in message


def test_a_parquet_that_is_text_and_a_missing_column(tmp_path: Path) -> None:
    fake = tmp_path / "fake.parquet"
    fake.write_text("just\ntext\n")
    assert f"{fake} is not a Parquet file" in _error(lambda: texts(fake, "text", KEY))
    real = tmp_path / "real.parquet"
    pq.write_table(pa.table({"id": [1], "body": ["x"]}), real)
    message = _error(lambda: texts(real, "text", KEY))
    assert message.startswith(f"{KEY}.field: ") and "no column 'text' (its columns: id, body)" in message
    assert "no columns 'a', 'b' (its columns: id, body)" in _error(lambda: records(real, ["a", "b", "id"], KEY))
    ints = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), ints)
    assert "column 'text' of" in _error(lambda: texts(ints, "text", KEY))


def test_folder_errors(tmp_path: Path) -> None:
    folder = _save_to_disk(tmp_path / "ds", {"text": ROWS})
    first = sorted(folder.glob("data-*.arrow"))[1]
    first.unlink()
    assert f"data file {first.name} (listed in state.json) is missing" in _error(lambda: texts(folder, "text", KEY))
    (tmp_path / "dd" / "train").mkdir(parents=True)
    (tmp_path / "dd" / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    message = _error(lambda: texts(tmp_path / "dd", "text", KEY))
    assert "is a DatasetDict (splits: train, test); point `path` at one split's folder" in message
    (tmp_path / "plain").mkdir()
    assert "no state.json" in _error(lambda: texts(tmp_path / "plain", "text", KEY))
    bad = _save_to_disk(tmp_path / "bad", {"text": ["a", "b"]})
    next(bad.glob("data-*.arrow")).write_bytes(b"garbage")
    assert "is not an Arrow stream" in _error(lambda: records(bad, None, KEY))


@pytest.mark.parametrize("name", ["gone.txt", "gone.jsonl", "gone.jsonl.gz", "gone.jsonl.zst", "gone.parquet"])
def test_a_missing_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert _error(lambda: texts(path, "text", KEY)) == f"{KEY}: cannot read {path}: No such file or directory"


def test_argument_errors_raise_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"corpus\[0\]\.field: a \.jsonl corpus needs `field` \(the text key\)$"):
        texts(tmp_path / "c.jsonl", None, KEY)
    with pytest.raises(InputError, match=r"a \.parquet corpus needs `field` \(the text column\)"):
        texts(tmp_path / "c.parquet", None, KEY)
    with pytest.raises(InputError, match="is read as text"):
        records(tmp_path / "c.txt", None, KEY)


def test_an_empty_file_is_not_an_error_here(tmp_path: Path) -> None:
    for name, data in [("e.txt", b""), ("e.jsonl", b"\n\n"), ("e.jsonl.gz", gzip.compress(b"")), ("e.jsonl.zst", b"")]:
        (tmp_path / name).write_bytes(data)
        assert list(texts(tmp_path / name, "text", KEY)) == []
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), tmp_path / "e.parquet")
    assert list(texts(tmp_path / "e.parquet", "text", KEY)) == []


# -- 3. bad rows are Skipped with their location, good rows still come -----------------------------
def test_bad_jsonl_lines_are_skipped_with_their_line(tmp_path: Path) -> None:
    lines = [b'{"text": "ok"}', b"not json", b"", b'{"other": 1}', b'{"text": 5}', b"[1, 2]"]
    lines += [b'{"text": null}', b'{"text": "bad \xff utf8"}', b'{"text": "last"}']
    for name, data in [("c.jsonl", b"\n".join(lines)), ("c.jsonl.gz", gzip.compress(b"\n".join(lines)))]:
        (tmp_path / name).write_bytes(data)
        samples, skipped = _split(texts(tmp_path / name, "text", KEY))
        assert [(s.where, s.text) for s in samples] == [(f"{name}:1", "ok"), (f"{name}:9", "last")]
        assert [(s.where, s.reason) for s in skipped] == [
            (f"{name}:2", "not JSON: Expecting value (column 1)"),
            (f"{name}:4", "no field 'text'"),
            (f"{name}:5", "field 'text' is int, not a string"),
            (f"{name}:6", "not a JSON object (a JSON array)"),
            (f"{name}:7", "field 'text' is null"),
            (f"{name}:8", "invalid UTF-8 at byte 14"),
        ]


def test_nulls_in_columns_are_skipped_with_their_row(tmp_path: Path) -> None:
    values = ["a", None, "c", None]
    pq.write_table(pa.table({"text": values}), tmp_path / "n.parquet", row_group_size=3)
    folder = _save_to_disk(tmp_path / "n", {"text": values}, shard_bytes=10)
    for path in (tmp_path / "n.parquet", folder):
        samples, skipped = _split(texts(path, "text", KEY))
        assert [(s.where, s.text) for s in samples] == [(f"{path.name}:1", "a"), (f"{path.name}:3", "c")]
        assert skipped == [Skipped(f"{path.name}:{n}", "field 'text' is null") for n in (2, 4)]


def test_invalid_utf8_in_a_txt_line(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_bytes(b"good\n\xff\xfebad\nalso good\n")
    samples, skipped = _split(texts(tmp_path / "c.txt", None, KEY))
    assert [s.text for s in samples] == ["good", "also good"]
    assert skipped == [Skipped("c.txt:2", "invalid UTF-8 at byte 0")]


# -- 4. sample_stream ---------------------------------------------------------------------------
def test_sample_stream_is_reproducible_in_stream_order_and_uniform() -> None:
    items = list(range(10_000))
    a = sample_stream(iter(items), 50, seed=1)
    assert a == sample_stream((i for i in items), 50, seed=1)
    assert a != sample_stream(iter(items), 50, seed=2)
    assert len(a) == 50 and a == sorted(a) and len(set(a)) == 50
    assert sample_stream(iter(items[:30]), 50, seed=1) == items[:30]
    assert sample_stream(iter(items[:50]), 50, seed=1) == items[:50]
    assert sample_stream(iter(items), 0, seed=1) == []
    counts = Counter(x for seed in range(3000) for x in sample_stream(range(10), 2, seed))
    assert all(500 < counts[x] < 700 for x in range(10)), counts  # 600 expected each


# -- 5. bounded memory ---------------------------------------------------------------------------
def _write_gzip(path: Path, megabytes: int) -> int:
    # distinct 1 kB rows: 100 random characters, then 900 of a shared text at a moving offset
    # (about 10:1, so the file is quick to write; what is read is `megabytes` of JSONL)
    rng = random.Random(0)
    shared = base64.b64encode(rng.randbytes(3000))
    rows = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while out.tell() < megabytes << 20:
            unique = base64.b64encode(rng.randbytes(75 * 64))
            out.write(b"".join(_row(rows + i, unique[i * 100 : i * 100 + 100], shared) for i in range(64)))
            rows += 64
    return rows


def _row(n: int, unique: bytes, shared: bytes) -> bytes:
    return b'{"text": "%d %s %s"}\n' % (n, unique, shared[n % 3000 : n % 3000 + 900])


def _write_zstd_bomb(path: Path, megabytes: int) -> int:
    line = json.dumps({"text": "the same row again " * 50}).encode() + b"\n"
    rows = (megabytes << 20) // len(line)
    path.write_bytes(_zstd(line * rows))  # ~50 MB in a few kB: one read must not decode it all
    return rows


@pytest.mark.parametrize("name, write", [("big.jsonl.gz", _write_gzip), ("bomb.jsonl.zst", _write_zstd_bomb)])
def test_memory_stays_bounded_over_a_50_mb_file(tmp_path: Path, name: str, write: Any) -> None:
    path = tmp_path / name
    rows = write(path, 50)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        count = sum(1 for _ in texts(path, "text", KEY))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert count == rows
    assert peak < 3 << 20, f"peak {peak / 2**20:.1f} MiB while reading {name}"


def test_parquet_and_folders_are_read_batch_by_batch(tmp_path: Path) -> None:
    rng = random.Random(0)
    rows = 24_000
    text = pa.array([base64.b64encode(rng.randbytes(750)).decode() for _ in range(rows)])  # 24 MB
    pq.write_table(pa.table({"text": text, "id": range(rows)}), tmp_path / "big.parquet")  # one row group
    folder = _save_to_disk(tmp_path / "big", {"text": text.to_pylist()}, shard_bytes=4 << 20)
    del text
    for path in (tmp_path / "big.parquet", folder):
        most = count = 0
        for _ in texts(path, "text", KEY):
            count += 1
            if count % 500 == 0:
                most = max(most, pa.total_allocated_bytes())
        assert count == rows
        assert most < 8 << 20, f"{most / 2**20:.1f} MiB of Arrow memory at once reading {path.name}"
