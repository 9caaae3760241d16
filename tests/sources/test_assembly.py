"""A side's Assembly (capabilities.Pipeline / Converted) is the pipeline it encodes with, taken apart and rebuilt
with the real tokenizers library: unchanged it gives the side's own ids, and each swap changes only its part."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CL100K_HF, MINILM, MISTRAL_HF, gguf_vocab
from tokaudit.config import SideSpec
from tokaudit.corpus import builtin_samples
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import COMPONENTS, Assembly, Converted, Pipeline
from tokaudit.sources.sides import load_side

PIPELINES: dict[str, dict[str, Any]] = {
    "hf mistral": dict(source="hf", path=str(MISTRAL_HF)),
    "hf mistral add_bos, literal": dict(source="hf", path=str(MISTRAL_HF), add_bos=True, special_text="literal"),
    "hf minilm": dict(source="hf", path=str(MINILM)),
    "hf cl100k": dict(source="hf", path=str(CL100K_HF)),
    "tokenizers minilm (truncation, padding)": dict(source="tokenizers", path=str(MINILM / "tokenizer.json")),
    "tokenizers mistral no BOS": dict(source="tokenizers", path=str(MISTRAL_HF), add_special_tokens=False),
    "gguf gpt-2": dict(source="gguf", path=str(gguf_vocab("gpt-2"))),
}


def texts(tok: Tokenizer) -> list[str]:
    return [s.text for s in builtin_samples(tok.specials())] + ["In 2024 we paid $1,299.99", "word " * 200]


def assembly(tok: Tokenizer) -> Assembly:
    return tok.pipeline() if isinstance(tok, Pipeline) else tok.conversion()  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_a_pipeline_side_rebuilt_unchanged_gives_its_own_ids(name: str) -> None:
    tok = load_side(SideSpec(**PIPELINES[name]))
    assert isinstance(tok, Pipeline) and not isinstance(tok, Converted)
    a = tok.pipeline()
    lines = texts(tok)
    assert [a.encode(t) for t in lines] == tok.encode_all(lines)
    # its own parts put back change nothing, and cost one encode each
    before = a.encodes
    assert a.encode(lines[0], dict(a.parts())) == tok.encode_all(lines[:1])[0]
    assert a.encodes == before + 1 and set(a.parts()) == set(COMPONENTS) and a.library_parts() == {}


def test_tiktokens_own_split_and_ids_in_its_conversion_give_tiktokens_ids() -> None:
    tok = load_side(SideSpec(source="tiktoken", encoding="cl100k_base", special_text="parse"))
    conversion = assembly(tok)
    lines = texts(tok)
    own = tok.encode_all(lines)
    assert [conversion.encode(t) for t in lines] != own  # digits split otherwise, special ids moved
    assert [conversion.encode(t, conversion.library_parts()) for t in lines] == own


def test_one_swap_changes_only_what_that_component_does() -> None:
    trained = assembly(load_side(SideSpec(source="tokenizers", path=str(MINILM / "tokenizer.json"))))
    served = assembly(load_side(SideSpec(source="hf", path=str(MINILM))))
    text = "Paris is lovely"
    padded = trained.encode(text)
    assert len(padded) == 128 and served.encode(text) == padded[: padded.index(0)]
    assert served.encode(text, {"truncation": trained.parts()["truncation"]}) == padded
    # the decoder makes text from ids: it cannot change them
    assert served.encode(text, {"decoder": None}) == served.encode(text)
    # no post-processor run: no [CLS] / [SEP]
    bare = {"post_processor": {"post_processor": None, "bos": None, "eos": None}}
    assert served.encode(text, bare) == served.encode(text)[1:-1]


def test_a_sentencepiece_side_needs_the_config_that_names_its_class(tmp_path: Any) -> None:
    import shutil

    from tokaudit.sources.capabilities import NoPipeline

    shutil.copy(MISTRAL_HF.parent / "mistral-7b" / "tokenizer.model", tmp_path / "tokenizer.model")
    tok = load_side(SideSpec(source="sentencepiece", path=str(tmp_path / "tokenizer.model")))
    assert isinstance(tok, Converted)
    with pytest.raises(NoPipeline, match="no tokenizer_config.json beside it"):
        tok.conversion()
