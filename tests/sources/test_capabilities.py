"""Which optional capabilities each registered source implements, and what each capability method returns."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, MINILM, MISTRAL_HF, mistral_data
from tests.sources.test_sources import REAL
from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import (
    CAPABILITIES,
    AssistantMasker,
    ChatEncoder,
    Refused,
    ResolutionReporter,
)
from tokaudit.sources.registry import SOURCES, source_class
from tokaudit.sources.sides import load_side

GENERATION = FIXTURES / "templates" / "mistral-instruct-generation.jinja"
CHAT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}]

EXPECTED: dict[str, set[str]] = {
    "hf": {"AssistantMasker", "Pipeline", "Reloadable", "ResolutionReporter"},
    "hf-slow": {"AssistantMasker", "Reloadable", "ResolutionReporter"},
    "tokenizers": {"Pipeline"},
    "sentencepiece": {"Converted"},
    "tiktoken": {"Converted"},
    "mistral-common": {"ChatEncoder", "Converted"},
    "python": set(),
    "dataset": {"StoredTokens"},
    "gguf": {"AssistantMasker", "GgufBacked", "Pipeline"},
    "llama.cpp": {"GgufBacked"},
    "vllm": {"ChatServer", "ResolutionReporter"},
}


def load(name: str) -> Tokenizer:
    return load_side(SideSpec(source=name, **REAL[name]))


def implemented(obj: object) -> set[str]:
    return {name for name, cap in CAPABILITIES.items() if isinstance(obj, cap)}


def test_every_registered_source_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SOURCES) == set(REAL)
    assert set().union(*EXPECTED.values()) == set(CAPABILITIES), "a capability no source implements"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_source_implements_exactly_its_capabilities(name: str) -> None:
    tok = load(name)
    assert implemented(tok) == EXPECTED[name]
    # the class says the same as the loaded side: a capability is a method, not something set at load time
    assert {n for n, cap in CAPABILITIES.items() if issubclass(source_class(name), cap)} == EXPECTED[name]


def test_the_tokenizer_protocol_itself_has_no_capability() -> None:
    assert implemented(Tokenizer) == set()
    assert {n for n, cap in CAPABILITIES.items() if issubclass(Tokenizer, cap)} == set()


# -- AssistantMasker -------------------------------------------------------------------------------
def test_assistant_mask_marks_the_generation_block() -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    assert isinstance(tok, AssistantMasker)
    ids, mask = tok.assistant_mask(CHAT, GENERATION.read_text(encoding="utf-8"))
    assert len(ids) == len(mask) and all(isinstance(i, int) for i in ids)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    trained = [i for i, m in zip(ids, mask) if m]
    # the reply and </s> are in {% generation %}; [INST] Hi [/INST] is not
    assert b"".join(tok.surface(i) or b"" for i in trained).decode().strip() == "Hello there.</s>"
    assert mask == [False] * (len(ids) - len(trained)) + [True] * len(trained)


def test_assistant_mask_wraps_the_templates_refusal() -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    assert isinstance(tok, AssistantMasker)
    with pytest.raises(Refused, match=r"^TemplateError: Conversation roles must alternate"):
        tok.assistant_mask(CHAT[1:], GENERATION.read_text(encoding="utf-8"))


# -- ResolutionReporter ----------------------------------------------------------------------------
def test_resolution_of_the_fast_backend() -> None:
    import transformers

    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    assert isinstance(tok, ResolutionReporter)
    r = tok.resolution()
    assert r.library == "transformers" and r.version == transformers.__version__
    assert r.cls.startswith("LlamaTokenizer") and r.fast and r.backend == "tokenizers (Rust)"
    assert r.legacy is True  # fixtures/mistral-7b-hf/tokenizer_config.json: "legacy": true


def test_resolution_of_the_python_backend() -> None:
    tok = load_side(SideSpec(source="hf-slow", path=str(MINILM)))
    assert isinstance(tok, ResolutionReporter)
    r = tok.resolution()
    assert r.cls.startswith("BertTokenizer") and not r.fast and r.backend == "Python"
    assert r.legacy is None  # BertTokenizer has no `legacy`


# -- ChatEncoder -----------------------------------------------------------------------------------
def test_encode_chat_is_mistral_commons_own_encoding() -> None:
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    path = mistral_data("tekken_240911.json")
    tok = load_side(SideSpec(source="mistral-common", path=str(path)))
    assert isinstance(tok, ChatEncoder)
    prompt = tok.encode_chat(CHAT[:1])
    expected = MistralTokenizer.from_file(str(path)).encode_chat_completion(ChatCompletionRequest.from_openai(CHAT[:1]))
    assert prompt == list(expected.tokens)
    assert [tok.piece(i) for i in prompt] == ["<s>", "[INST]", "Hi", "[/INST]"]
    # ending with the assistant is training data (finetuning mode): the reply and EOS follow the prompt
    full = tok.encode_chat(CHAT)
    assert full[: len(prompt)] == prompt and full[-1] == tok.eos_id
    assert "".join(tok.piece(i) for i in full[len(prompt) : -1]) == "Hello there."


def test_encode_chat_wraps_mistral_commons_refusal() -> None:
    tok = load_side(SideSpec(source="mistral-common", path=str(mistral_data("tekken_240911.json"))))
    assert isinstance(tok, ChatEncoder)
    with pytest.raises(Refused, match=r"^InvalidMessageStructureException: Conversation must have at least one"):
        tok.encode_chat([])
