"""Formatters: every registry member renders; JSON validates against the documented schema."""

from __future__ import annotations

import io
import json
import re

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


def _diff_output(fmt: str) -> str:
    result = invoke("diff", ROOT / "configs" / "mistral-7b.yaml", "--format", fmt)
    assert result.exit_code == 1
    return result.stdout


def test_junit_parses_with_a_testcase_per_check_and_per_differing_sample() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_diff_output("junit").encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    names = [c.get("name") for c in cases]
    assert names[0] == "diff"
    assert "TA101 mixed.txt:12" in names and "TA106 builtin:leading-space" in names
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "0")) == len(failures) == len(names)  # the check case plus one per finding
    assert all(c.find("failure").get("type") for c in failures)


ANNOTATION = re.compile(r"^::(error|warning|notice) title=([^:,\r\n%]|%25|%0D|%0A|%3A|%2C)*::([^\r\n%]|%25|%0D|%0A)*$")


def test_github_annotations_follow_the_workflow_command_grammar() -> None:
    lines = _diff_output("github").splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert annotations and all(ANNOTATION.match(line) for line in annotations), annotations[:3]
    assert any(line.startswith("::error title=TA101 special-token::") for line in annotations)


def test_github_escaping_of_newlines_percent_and_colons() -> None:
    from tokaudit.report.github import escape_data, escape_property

    assert escape_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    buf = io.StringIO()
    report = Report("diff", (Finding("TA106", Severity.ERROR, "line one\nline: two 100%", category="whitespace"),))
    FORMATTERS["github"](report, buf)
    first = buf.getvalue().splitlines()[0]
    assert ANNOTATION.match(first) and first.endswith("line one%0Aline: two 100%25")


def test_markdown_summary_escapes_tags_and_pipes() -> None:
    out = _diff_output("markdown")
    assert out.startswith("### tokaudit diff: ❌ skew found")
    assert "&lt;s&gt;" in out and "| `TA101` |" in out
    assert "<s>" not in out  # GitHub would swallow it as an HTML tag
