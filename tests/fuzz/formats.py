"""Hypothesis strategies for every input file format the readers take, written to disk whole or damaged.

A drawn file is (name, bytes) for a line file (.txt, .jsonl, either plain, .gz or .zst), or a writer for
Parquet and `datasets` save_to_disk folders; `damage` then truncates it, flips bytes or appends junk.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

#: a JSON value of any type, nested a little (a record's field may hold any of them)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
#: text with what breaks naive readers: NUL, lone surrogates (written as UTF-8 they are invalid), BOMs,
#: carriage returns, line and paragraph separators
TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("\x00\r\ufeff\u2028\x85é "), max_size=20
) | st.text(alphabet=st.characters(codec=None), max_size=6)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _record(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass")


#: one line of a file: text, raw bytes, a record with mixed types under the usual fields, other
#: encodings, a line longer than any read chunk
LINE = st.one_of(
    TEXT.map(_utf8),
    st.binary(max_size=20),
    st.fixed_dictionaries(
        {}, optional={"text": JSON | TEXT, "input_ids": JSON | st.lists(st.integers(), max_size=4), "other": JSON}
    ).map(_record),
    JSON.map(lambda v: json.dumps(v).encode()),
    TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")),
    st.sampled_from([b"\xef\xbb\xbf{}", b'{"text": "a"', b'{"text": "\\ud800"}', b"[" * 100_000, b"\x00" * 5]),
    st.tuples(st.integers(60_000, 300_000), st.sampled_from([b"a", b"\x00", b"\xff", "é".encode()])).map(
        lambda n_b: n_b[1] * (n_b[0] // len(n_b[1]))
    ),
)
LINES = st.tuples(st.lists(LINE, max_size=6), st.sampled_from([b"\n", b"\r\n"]), st.booleans()).map(
    lambda t: t[1].join(t[0]) + (t[1] if t[2] else b"")
)
LINE_NAMES = st.sampled_from(
    ["c.txt", "c.jsonl", "c.ndjson", "c.jsonl.gz", "c.jsonl.zst", "c.txt.gz", "c.txt.zst", "c.JSONL", "c"]
)


def compress(name: str, data: bytes) -> bytes:
    if name.endswith(".gz"):
        return gzip.compress(data, mtime=0)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


#: how a file is damaged: (kind, position as a fraction of its size, junk)
WHOLE = st.just(("none", 0.0, b""))
#: half the files whole, so the fuzzer reaches past the readers into the checks
DAMAGE = st.one_of(
    WHOLE,
    WHOLE,
    WHOLE,
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(b"")),
    st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("append"), st.just(1.0), st.binary(min_size=1, max_size=64)),
)


def damage(data: bytes, how: tuple[str, float, bytes]) -> bytes:
    kind, where, junk = how
    at = int(len(data) * where)
    if kind == "truncate":
        return data[:at]
    if kind == "flip" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes(b ^ 0xFF for b in junk) + data[at + len(junk) :]
    if kind == "append":
        return data + junk
    return data


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "large_string": pa.large_string(),
        "int": pa.int64(),
        "binary": pa.binary(),
        "ints": pa.list_(pa.int64()),
        "null": pa.null(),
        "dict": pa.dictionary(pa.int32(), pa.string()),
        "struct": pa.struct([("role", pa.string()), ("content", pa.string())]),
        "structs": pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
    }[kind]


def _value(kind: str) -> st.SearchStrategy[Any]:
    message = st.fixed_dictionaries({"role": st.none() | TEXT, "content": st.none() | TEXT})
    return (
        st.none()
        | {
            "string": TEXT,
            "large_string": TEXT,
            "dict": TEXT,
            "int": st.integers(-(2**63), 2**63 - 1),
            "binary": st.binary(max_size=8),
            "ints": st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=4),
            "null": st.none(),
            "struct": message,
            "structs": st.lists(message, max_size=3),
        }[kind]
    )


KINDS = ["string", "large_string", "int", "binary", "ints", "null", "dict", "struct", "structs"]


@st.composite
def tables(draw: Any, names: tuple[str, ...] = ("text", "input_ids", "labels", "messages", "tools")) -> Any:
    """A pyarrow table whose columns are some of `names` (and others), each of any type, any values."""
    import pyarrow as pa

    cols = draw(st.lists(st.sampled_from([*names, "other"]), unique=True, max_size=len(names) + 1))
    n = draw(st.integers(0, 5))
    arrays, fields = [], []
    for name in cols:
        kind = draw(st.sampled_from(KINDS))
        values = draw(st.lists(_value(kind), min_size=n, max_size=n))
        values = [_clean(v) for v in values]  # pyarrow writes strings as UTF-8: no lone surrogates
        arrays.append(pa.array(values, type=_arrow_type(kind)))
        fields.append(name)
    return pa.table(arrays, names=fields) if fields else pa.table({})


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def write_parquet(path: Path, table: Any, how: tuple[str, float, bytes]) -> Path:
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    path.write_bytes(damage(path.read_bytes(), how))
    return path


#: what a save_to_disk folder's state.json may say instead of the truth
STATE = st.one_of(st.just(None), JSON, st.just({"_data_files": [{"filename": "missing.arrow"}]}))


def write_folder(folder: Path, table: Any, how: tuple[str, float, bytes], state: Any = None) -> Path:
    """A `datasets` save_to_disk folder as `datasets` writes it (an Arrow IPC stream and state.json),
    with its data file damaged and, when `state` is not None, state.json replaced by it."""
    import pyarrow as pa

    folder.mkdir()
    data = folder / "data-00000-of-00001.arrow"
    with pa.OSFile(str(data), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=2):
            writer.write_batch(batch)
    data.write_bytes(damage(data.read_bytes(), how))
    truth = {"_data_files": [{"filename": data.name}], "_split": None}
    (folder / "state.json").write_text(json.dumps(truth if state is None else state), encoding="utf-8")
    return folder
