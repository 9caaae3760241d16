"""The one summary rendering every format but JSON uses: labels, numbers, shares, lists, dicts."""

from __future__ import annotations

from tokaudit.report import summary
from tokaudit.report.summary import Section

DIFF = {
    "samples_compared": 12345,
    "samples_differing": 16,
    "samples_skipped": 0,
    "distinct_divergences": 9,
    "tokens": 1531,
    "tokens_affected": 83,
    "share_tokens_affected": 0.054213,
    "by_category": {"special-token": 5, "whitespace": 11},
}

CHECK = {
    "checks": ["diff", "vocab-check"],
    "diff": {"samples_compared": 67, "share_tokens_affected": 0.054213},
    "vocab-check": {
        "training_ids": 32000,
        "embedding_rows": 32000,
        "roles": {"bos": "training '<s>' (id 1) / serving '<s>' (id 1)", "pad": "training none / serving none"},
        "vllm_tokenizer_mode_auto": "hf (no tekken.json)",
    },
}


def test_a_diff_summary_reads_as_labels_and_formatted_figures() -> None:
    assert summary.lines(DIFF) == [
        "samples compared: 12,345",
        "samples differing: 16",
        "samples skipped: 0",
        "distinct divergences: 9",
        "tokens compared: 1,531",
        "tokens affected: 83",
        "share of tokens affected: 5.42%",
        "by category: special-token 5, whitespace 11",
    ]


def test_a_check_summary_has_one_section_per_check() -> None:
    assert summary.sections(CHECK) == [
        Section(None, (("checks run", "diff, vocab-check"),)),
        Section("diff", (("samples compared", "67"), ("share of tokens affected", "5.42%"))),
        Section(
            "vocab-check",
            (
                ("training vocabulary size", "32,000"),
                ("model embedding rows", "32,000"),
                (
                    "special-token roles",
                    "bos: training '<s>' (id 1) / serving '<s>' (id 1); pad: training none / serving none",
                ),
                ("vLLM tokenizer_mode=auto", "hf (no tekken.json)"),
            ),
        ),
    ]
    assert summary.lines(CHECK) == [
        "checks run: diff, vocab-check",
        "diff:",
        "  samples compared: 67",
        "  share of tokens affected: 5.42%",
        "vocab-check:",
        "  training vocabulary size: 32,000",
        "  model embedding rows: 32,000",
        "  special-token roles: bos: training '<s>' (id 1) / serving '<s>' (id 1); pad: training none / serving none",
        "  vLLM tokenizer_mode=auto: hf (no tekken.json)",
    ]


def test_values_of_every_shape() -> None:
    assert summary.value("share_label_tokens_wrong", 0.051546) == "5.15%"
    assert summary.value("share_label_tokens_wrong", 0.0) == "0.00%"
    assert summary.value("share_label_tokens_wrong", 0.00001) == "<0.01%"
    assert summary.value("label_tokens", 1234567) == "1,234,567"
    assert summary.value("ratio", 0.5) == "0.5"
    assert summary.value("lock_created", None) == "—"
    assert summary.value("flag", True) == "yes"
    assert summary.value("checks", []) == "none"
    assert summary.value("by_category", {}) == "none"
    assert summary.value("by_category", {"whitespace": 1200}) == "whitespace 1,200"


def test_unknown_keys_fall_back_to_a_readable_key() -> None:
    assert summary.label("samples_compared") == "samples compared"
    assert summary.label("brand_new_figure") == "brand new figure"
    assert summary.lines({"brand_new_figure": 3}) == ["brand new figure: 3"]


def test_a_check_named_in_checks_without_a_section_stays_a_plain_row() -> None:
    assert summary.sections({"checks": ["diff"]}) == [Section(None, (("checks run", "diff"),))]
    assert summary.sections({}) == []
