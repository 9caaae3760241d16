"""The `llama.cpp` source is llama.cpp's own tokenizer: on llama.cpp's test strings it gives the ids the
original Hugging Face tokenizers gave (the .out files llama.cpp's tests/test-tokenizer-0 checks)."""

from __future__ import annotations

import pytest

from tests.conftest import gguf_vocab, needs_llama_cpp
from tests.gguf_files import read_tests
from tokaudit.config import SideSpec
from tokaudit.sources.sides import load_side

pytestmark = needs_llama_cpp

#: the shipped families: SentencePiece (Llama 2, Phi-3), byte-level BPE with five pre-tokenizers, WordPiece
FAMILIES = ["llama-spm", "phi-3", "gpt-2", "starcoder", "falcon", "deepseek-coder", "qwen2", "bert-bge"]


@pytest.mark.parametrize("family", FAMILIES)
def test_llama_cpp_reproduces_the_golden_ids(family: str) -> None:
    path = gguf_vocab(family)
    # as test-tokenizer-0.cpp calls it: common_tokenize(ctx, text, add_special=false, parse_special=false)
    tok = load_side(SideSpec(source="llama.cpp", path=str(path), add_bos=False, add_eos=False, special_text="literal"))
    tests = read_tests(path)
    assert len(tests) >= 40
    got = tok.encode_all([text for text, _ in tests])
    wrong = [(text, ids, want) for (text, want), ids in zip(tests, got) if ids != want]
    assert wrong == []


def test_the_default_call_is_llama_servers() -> None:
    """add_special on (llama.cpp adds BOS as the GGUF says) and special text parsed."""
    path = gguf_vocab("llama-spm")
    tok = load_side(SideSpec(source="llama.cpp", path=str(path)))
    bare = load_side(SideSpec(source="llama.cpp", path=str(path), add_bos=False, special_text="literal"))
    ids = tok.encode_all(["Hello</s>"])[0]
    assert ids[0] == tok.bos_id == 1 and ids[-1] == 2  # BOS added, `</s>` parsed into the control token
    assert bare.encode_all(["Hello</s>"])[0][0] != 1 and 2 not in bare.encode_all(["Hello</s>"])[0]
    # pieces and bytes come from llama.cpp itself
    assert tok.piece(1) == "<s>" and tok.surface(15043) == b" Hello"
    assert "</s>" in tok.specials() and tok.roles()["bos"] == ("<s>", 1)
