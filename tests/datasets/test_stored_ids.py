"""`source: dataset`: the token ids a training run will read, stored on disk, against the serving tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MINILM, MISTRAL_HF, invoke, side

TEXTS = [line for line in CORPUS_TXT.read_text(encoding="utf-8").splitlines() if line]
OTHER_ROWS = (2, 5, 9)  # 0-based rows tokenized with another tokenizer (MiniLM's BERT WordPiece)


def _rows() -> list[dict]:  # type: ignore[type-arg]
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(MISTRAL_HF))
    other = AutoTokenizer.from_pretrained(str(MINILM))
    return [{"text": t, "input_ids": (other if k in OTHER_ROWS else hf)(t)["input_ids"]} for k, t in enumerate(TEXTS)]


def _write(tmp_path: Path, kind: str, rows: list[dict]) -> Path:  # type: ignore[type-arg]
    if kind == "jsonl":
        path = tmp_path / "tokenized.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "tokenized.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _config(cfg, path: Path, **dataset):  # type: ignore[no-untyped-def]
    fields = {"text_field": "text", "ids_field": "input_ids", **dataset}
    return cfg({"training": side("dataset", path, **fields), "serving": side("hf", MISTRAL_HF)})


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_rows_tokenized_by_another_tokenizer_are_exactly_the_findings(tmp_path: Path, cfg, kind: str) -> None:
    path = _write(tmp_path, kind, _rows())
    result = invoke("diff", _config(cfg, path), "--format", "json", "--examples", "10")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    located = sorted(w for f in report["findings"] for w in f["samples"])
    assert located == sorted(f"{path.name}:{k + 1}" for k in OTHER_ROWS)
    assert sum(f["count"] for f in report["findings"]) == 3
    assert report["summary"]["samples_compared"] == len(TEXTS) and report["summary"]["samples_differing"] == 3


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_clean_stored_ids_exit_0(tmp_path: Path, cfg, kind: str) -> None:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(MISTRAL_HF))
    path = _write(tmp_path, kind, [{"text": t, "input_ids": hf(t)["input_ids"]} for t in TEXTS])
    result = invoke("diff", _config(cfg, path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []


def test_rows_whose_ids_are_not_integers_are_skipped_with_their_location(tmp_path: Path, cfg) -> None:
    path = tmp_path / "t.jsonl"
    rows = [{"text": "Hello", "input_ids": [1, 22557]}, {"text": "x", "input_ids": ["a"]}, {"text": "y"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = invoke("diff", _config(cfg, path), "--format", "json")
    report = json.loads(result.stdout)
    assert [(s["where"], s["reason"]) for s in report["skipped"]] == [
        ("t.jsonl:2", "field 'input_ids' is not a list of integers"),
        ("t.jsonl:3", "field 'input_ids' is missing"),
    ]
    assert report["summary"]["samples_compared"] == 1


def test_nothing_checkable_and_a_missing_column_are_one_line_exit_2(tmp_path: Path, cfg) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "x", "ids": [1]}\n', encoding="utf-8")
    result = invoke("diff", _config(cfg, path))
    assert result.exit_code == 2
    assert "no sample could be compared" in result.stderr and "t.jsonl:1: field 'input_ids' is missing" in result.stderr
    parquet = _write(tmp_path, "parquet", [{"text": "x", "ids": [1]}])
    result = invoke("diff", _config(cfg, parquet))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1
    assert "training" in lines[0] and "no column 'input_ids'" in lines[0] and "tokenized.parquet" in lines[0]


def test_config_errors_name_the_key(tmp_path: Path, cfg) -> None:
    path = _write(tmp_path, "jsonl", [{"text": "x", "input_ids": [1]}])
    missing = cfg({"training": side("dataset", path, text_field="text"), "serving": side("hf", MISTRAL_HF)})
    result = invoke("diff", missing)
    assert result.exit_code == 2 and "training.ids_field: `source: dataset` needs `ids_field`" in result.stderr
    with_corpus = cfg(
        {
            "training": side("dataset", path, text_field="text", ids_field="input_ids"),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(CORPUS_TXT)],
        }
    )
    result = invoke("diff", with_corpus)
    assert result.exit_code == 2 and "corpus: not used with `training.source: dataset`" in result.stderr
    result = invoke("vocab-check", _config(cfg, path))
    assert result.exit_code == 2 and "needs a tokenizer on both sides" in result.stderr


def test_check_runs_only_diff_on_stored_ids(tmp_path: Path, cfg) -> None:
    path = _write(tmp_path, "jsonl", _rows())
    result = invoke("check", _config(cfg, path), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["checks"] == ["diff"]
