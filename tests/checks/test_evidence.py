"""The shared evidence helpers, on real strings and Mistral 7B's real SentencePiece model."""

from __future__ import annotations

import pytest

from tests.conftest import MISTRAL_SP
from tokaudit.checks.diff.divergence import Side, explain
from tokaudit.checks.evidence import (
    aligned_tokens,
    decode,
    first_diff,
    piece_token,
    show_bytes,
    side_tokens,
    token,
    tokens_around,
    visible,
    window,
)
from tokaudit.config import SideSpec
from tokaudit.findings import SideTokens, TokenView
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.sides import load_side

# "Hello world\n  x" on Mistral 7B: ▁Hello ▁world <0x0A> ▁ ▁x
HELLO = [22557, 1526, 13, 28705, 1318]


@pytest.fixture(scope="module")
def sp() -> Tokenizer:
    return load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP)))


def test_visible_marks_whitespace_and_invisible_characters() -> None:
    assert visible("a b\n\t\r\u00a0c") == "a␣b⏎⇥␍⍽c"
    assert visible("zero\u200bwidth\x00\u2028") == "zero<U+200B>width<U+0000><U+2028>"
    assert visible("") == "" and visible("é漢") == "é漢"


def test_bytes_are_shown_as_text_and_lone_bytes_as_escapes() -> None:
    assert show_bytes(b" \xc3\xa9") == "␣é"
    assert show_bytes(b"\xf0\x9f") == "\\xf0\\x9f"  # the first half of an emoji
    assert show_bytes(b"") == ""
    assert show_bytes(None) == "(no token)"
    assert decode(b"a\n\xff") == "a\n\\xff"  # decode keeps whitespace as it is


def test_first_diff_on_equal_prefix_and_differing_inputs() -> None:
    assert first_diff("same", "same") == 4
    assert first_diff("", "") == 0
    assert first_diff("abc", "abcdef") == 3 and first_diff("abcdef", "abc") == 3
    assert first_diff("", "x") == 0
    assert first_diff("xbc", "abc") == 0
    assert first_diff("Hello world", "Hello  world") == 6
    assert first_diff([1, 2, 3], [1, 2, 3]) == 3
    assert first_diff([1, 2], [1, 2, 9]) == 2
    assert first_diff([1, 5, 3], [1, 2, 3]) == 1


def test_window_in_short_text_has_no_ellipsis() -> None:
    assert window("Hello world", 6) == "Hello␣▶world"
    assert window("Hello world", 6, marks=False) == "Hello␣▶world"


def test_window_at_the_start_and_the_end_of_the_text() -> None:
    text = "one two three four five six seven"  # 33 characters
    assert window(text, 0) == "▶one␣two␣three␣four␣five␣…"
    assert window(text, 0, marks=False) == "▶one␣two␣three␣four␣five␣"
    assert window(text, len(text)) == "…hree␣four␣five␣six␣seven▶(end)"
    assert window(text, len(text), marks=False) == "hree␣four␣five␣six␣seven▶"
    assert window(text, 9) == "one␣two␣t▶hree␣four␣five␣six␣seven"  # 24 characters each side: no cut
    assert window("", 0) == "▶(end)"


def test_window_width_and_cut_on_both_sides() -> None:
    text = "a\tb\nc" * 10
    assert window(text, 25, 4) == "…⇥b⏎c▶a⇥b⏎…"
    assert window(text, 25, 4, marks=False) == "⇥b⏎c▶a⇥b⏎"


def test_token_views_from_a_real_tokenizer(sp: Tokenizer) -> None:
    assert sp.encode_rendered("Hello world\n  x", False) == HELLO
    assert token(sp, 1526) == {"id": 1526, "piece": "▁world", "text": "␣world"}
    assert token(sp, 13) == {"id": 13, "piece": "<0x0A>", "text": "⏎"}
    assert token(sp, 243) == {"id": 243, "piece": "<0xF0>", "text": "\\xf0"}  # a byte-fallback token
    assert token(sp, 1526, b"raw") == {"id": 1526, "piece": "▁world", "text": "raw"}  # the caller's bytes
    assert piece_token(sp, 1526) == {"id": 1526, "piece": "▁world", "text": "▁world"}
    assert set(token(sp, 1)) == set(TokenView.__required_keys__)


def test_tokens_around_an_index_at_the_start_middle_and_end(sp: Tokenizer) -> None:
    ids = [*HELLO, *HELLO]
    assert [t["id"] for t in tokens_around(sp, ids, 0)] == ids[:6]
    assert [t["id"] for t in tokens_around(sp, ids, 4)] == ids[2:10]
    assert [t["id"] for t in tokens_around(sp, ids, len(ids))] == ids[-2:]
    assert [t["text"] for t in tokens_around(sp, HELLO, 3, before=1, after=2)] == ["⏎", "␣", "␣x"]
    assert side_tokens(sp, HELLO, 0) == {"tokens": tokens_around(sp, HELLO, 0), "length": 5}


def test_aligned_tokens_of_two_encodings(sp: Tokenizer) -> None:
    one = sp.encode_rendered("Hello world", False)
    two = sp.encode_rendered("Hello  world", False)
    got = aligned_tokens((("training", sp, one), ("serving", sp, two)))
    assert got["token_index"] == 1
    assert [t["text"] for t in got["training"]["tokens"]] == ["␣Hello", "␣world"]
    assert [t["text"] for t in got["serving"]["tokens"]] == ["␣Hello", "␣", "␣world"]
    assert got["training"]["length"] == 2 and got["serving"]["length"] == 3
    same = aligned_tokens((("a", sp, one), ("b", sp, one)))
    assert same["token_index"] == 2 and same["a"] == same["b"]
    pieces = aligned_tokens((("a", sp, one), ("b", sp, two)), view=piece_token)
    assert [t["text"] for t in pieces["b"]["tokens"]] == ["▁Hello", "▁", "▁world"]


def test_diff_evidence_has_the_typed_shape(sp: Tokenizer) -> None:
    text = "Hello  world"
    a = Side("training", sp, sp.encode_rendered("Hello world", False), text_in=text)
    b = Side("serving", sp, sp.encode_rendered(text, False), text_in=text)
    detail = explain(text, a, b).detail
    assert detail["context"] == "Hello▶␣␣world"
    for name in ("training", "serving"):
        side: SideTokens = detail[name]
        assert set(side) == SideTokens.__required_keys__ | SideTokens.__optional_keys__
        assert all(set(t) == TokenView.__required_keys__ for t in side["tokens"])
