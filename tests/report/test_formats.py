"""Formatters: every registry member renders; JSON validates against the documented schema."""

from __future__ import annotations

import io
import json

import jsonschema

from tests.conftest import ROOT, invoke
from tokaudit.cli import Format
from tokaudit.findings import Finding, Report, Severity, Skipped
from tokaudit.report import FORMATTERS

SCHEMA = json.loads((ROOT / "docs" / "json-schema.json").read_text())


def hand_built() -> Report:
    tokens = {"tokens": [{"id": 1, "piece": "▁a", "text": "␣a"}], "bos": True, "eos": False, "length": 3}
    return Report(
        command="diff",
        findings=(
            Finding(
                "TA106",
                Severity.ERROR,
                "whitespace is tokenized differently",
                sample="c.txt:3",
                category="whitespace",
                hint="compare add_prefix_space",
                detail={"offset": 0, "context": "▶␣a", "training": tokens, "serving": tokens},
            ),
            Finding("TA001", Severity.WARNING, "model.revision is 'main'", category="config"),
        ),
        summary={
            "samples_compared": 3,
            "samples_differing": 1,
            "share_tokens_affected": 0.25,
            "by_category": {"whitespace": 1},
        },
        header={
            "tokaudit": "0",
            "config": "c.yaml",
            "model": None,
            "sides": {
                "training": {
                    "source": "sentencepiece",
                    "path": "x",
                    "library": "sentencepiece",
                    "version": "0.2",
                    "backend": "SentencePieceProcessor",
                    "special_text": "literal",
                }
            },
        },
        skipped=(Skipped("c.txt:9", "invalid UTF-8 at byte 0"),),
    )


def test_cli_format_choices_match_the_registry() -> None:
    assert {f.value for f in Format} == set(FORMATTERS)


def test_every_formatter_renders_a_hand_built_report() -> None:
    for name, render in FORMATTERS.items():
        buf = io.StringIO()
        render(hand_built(), buf, max_shown=5, color=False)
        out = buf.getvalue()
        assert "TA106" in out and "c.txt:9" in out, name


def test_table_shows_tokens_hint_summary_and_skipped() -> None:
    buf = io.StringIO()
    FORMATTERS["table"](hand_built(), buf, color=False)
    out = buf.getvalue()
    for expected in (
        "TA106",
        "whitespace is tokenized differently",
        "␣a",
        "hint: compare add_prefix_space",
        "samples compared",
        "25.00%",
        "skipped c.txt:9",
        "1 error(s), 1 warning(s)",
    ):
        assert expected in out, expected


def test_json_of_a_hand_built_report_validates() -> None:
    buf = io.StringIO()
    FORMATTERS["json"](hand_built(), buf)
    data = json.loads(buf.getvalue())
    jsonschema.validate(data, SCHEMA)
    assert [f["code"] for f in data["findings"]] == ["TA106", "TA001"]  # errors first


def test_real_diff_json_validates_against_the_schema() -> None:
    result = invoke("diff", ROOT / "configs" / "cl100k.yaml", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["summary"]["samples_compared"] > 0
