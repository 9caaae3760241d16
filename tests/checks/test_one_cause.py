"""One root cause, one finding: diff's signature keys the cause, not which special string or id is involved,
and the strings a group involves are counted exactly and merge in any order."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, mistral_data, side
from tokaudit.checks.groups import INVOLVED_SHOWN, Groups
from tokaudit.codes import finding
from tokaudit.config import load_config, settings_from_dict
from tokaudit.options import Options
from tokaudit.runner import run_checks
from tokaudit.sources.sides import load_sides

V7 = "mistral_instruct_tokenizer_241114.model.v7"
#: the control strings of v7's vocabulary that the built-in corpus types in text: transformers parses each,
#: SentencePiece keeps it as text (measured: before, one TA101 per string)
V7_SPECIAL_STRINGS = 749


def diff(settings: Any) -> Any:
    return run_checks(settings, load_sides(settings), "diff", Options())


@pytest.fixture(scope="module")
def v7_report(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Mistral's v7 instruct SentencePiece model against the HF tokenizer transformers builds from it."""
    folder = tmp_path_factory.mktemp("v7-hf")
    shutil.copy(mistral_data(V7), folder / "tokenizer.model")
    shutil.copy(ROOT / "fixtures" / "mistral-7b" / "tokenizer_config.json", folder / "tokenizer_config.json")
    data = {"training": side("sentencepiece", folder / "tokenizer.model", add_bos=True), "serving": side("hf", folder)}
    return diff(settings_from_dict(data, folder / "tokaudit.yaml"))


def test_v7_special_strings_typed_in_text_are_one_finding(v7_report: Any) -> None:
    findings = v7_report.findings
    assert len(findings) <= 8, [f.signature for f in findings]  # a handful: one screen
    (special,) = [f for f in findings if f.code == "TA101"]
    involved = special.detail["involved"]
    assert involved["count"] == special.count == V7_SPECIAL_STRINGS
    assert len(involved["strings"]) == INVOLVED_SHOWN and "[IMG]" in special.detail["involved"]["strings"]
    assert special.message.startswith(
        f"{V7_SPECIAL_STRINGS} special strings typed in text are control tokens on serving and plain text on training ("
    )
    assert special.signature == "special-token: ␣a|␣p ≠ ␣a|␣ …⟨special⟩"


def test_the_other_direction_is_another_cause(tmp_path: Path) -> None:
    # control on training and text on serving: the `…⟨special⟩` is on the other side of the signature
    from tests.conftest import MISTRAL_HF, MISTRAL_SP

    corpus = tmp_path / "c.txt"
    corpus.write_text("a <s> b\nx </s> y\n", encoding="utf-8")
    data = {
        "training": side("hf", MISTRAL_HF, add_bos=False),
        "serving": side("sentencepiece", MISTRAL_SP),
        "corpus": [str(corpus)],
        "builtin_corpus": False,
    }
    (f,) = diff(settings_from_dict(data, tmp_path / "t.yaml")).findings
    assert f.signature == "special-token: ␣a|␣ …⟨special⟩ ≠ ␣a|␣p" and f.count == 2
    assert f.message == (
        "2 special strings typed in text are control tokens on training and plain text on serving ('<s>', '</s>')"
    )


def test_specials_both_sides_parse_under_other_ids_are_one_id_mapping_finding() -> None:
    report = diff(load_config(ROOT / "configs" / "cl100k.yaml"))
    moved = [f for f in report.findings if f.category == "id-mapping"]
    # <|endoftext|> is serving's own EOS (its name stays); the four others are one finding
    assert sorted(f.detail["involved"]["count"] for f in moved) == [1, 4]
    (four,) = [f for f in moved if f.detail["involved"]["count"] == 4]
    assert four.message.startswith("4 special strings are control tokens on both sides under other ids (")


def test_involved_strings_merge_in_any_order_to_the_same_finding() -> None:
    made = finding("TA101", "one", sample="x", category="special-token")
    parts = []
    for k, names in enumerate([("[A]", "[B]"), ("[C]",), ("[B]", "[D]")]):
        g = Groups(keep=2)
        g.add("sig", (0, k, 0), f"f:{k}", made, names, "{n} strings ({examples})")
        parts.append(g)
    results = set()
    for order in itertools.permutations(parts):
        total = Groups(keep=2)
        for part in order:
            total.merge(part)
        (f,) = total.findings()
        results.add((f.message, f.count, tuple(f.detail["involved"]["strings"]), f.detail["involved"]["count"]))
    assert results == {("4 strings ('[A]', '[B]', '[C]', …)", 3, ("[A]", "[B]", "[C]", "[D]"), 4)}
