"""Corpus readers: .txt and .jsonl, limits, invalid UTF-8 and entries that yield nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokaudit.config import CorpusEntry
from tokaudit.corpus import BUILTIN_CASES, builtin_samples, read_entry
from tokaudit.errors import InputError


def test_txt_reads_a_sample_per_line_with_location(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_bytes(b"one\r\n\ntwo  \n  three\n")
    samples, skipped = read_entry(CorpusEntry(path=p), 0, None)
    assert [s.text for s in samples] == ["one", "two  ", "  three"]
    assert [s.where for s in samples] == ["c.txt:1", "c.txt:3", "c.txt:4"]
    assert skipped == []


def test_invalid_utf8_is_skipped_with_its_line_number(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_bytes(b"good\n\xff\xfebad\nalso good\n")
    samples, skipped = read_entry(CorpusEntry(path=p), 0, None)
    assert [s.text for s in samples] == ["good", "also good"]
    assert skipped[0].where == "c.txt:2" and "invalid UTF-8" in skipped[0].reason


def test_jsonl_field_and_limit(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text("\n".join(json.dumps({"text": f"t{i}", "n": i}) for i in range(5)) + "\n")
    samples, _ = read_entry(CorpusEntry(path=p, field="text", limit=3), 0, None)
    assert [s.text for s in samples] == ["t0", "t1", "t2"]


def test_jsonl_bad_records_are_skipped_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text('{"text": "ok"}\nnot json\n{"other": 1}\n{"text": 5}\n')
    samples, skipped = read_entry(CorpusEntry(path=p, field="text"), 0, None)
    assert [s.text for s in samples] == ["ok"]
    assert [s.where for s in skipped] == ["c.jsonl:2", "c.jsonl:3", "c.jsonl:4"]


@pytest.mark.parametrize(
    ("name", "content", "field", "match"),
    [
        ("empty.txt", b"", None, "yielded no samples"),
        ("blank.txt", b"\n\n", None, "yielded no samples"),
        ("c.jsonl", b'{"text": "a"}\n', "txt", "yielded no samples.*no field 'txt'"),
        ("c.jsonl", b'{"text": "a"}\n', None, r"corpus\[0\].field: a .jsonl corpus needs"),
        ("bad.txt", b"\xff\xfe\n", None, "yielded no samples.*invalid UTF-8"),
    ],
)
def test_entry_that_yields_nothing_is_an_error(
    tmp_path: Path, name: str, content: bytes, field: str | None, match: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError, match=match):
        read_entry(CorpusEntry(path=p, field=field), 0, tmp_path / "cfg.yaml")


def test_builtin_corpus_covers_the_edge_cases_and_embeds_specials() -> None:
    for case in (
        "space-runs",
        "tabs",
        "crlf",
        "nfd",
        "nfkc-variants",
        "ligatures",
        "combining-marks",
        "zero-width",
        "emoji",
        "cjk",
        "rtl",
        "digits",
        "code",
        "long-repeat",
        "trailing-space",
    ):
        assert case in BUILTIN_CASES
    samples = builtin_samples(["<s>", "<|endoftext|>"])
    embedded = [s for s in samples if s.where.startswith("builtin:special")]
    assert {s.where for s in embedded} == {"builtin:special <s>", "builtin:special <|endoftext|>"}
    assert all(" <s> " in s.text or "<|endoftext|>" in s.text for s in embedded)
