"""Formatters read a finding's token evidence through `findings.token_evidence`, in the typed shape."""

from __future__ import annotations

import io

from tokaudit.findings import Finding, Report, Severity, SideTokens, TokenView, token_evidence
from tokaudit.report import FORMATTERS


def _tokens(*tokens: tuple[int, str, str]) -> list[TokenView]:
    return [TokenView(id=i, piece=piece, text=text) for i, piece, text in tokens]


TRAINING = SideTokens(tokens=_tokens((22557, "▁Hello", "␣Hello"), (1526, "▁world", "␣world")), length=2)
SERVING = SideTokens(
    tokens=_tokens((22557, "▁Hello", "␣Hello"), (28705, "▁", "␣"), (1526, "▁world", "␣world")),
    bos=False,
    eos=False,
    length=3,
)
FINDING = Finding(
    "TA106",
    Severity.ERROR,
    "whitespace is tokenized differently",
    sample="c.txt:1",
    category="whitespace",
    detail={"offset": 5, "context": "Hello▶␣␣world", "token_index": 1, "training": TRAINING, "serving": SERVING},
)


def _render(fmt: str, finding: Finding) -> str:
    buf = io.StringIO()
    FORMATTERS[fmt](Report("diff", (finding,)), buf, color=False)
    return buf.getvalue()


def test_token_evidence_returns_each_side_in_order() -> None:
    assert token_evidence(FINDING) == {"training": TRAINING, "serving": SERVING}
    one = Finding("TA304", Severity.ERROR, "double BOS", detail={"serving": SERVING})
    assert token_evidence(one) == {"serving": SERVING}


def test_token_evidence_is_none_without_tokens() -> None:
    assert token_evidence(Finding("TA001", Severity.WARNING, "no detail")) is None
    # template-check's TA305 keeps the training *rendering* (a string) under "training"
    prompt = Finding("TA305", Severity.ERROR, "not a prefix", detail={"training": "[INST]␣hi", "prompt": "x"})
    assert token_evidence(prompt) is None
    assert token_evidence(Finding("TA2", Severity.INFO, "m", detail={"training": {"ids": [1]}})) is None


def test_table_shows_both_sides_tokens_aligned_in_columns() -> None:
    lines = [line.strip("│").rstrip() for line in _render("table", FINDING).splitlines()]
    start = next(k for k, line in enumerate(lines) if line.startswith("  training"))
    assert lines[start : start + 4] == [
        "  training  ␣Hello  ␣world",
        "            22557   1526",
        "  serving   ␣Hello  ␣       ␣world",
        "            22557   28705   1526",
    ]


def test_table_without_token_evidence_has_no_token_rows() -> None:
    out = _render("table", Finding("TA001", Severity.WARNING, "model.revision is 'main'", where="model.revision"))
    assert "training" not in out and "serving" not in out


def test_html_shows_each_token_with_its_piece_and_id() -> None:
    out = _render("html", FINDING)
    assert '<div class="name">serving</div>' in out
    assert '<span class="tok t1" title="▁">␣<small>28705</small></span>' in out
    assert out.count('class="tok ') == 5
