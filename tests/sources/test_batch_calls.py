"""diff encodes in batches (the libraries' own batch calls, some of them multi-threaded); a server
encodes one request at a time. The two must give the same ids, or the audit would test another path."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS_TXT
from tests.sources.test_sources import REAL, TOKENIZERS
from tokaudit.config import SideSpec
from tokaudit.corpus import BUILTIN_CASES
from tokaudit.sources.sides import load_side

TEXTS = [line for line in CORPUS_TXT.read_text(encoding="utf-8").splitlines() if line] + list(BUILTIN_CASES.values())


@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("special_text", ["parse", "literal"])
def test_a_batch_call_gives_the_ids_of_one_call_per_text(name: str, special_text: str) -> None:
    tok = load_side(SideSpec(source=name, special_text=special_text, **REAL[name]))
    batched = tok.encode_all(TEXTS)
    one_by_one = [tok.encode_all([t])[0] for t in TEXTS]
    assert batched == one_by_one


def test_the_hf_batch_call_is_the_tokenizer_s_own_single_call() -> None:
    # what vLLM calls per request: tokenizer(text).input_ids on the fast tokenizer
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(REAL["hf"]["path"])
    tok = load_side(SideSpec(source="hf", **REAL["hf"]))
    assert tok.encode_all(TEXTS) == [hf(t)["input_ids"] for t in TEXTS]
