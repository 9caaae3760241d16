"""Every source loads a real tokenizer file through its own library and encodes like it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import (
    CL100K_FILE,
    CL100K_HF,
    FIXTURES,
    MINILM,
    MISTRAL_HF,
    MISTRAL_SP,
    MISTRAL_SP_DIR,
    MISTRAL_VLLM,
    gguf_vocab,
    mistral_data,
)
from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.registry import SOURCES
from tokaudit.sources.sides import load_side

CL100K_PATTERN = json.loads((Path(__file__).parent / "cl100k_pattern.json").read_text())

REAL = {
    "hf": dict(path=str(MISTRAL_HF)),
    "hf-slow": dict(path=str(MINILM)),
    "tokenizers": dict(path=str(MISTRAL_HF / "tokenizer.json")),
    "sentencepiece": dict(path=str(MISTRAL_SP)),
    "tiktoken": dict(encoding="cl100k_base"),
    "mistral-common": dict(path=str(mistral_data("tekken_240911.json"))),
    # the user's own code: tests/pipelines/compat.py, an AutoTokenizer behind a compatibility layer
    "python": dict(object="tests.pipelines.compat:build", args={"path": str(MISTRAL_HF)}),
    "dataset": dict(
        path=str(FIXTURES / "datasets" / "tokenized-mistral.jsonl"), text_field="text", ids_field="input_ids"
    ),
    "gguf": dict(path=str(gguf_vocab("gpt-2"))),
    "llama.cpp": dict(path=str(gguf_vocab("gpt-2"))),
    "vllm": dict(path=str(MISTRAL_VLLM)),
}
#: sources that encode text with a library (a `dataset` side has stored ids instead)
TOKENIZERS = sorted(n for n in SOURCES if n != "dataset")


def test_registry_is_covered() -> None:
    assert set(REAL) == set(SOURCES)


@pytest.mark.parametrize("name", TOKENIZERS)
def test_every_source_loads_and_encodes(name: str) -> None:
    tok = load_side(SideSpec(source=name, **REAL[name]))
    ids = tok.encode_all(["Hello world", "  two  spaces"])
    assert all(isinstance(x, list) and x for x in ids)
    described = tok.describe()
    assert described["source"] == name and described["version"] and described["backend"]
    assert tok.specials()
    # every id it produced maps back to bytes and a display piece
    for tid in ids[0]:
        assert tok.surface(tid) is not None
        assert isinstance(tok.piece(tid), str)


def test_sentencepiece_matches_the_library_and_keeps_specials_literal() -> None:
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(MISTRAL_SP))
    tok = load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP), add_bos=True))
    text = "x <s> y"
    assert tok.encode_all([text])[0] == [1, *sp.encode(text)]
    parsed = load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP), special_text="parse"))
    assert 1 in parsed.encode_all([text])[0]
    raising = load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP), special_text="raise"))
    assert isinstance(raising.encode_all([text])[0], str)


def test_hf_parses_specials_by_default_and_can_keep_them_literal() -> None:
    parse = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    literal = load_side(SideSpec(source="hf", path=str(MISTRAL_HF), special_text="literal"))
    assert parse.encode_all(["a</s>b"])[0].count(2) == 1
    assert 2 not in literal.encode_all(["a</s>b"])[0]
    assert parse.backend().startswith("LlamaTokenizer")


def test_hf_add_bos_false_overrides_the_post_processor() -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF), add_bos=False))
    assert tok.encode_all(["hello"])[0][0] != 1


def test_hf_python_backend_where_fast_was_asked_is_an_error(tmp_path: Path) -> None:
    # ByT5 has no fast tokenizer: AutoTokenizer(use_fast=True) quietly returns the Python class.
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "ByT5Tokenizer"}))
    with pytest.raises(SourceError, match="returned the Python backend ByT5Tokenizer"):
        load_side(SideSpec(source="hf", path=str(tmp_path)))


def test_hf_slow_reaches_the_legacy_python_class_for_bert() -> None:
    tok = load_side(SideSpec(source="hf-slow", path=str(MINILM)))
    assert not tok.tok.is_fast
    assert "PythonBackend" in tok.backend() or "PreTrainedTokenizer" in tok.backend()


def test_hf_slow_without_a_python_backend_says_so() -> None:
    import transformers

    if int(transformers.__version__.split(".")[0]) < 5:
        pytest.skip("transformers 4.x still ships the slow LlamaTokenizer")
    with pytest.raises(SourceError, match="has no Python backend for LlamaTokenizer"):
        load_side(SideSpec(source="hf-slow", path=str(MISTRAL_SP_DIR)))


@pytest.mark.parametrize(
    ("source", "make", "match"),
    [
        ("hf", lambda d: None, "cannot load"),
        ("hf", lambda d: (d / "tokenizer.json").write_text("{not json"), "cannot load"),
        ("tokenizers", lambda d: (d / "tokenizer.json").write_text('{"version": "1.0"}'), "not a readable"),
        ("tokenizers", lambda d: None, "no tokenizer.json"),
        ("sentencepiece", lambda d: (d / "tokenizer.model").write_bytes(b"\x00garbage"), "not a readable"),
        ("mistral-common", lambda d: (d / "tekken.json").write_text("{}"), "cannot load"),
    ],
)
def test_broken_or_missing_tokenizer_is_a_source_error(tmp_path: Path, source: str, make, match: str) -> None:
    make(tmp_path)
    files = {"sentencepiece": "tokenizer.model", "mistral-common": "tekken.json"}
    path = tmp_path / files[source] if source in files else tmp_path
    with pytest.raises(SourceError, match=match):
        load_side(SideSpec(source=source, path=str(path)))


def test_tiktoken_raises_on_specials_by_default_and_parses_when_asked() -> None:
    default = load_side(SideSpec(source="tiktoken", encoding="cl100k_base"))
    out = default.encode_all(["fine", "end <|endoftext|> here"])
    assert isinstance(out[0], list) and isinstance(out[1], str) and "endoftext" in out[1]
    parse = load_side(SideSpec(source="tiktoken", encoding="cl100k_base", special_text="parse"))
    assert 100257 in parse.encode_all(["end <|endoftext|> here"])[0]
    literal = load_side(SideSpec(source="tiktoken", encoding="cl100k_base", special_text="literal"))
    assert 100257 not in literal.encode_all(["end <|endoftext|> here"])[0]


def test_tiktoken_from_a_bpe_file_equals_the_registered_encoding() -> None:
    from_file = load_side(
        SideSpec(
            source="tiktoken",
            path=str(CL100K_FILE),
            pattern=CL100K_PATTERN,
            special_tokens={"<|endoftext|>": 100257},
        )
    )
    registered = load_side(SideSpec(source="tiktoken", encoding="cl100k_base"))
    texts = ["Hello  world 12345", "東京 éé\n\n x"]
    assert from_file.encode_all(texts) == registered.encode_all(texts)


def test_tiktoken_file_needs_a_pattern() -> None:
    with pytest.raises(SourceError, match="needs `pattern`"):
        load_side(SideSpec(source="tiktoken", path=str(CL100K_FILE)))


def test_tokenizers_reads_the_file_without_transformers_logic() -> None:
    tok = load_side(SideSpec(source="tokenizers", path=str(CL100K_HF / "tokenizer.json")))
    assert tok.encode_all(["<|endoftext|>"])[0] == [100256]


def test_mistral_common_sentencepiece_and_tekken() -> None:
    sp = load_side(SideSpec(source="mistral-common", path=str(mistral_data("tokenizer.model.v1"))))
    assert sp.encode_all(["Hello [INST]"])[0][0] == 1
    assert (
        sp.encode_all(["Hello"])[0]
        == load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP), add_bos=True)).encode_all(["Hello"])[0]
    )
    tekken = load_side(SideSpec(source="mistral-common", path=str(mistral_data("tekken_240911.json"))))
    assert tekken.surface(tekken.encode_all(["Hello"])[0][1]) == b"Hello"
