"""docs/codes.md's decision table, one row at a time: each category is a statement about the first differing
tokens. Both sides are Mistral 7B's real SentencePiece model given two real token sequences for one text, so
each rule is tested on exactly the stretch it reads (the pairs that really produce them are in
test_category_regression.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import MISTRAL_SP
from tokaudit.checks.diff.categories import DECISION_ORDER, Stretch
from tokaudit.checks.diff.divergence import CATEGORIES, Side, explain
from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.sides import load_side

BOS, UNK, S_CTL = 1, 0, 1  # <s> is id 1: as BOS, and as the control token for "<s>" typed in text
SP = {  # Mistral 7B pieces -> ids
    "▁Hello": 22557, "Hello": 16230, "▁w": 275, "orld": 2534, "▁wor": 1045, "ld": 417, "▁world": 1526, "world": 9471,
    "▁": 28705, "▁▁": 259, "▁after": 1024, ",": 28725, "▁▁▁": 2287, "▁return": 604, "return": 807,
    "▁caf": 18302, "é": 28797,
    "<0xC3>": 198, "<0xA9>": 172, "▁<": 523, "s": 28713, ">": 28767, "▁a": 264, "▁b": 287, "▁x": 1318,
}  # fmt: skip


@pytest.fixture(scope="module")
def sp() -> Tokenizer:
    return load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP)))


def verdict(sp: Tokenizer, text: str, a: list[str | int], b: list[str | int]) -> tuple[str, str]:
    ids = [[SP[p] if isinstance(p, str) else p for p in side] for side in (a, b)]
    div = explain(text, Side("training", sp, ids[0], text_in=text), Side("serving", sp, ids[1], text_in=text))
    return div.category, div.message


def test_the_decision_order_covers_every_category_once() -> None:
    assert sorted(DECISION_ORDER) == sorted(CATEGORIES)


def test_same_leading_space_other_split_of_the_word_is_segmentation(sp: Tokenizer) -> None:
    # the bug that sent people after add_prefix_space: both keep "▁" on the word, and cut the word elsewhere
    category, message = verdict(sp, "Hello world", ["▁Hello", "▁w", "orld"], ["▁Hello", "▁wor", "ld"])
    assert category == "segmentation"
    assert message == "same text, different split at character 5: training [␣w, orld] vs serving [␣wor, ld]"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (["▁Hello", "▁", "▁world"], ["▁Hello", "▁▁", "world"]),  # a run split elsewhere
        (["▁▁", "return"], ["▁", "▁return"]),  # a space token of its own vs one merged into the word
        (["▁▁▁", "▁return"], ["▁▁", "▁", "▁return"]),  # the same run, other cuts inside it
    ],
)
def test_whitespace_placed_differently_is_whitespace(sp: Tokenizer, a: list[str], b: list[str]) -> None:
    stretch_a, stretch_b = (Stretch(tuple(sp.surface(SP[p]) or b"" for p in s), Counter(), 0) for s in (a, b))
    assert stretch_a.raw == stretch_b.raw and stretch_a.whitespace_cuts() != stretch_b.whitespace_cuts()
    assert verdict(sp, "x", a, b)[0] == "whitespace"


def test_a_dropped_prefix_space_is_whitespace(sp: Tokenizer) -> None:
    assert verdict(sp, "Hello", ["▁Hello"], ["Hello"]) == (
        "whitespace",
        "whitespace is tokenized differently at character 0: training [␣Hello] vs serving [Hello]",
    )


def test_byte_fallback_on_one_side_is_unknown(sp: Tokenizer) -> None:
    category, message = verdict(sp, "café", ["▁caf", "é"], ["▁caf", "<0xC3>", "<0xA9>"])
    assert category == "unknown" and message.startswith("serving falls back to unknown or byte tokens")


def test_other_text_without_fallback_is_normalization(sp: Tokenizer) -> None:
    # SentencePiece exposes no normalizer: the stretches stand for other text ("é" vs "e")
    category, _ = verdict(sp, "café", ["▁caf", "é"], ["▁caf", 28706])  # 28706: "e"
    assert category == "normalization"


def test_a_typed_special_that_one_side_parses_is_special_token(sp: Tokenizer) -> None:
    text = "a <s> b"
    category, message = verdict(sp, text, ["▁a", "▁<", "s", ">", "▁b"], ["▁a", "▁", S_CTL, "▁b"])
    assert category == "special-token"
    assert message == "'<s>' in the text is a control token on serving (id 1) but plain text on training"


def test_a_special_parsed_further_on_does_not_decide_an_earlier_divergence(sp: Tokenizer) -> None:
    # the first difference is a split of "world"; the `<s>` after it is another problem of the same sample
    text = "Hello world <s>"
    a = ["▁Hello", "▁w", "orld", "▁<", "s", ">"]
    b = ["▁Hello", "▁wor", "ld", "▁", S_CTL]
    assert verdict(sp, text, a, b)[0] == "segmentation"


def test_bos_on_one_side_is_bos_eos_and_an_eos_only_when_the_text_agrees(sp: Tokenizer) -> None:
    assert verdict(sp, "Hello", [BOS, "▁Hello"], ["▁Hello"])[0] == "bos-eos"
    assert verdict(sp, "Hello", ["▁Hello", 2], ["▁Hello"])[0] == "bos-eos"
    # the text's tokens part ways first: that is the divergence, not the EOS at the end
    assert verdict(sp, "Hello world", ["▁Hello", "▁w", "orld", 2], ["▁Hello", "▁wor", "ld"])[0] == "segmentation"


def test_one_side_stopping_early_is_truncation_unless_only_whitespace_is_missing(sp: Tokenizer) -> None:
    assert verdict(sp, "Hello world", ["▁Hello", "▁world"], ["▁Hello"])[0] == "truncation"
    assert verdict(sp, "Hello ", ["▁Hello", "▁"], ["▁Hello"])[0] == "whitespace"


def test_same_bytes_under_another_id_is_id_mapping(sp: Tokenizer) -> None:
    # "▁" as the vocabulary's space piece and as the byte-fallback piece <0x20>: the same bytes, two ids
    assert verdict(sp, "Hello ", ["▁Hello", "▁"], ["▁Hello", 35])[0] == "id-mapping"


def test_an_unk_for_text_nobody_typed_is_unknown_not_special_token(sp: Tokenizer) -> None:
    # one side emits <unk>, the other spells the character in bytes: both fall back, differently
    category, message = verdict(sp, "x 𓀀", ["▁x", "▁", UNK], ["▁x", "▁", 243, 150, 131, 131])
    assert category == "unknown" and message.startswith("training and serving fall back")


def test_the_first_differing_id_decides_when_it_is_an_added_one(sp: Tokenizer) -> None:
    # both add a token before the text, under other ids: id-mapping, whatever differs later in the text
    assert verdict(sp, "Hello world", [BOS, "▁Hello", "▁w", "orld"], [2, "▁Hello", "▁wor", "ld"])[0] == "id-mapping"
    # BOS on one side only comes before a special typed later in the text
    text = "a <s> b"
    assert verdict(sp, text, [BOS, "▁a", "▁<", "s", ">", "▁b"], ["▁a", "▁", S_CTL, "▁b"])[0] == "bos-eos"


def test_one_more_space_after_a_control_token_lines_up_after_the_word(sp: Tokenizer) -> None:
    # serving puts a space of its own after each `</s>`: the stretch is [␣after] vs [␣, ␣after], not the
    # comma paired with a word because their byte counts happen to match
    text = "</s> after, </s> after"
    a = [2, "▁after", ",", 2, "▁after"]
    b = [2, "▁", "▁after", ",", 2, "▁", "▁after"]
    assert verdict(sp, text, a, b) == (
        "whitespace",
        "whitespace is tokenized differently at character 4: training [␣after] vs serving [␣, ␣after]",
    )
