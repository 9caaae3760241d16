"""The cause of a break between two id sequences, on the Qwen2 vocabulary (ids from the library itself)."""

from __future__ import annotations

import pytest

from tests.rollouts import data as d
from tokaudit.checks.rollout import boundary
from tokaudit.config import SideSpec
from tokaudit.sources.hf import HFTokenizer


@pytest.fixture(scope="module")
def tok() -> HFTokenizer:
    return HFTokenizer(SideSpec(source="hf", path=str(d.QWEN)))


def ids(text: str) -> list[int]:
    return list(d.tokenizer().encode(text, add_special_tokens=False))


@pytest.mark.parametrize(
    ("before", "after", "cause"),
    [
        # the previous turn ended in "\n"; the next prompt encodes "\n\n" as one token: same text
        ("Answer.\n", "Answer.\n\nNext question", boundary.MERGE),
        ("Hi<|im_end|>\n<|im_start|>user", "Hi<|im_end|>\n\n<|im_start|>user\nMore", boundary.WHITESPACE),
        ("It is 21 °C.<|im_end|>", "It is 21 °C.<|endoftext|>\n<|im_start|>user", boundary.END_CHANGED),
        ("<think>\nLet me see.\n</think>\n\nIt is 21.", "It is 21.<|im_end|>", boundary.REASONING_DROPPED),
        ("a: 1;", "a= 1;", boundary.SEPARATOR_CHANGED),
        ('{"city": "Paris", "days": 3}', '{"town": "Lyon", "days": 3}', boundary.CONTENT),
    ],
)
def test_causes(tok: HFTokenizer, before: str, after: str, cause: str) -> None:
    a, b = ids(before), ids(after)
    i = boundary.prefix_break(a, b)
    assert i is not None
    assert boundary.explain(tok, a, b, i).cause == cause


def test_a_prefix_is_no_break(tok: HFTokenizer) -> None:
    a = ids("Hello<|im_end|>")
    assert boundary.prefix_break(a, a + ids("\n<|im_start|>user")) is None


def test_reasoning_content_names_the_dropped_text(tok: HFTokenizer) -> None:
    a, b = ids("I should call the tool.\nOK."), ids("OK.")
    brk = boundary.explain(tok, a, b, 0, ["I should call the tool."])
    assert brk.cause == boundary.REASONING_DROPPED and brk.removed.startswith("I␣should")
