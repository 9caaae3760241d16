"""A corpus in any format the readers take gives the same audit; bad input is one line and exit 2."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MISTRAL_HF, MISTRAL_SP, invoke, side

LINES = [line for line in CORPUS_TXT.read_text(encoding="utf-8").splitlines() if line]


def _config(cfg, entry):  # type: ignore[no-untyped-def]
    return cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [entry],
            "builtin_corpus": False,
        }
    )


def _write_all(tmp_path: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    rows = "".join(json.dumps({"text": t}) + "\n" for t in LINES).encode()
    (tmp_path / "c.jsonl").write_bytes(rows)
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(rows))
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor(write_checksum=True).compress(rows))
    pq.write_table(pa.table({"text": LINES}), tmp_path / "c.parquet")
    datasets.Dataset.from_dict({"text": LINES}).save_to_disk(str(tmp_path / "ds"), max_shard_size="2KB")
    return {
        "txt": {"path": str(CORPUS_TXT)},
        "jsonl": {"path": str(tmp_path / "c.jsonl"), "field": "text"},
        "jsonl.gz": {"path": str(tmp_path / "c.jsonl.gz"), "field": "text"},
        "jsonl.zst": {"path": str(tmp_path / "c.jsonl.zst"), "field": "text"},
        "parquet": {"path": str(tmp_path / "c.parquet"), "field": "text"},
        "save_to_disk": {"path": str(tmp_path / "ds"), "field": "text"},
    }


def test_every_format_gives_the_same_findings(tmp_path: Path, cfg) -> None:
    reports = {}
    for name, entry in _write_all(tmp_path).items():
        result = invoke("diff", _config(cfg, entry), "--format", "json")
        assert result.exit_code == 1, (name, result.output)
        reports[name] = json.loads(result.stdout)

    # the same problems with the same counts and evidence; only the file names in locations differ
    def shape(r: dict) -> list:  # type: ignore[type-arg]
        return [(f["code"], f["signature"], f["count"], f["message"], f["detail"]) for f in r["findings"]]

    first = shape(reports["jsonl"])
    assert first and all(shape(r) == first for r in reports.values())
    assert {r["summary"]["samples_compared"] for r in reports.values()} == {len(LINES)}


def test_invalid_rows_are_skipped_with_their_location(tmp_path: Path, cfg) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "a  b"}\nnot json\n{"other": 1}\n{"text": 5}\n{"text": "ok"}\n', encoding="utf-8")
    result = invoke("diff", _config(cfg, {"path": str(path), "field": "text"}), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"]["samples_compared"] == 2 and report["summary"]["samples_skipped"] == 3
    assert [s["where"] for s in report["skipped"]] == ["mixed.jsonl:2", "mixed.jsonl:3", "mixed.jsonl:4"]


@pytest.mark.parametrize("kind", ["truncated-gz", "corrupt-zst", "not-parquet"])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, cfg, kind: str) -> None:
    import zstandard

    rows = "".join(json.dumps({"text": f"line {k} " * 20}) + "\n" for k in range(3000)).encode()
    if kind == "truncated-gz":
        path = tmp_path / "c.jsonl.gz"
        data = gzip.compress(rows)
        path.write_bytes(data[: len(data) // 2])
    elif kind == "corrupt-zst":
        path = tmp_path / "c.jsonl.zst"
        data = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(rows))
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path = tmp_path / "c.parquet"
        path.write_text("this is not parquet\n")
    result = invoke("diff", _config(cfg, {"path": str(path), "field": "text"}))
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and path.name in errors[0], result.stderr
    assert "corpus[0]" in errors[0]
