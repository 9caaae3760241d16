"""Every format renders the summary through report.summary: per-check figures with labels, never a
Python repr. JSON alone keeps the raw values (its schema is the contract)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke
from tests.report.test_table_problems import SPECIAL
from tokaudit.findings import Report
from tokaudit.report import FORMATTERS

CHECK_SUMMARY = {
    "checks": ["diff", "mask-check"],
    "diff": {"samples_compared": 67, "share_tokens_affected": 0.054213, "by_category": {"special-token": 5}},
    "mask-check": {"strategy": "fastchat", "label_tokens": 1388, "share_label_tokens_wrong": 0.051546},
}
CHECK = Report("check", (SPECIAL,), summary=CHECK_SUMMARY)
#: a Python repr of a list or dict, or a share printed raw (the shipped configs' shares have 6 digits)
REPR = re.compile(r"\{'|\['|\b0\.\d{5,}\b")


def _render(fmt: str, report: Report) -> str:
    buf = io.StringIO()
    FORMATTERS[fmt](report, buf, color=False)
    return buf.getvalue()


def test_markdown_shows_a_table_of_figures_per_check() -> None:
    out = _render("markdown", CHECK)
    figures = out[out.index("| summary | |") :].strip()
    assert figures == "\n".join(
        [
            "| summary | |",
            "| --- | --- |",
            "| checks run | diff, mask-check |",
            "",
            "| diff | |",
            "| --- | --- |",
            "| samples compared | 67 |",
            "| share of tokens affected | 5.42% |",
            "| by category | special-token 5 |",
            "",
            "| mask-check | |",
            "| --- | --- |",
            "| mask strategy | fastchat |",
            "| label tokens | 1,388 |",
            "| share of label tokens wrong | 5.15% |",
        ]
    )
    assert "| | code | category | count | first seen | message |" in out
    assert "| ❌ | `TA101` | special-token | 1,234 | mixed.txt:12 |" in out


@pytest.mark.parametrize("fmt", sorted(set(FORMATTERS) - {"json"}))
def test_every_format_agrees_on_the_figures(fmt: str) -> None:
    out = _render(fmt, CHECK)
    assert not REPR.search(out), REPR.search(out)
    for shown in ("diff", "mask-check", "share of tokens affected", "5.42%", "label tokens", "1,388", "5.15%"):
        assert shown in out, (fmt, shown)


def test_json_keeps_the_raw_summary() -> None:
    data = json.loads(_render("json", CHECK))
    assert data["summary"] == CHECK_SUMMARY


CONFIGS = ("mistral-7b.yaml", "mask-fastchat.yaml")


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, object]]:
    """Each config's `check` summary as JSON has it (the raw values no other format may print)."""
    out = {}
    for config in CONFIGS:
        result = invoke("check", ROOT / "configs" / config, "--format", "json")
        assert result.exit_code == 1, result.output
        out[config] = json.loads(result.stdout)["summary"]
    return out


def _summary_part(fmt: str, out: str) -> str:
    """Where each format prints the summary (the findings around it quote corpus text, which may
    spell `{'a': [1, 2]}` itself)."""
    if fmt == "table":
        return out[out.rindex("\nsummary") :]
    if fmt == "markdown":
        return out[out.index("| summary | |") :]
    if fmt == "github":
        return "\n".join(line for line in out.splitlines() if not line.startswith("::"))
    if fmt == "junit":
        import xml.etree.ElementTree as ET

        failure = ET.fromstring(out.encode("utf-8")).find("testsuite/testcase/failure")
        assert failure is not None and failure.text
        return failure.text
    assert fmt == "html", fmt
    return out[out.index("<h2>summary</h2>") : out.index("<h2>details</h2>")]


def _raw_values(figures: dict[str, object]) -> list[str]:
    """What printing the summary's values as Python would show: dicts, lists, unrounded shares."""
    return [str(v) for v in figures.values() if isinstance(v, dict | list | float) and v]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("fmt", sorted(set(FORMATTERS) - {"json"}))
def test_shipped_check_reports_print_no_python_repr(
    config: str, fmt: str, raw: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    page = tmp_path / f"report.{fmt}"
    result = invoke("check", ROOT / "configs" / config, "--format", fmt, "-o", page)
    assert result.exit_code == 1, result.output
    out = page.read_text(encoding="utf-8")
    summary = raw[config]
    part = _summary_part(fmt, out)
    assert not REPR.search(part), REPR.search(part)
    assert "diff, vocab-check" in part
    for check in summary["checks"]:  # type: ignore[attr-defined]
        figures: dict[str, object] = summary[check]  # type: ignore[assignment]
        assert check in part, (fmt, check)
        for shown in _raw_values(figures):
            assert shown not in out, (fmt, check, shown)  # anywhere in the output, not only the summary
        for key, value in figures.items():
            if key.startswith("share"):
                assert f"{value:.2%}" in part, (fmt, key)
    assert "samples compared" in part and str(summary["diff"]["samples_compared"]) in part  # type: ignore[index]


def test_every_summary_key_of_the_shipped_checks_has_a_label(raw: dict[str, dict[str, object]]) -> None:
    from tokaudit.report.summary import LABELS

    keys = {"checks"} | {k for s in raw.values() for c in s["checks"] for k in s[c]}  # type: ignore[attr-defined]
    # diff --against and snapshot, which these configs do not run
    keys |= {"lock", "lock_created", "sample_sides_compared", "sample_sides_moved", "versions", "samples", "sides"}
    keys |= {"training_autotokenizer", "embedding_rows", "conversations"}
    assert keys - set(LABELS) == set()
