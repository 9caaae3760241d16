"""Every formatter shows diff's ablation: the component whose swap makes the two sides' ids equal."""

from __future__ import annotations

import io
import json

import pytest

from tokaudit.findings import Finding, Report, Severity
from tokaudit.report import FORMATTERS

VERDICT = "transformers' conversion of training's file does not give tiktoken's ids here"


def report() -> Report:
    tokens = {"tokens": [{"id": 2366, "piece": "202", "text": "202"}], "bos": False, "eos": False, "length": 5}
    detail = {
        "offset": 3,
        "context": "In␣▶2024",
        "training": tokens,
        "serving": tokens,
        "component": "pre_tokenizer",
        "ablation": {"components": ["pre_tokenizer"], "verdict": VERDICT, "encodes": 2, "baseline_encodes": 2},
    }
    plain = Finding("TA106", Severity.ERROR, "whitespace differs", sample="c.txt:9", category="whitespace")
    return Report(
        command="diff",
        findings=(
            Finding("TA107", Severity.ERROR, "same text, different split", "c.txt:3", "segmentation", detail=detail),
            plain,
        ),
    )


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_every_format_names_the_component(name: str) -> None:
    out = io.StringIO()
    FORMATTERS[name](report(), out, max_shown=20, color=False, width=200)
    text = out.getvalue()
    if name == "json":
        findings = {f["code"]: f["detail"] for f in json.loads(text)["findings"]}
        assert findings["TA107"]["component"] == "pre_tokenizer" and "component" not in findings["TA106"]
    else:
        assert "component: pre_tokenizer" in text or "| pre_tokenizer |" in text
        assert text.count("pre_tokenizer") == 1  # on the finding that has it, not on the other


def test_markdown_adds_the_column_only_when_a_finding_has_a_component() -> None:
    out = io.StringIO()
    FORMATTERS["markdown"](report(), out, max_shown=20, color=False, width=200)
    assert "| message | component |" in out.getvalue() and "| whitespace differs | |" in out.getvalue()
    plain = Report(command="diff", findings=report().findings[1:])
    out = io.StringIO()
    FORMATTERS["markdown"](plain, out, max_shown=20, color=False, width=200)
    assert "component" not in out.getvalue()


def test_table_html_and_junit_show_the_verdict_beside_it() -> None:
    for name in ("table", "html", "junit"):
        out = io.StringIO()
        FORMATTERS[name](report(), out, max_shown=20, color=False, width=400)
        assert "does not give tiktoken" in out.getvalue(), name
