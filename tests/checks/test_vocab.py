"""vocab-check on real tokenizers: each finding code from real files, and none where the sides agree."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.checks.vocab_fixtures import (
    MISTRAL_INST,
    chatml_copy,
    edit_tokenizer_json,
    minilm_config,
    mistral_checkpoint,
    mistral_copy,
)
from tests.conftest import (
    CL100K_FILE,
    CL100K_HF,
    MINILM,
    MISTRAL_HF,
    MISTRAL_SP,
    MISTRAL_VLLM,
    gguf_vocab,
    mistral_data,
    side,
    write_config,
)
from tokaudit.checks.base import CheckResult
from tokaudit.checks.vocab import check as vocab
from tokaudit.checks.vocab.files import constructs
from tokaudit.checks.vocab.resolution import mistral_routing
from tokaudit.config import SideSpec, load_config
from tokaudit.findings import Finding, Severity
from tokaudit.options import Options
from tokaudit.sources.registry import SOURCES
from tokaudit.sources.sides import load_side, load_sides

REAL = {
    "hf": {"path": str(MISTRAL_HF)},
    "hf-slow": {"path": str(MINILM)},
    "tokenizers": {"path": str(CL100K_HF / "tokenizer.json")},
    "sentencepiece": {"path": str(MISTRAL_SP)},
    "tiktoken": {"encoding": "cl100k_base"},
    "mistral-common": {"path": str(mistral_data("tekken_240911.json"))},
    "python": {"object": "tests.pipelines.compat:build", "args": {"path": str(MISTRAL_HF)}},
    "gguf": {"path": str(gguf_vocab("gpt-2"))},
    "llama.cpp": {"path": str(gguf_vocab("gpt-2"))},
    "vllm": {"path": str(MISTRAL_VLLM)},
}
TOKENIZERS = sorted(n for n in SOURCES if n != "dataset")
CL100K_PATTERN = json.loads((Path(__file__).parent.parent / "sources" / "cl100k_pattern.json").read_text())


def check(tmp_path: Path, training: dict[str, Any], serving: dict[str, Any], **extra: Any) -> CheckResult:
    settings = load_config(write_config(tmp_path, {"training": training, "serving": serving, **extra}))
    return vocab.run(settings, load_sides(settings), Options())


def by_code(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def codes(result: CheckResult) -> set[str]:
    return {f.code for f in result.findings}


# -- every source reads its whole vocabulary, and agrees with the per-id surface the diff uses ------
@pytest.mark.parametrize("name", TOKENIZERS)  # a `dataset` side has no vocabulary of its own
def test_every_source_reads_its_vocabulary(name: str) -> None:
    tok = load_side(SideSpec(source=name, **REAL[name]))
    surfaces = tok.vocab_bytes()
    assert len(surfaces) > 30000
    step = max(1, len(surfaces) // 2000)
    assert all(surfaces[i] == tok.surface(i) for i in range(0, len(surfaces), step))
    assert all(surfaces[e.id] == content.encode() for content, e in tok.added_tokens().items())
    regular = [i for i in range(300, 310) if surfaces[i] is not None]
    decoded = tok.decode_each(regular)
    assert len(decoded) == len(regular) and all(isinstance(t, str) and t for t in decoded)


# -- the same tokenizer through two libraries: nothing to report ----------------------------------
@pytest.mark.parametrize(
    ("training", "serving"),
    [
        (side("tokenizers", MISTRAL_HF / "tokenizer.json"), side("hf", MISTRAL_HF)),
        (side("hf-slow", MINILM), side("hf", MINILM)),
        (side("sentencepiece", MISTRAL_SP), side("mistral-common", MISTRAL_SP)),
    ],
    ids=["mistral-tokenizers-vs-hf", "minilm-slow-vs-fast", "sp-vs-mistral-common"],
)
def test_same_tokenizer_two_sources_has_no_findings(tmp_path: Path, training: dict, serving: dict) -> None:
    result = check(tmp_path, training, serving)
    assert result.findings == []
    assert result.summary["ids_compared"] > 29000 and result.summary["ids_differing"] == 0
    assert result.summary["round_trip_ids"] == result.summary["ids_compared"]


def test_chat_template_and_generation_config_that_agree_have_no_findings(tmp_path: Path) -> None:
    folder = chatml_copy(tmp_path, generation_eos=[2, 32001])
    result = check(tmp_path, side("tokenizers", folder), side("hf", folder))
    assert result.findings == [] and result.skipped == []
    assert "'<|im_end|>' (id 32001)" in result.summary["roles"]["end-of-turn token"]


# -- special tokens ---------------------------------------------------------------------------
def test_cl100k_tiktoken_vs_its_hf_conversion(tmp_path: Path) -> None:
    result = check(
        tmp_path,
        side("tiktoken", encoding="cl100k_base"),
        side("hf", CL100K_HF),
        model={"name": "cl100k", "vocab_size": 100277},
    )
    moved = {f.detail["token"]: f for f in by_code(result, "TA204")}
    eot = moved["<|endoftext|>"]
    assert eot.severity is Severity.ERROR and eot.category == "special-token"
    assert eot.detail == {"token": "<|endoftext|>", "ids": {"training": 100257, "serving": 100256}}
    [gaps] = by_code(result, "TA208")
    assert gaps.detail["hole_count"] == 16 and gaps.detail["holes"][0] == 100256
    [regex] = by_code(result, "TA215")
    assert list(regex.detail["constructs"]) == ["{n,m}+"]
    [rows] = by_code(result, "TA202")
    assert rows.severity is Severity.INFO and rows.detail["unused_rows"] == 16
    # the regular vocabulary itself is identical, and decodes identically
    assert result.summary["ids_compared"] == 100256 and result.summary["ids_differing"] == 0
    assert result.summary["round_trip_differing"] == 0 and not codes(result) & {"TA211", "TA212", "TA214"}


def test_a_role_that_differs_is_an_error(tmp_path: Path) -> None:
    trained = chatml_copy(tmp_path, "trained")
    served = chatml_copy(tmp_path, "served", eos_token="<|im_end|>")
    result = check(tmp_path, side("hf", trained), side("hf", served))
    [eos] = by_code(result, "TA203")
    assert eos.detail["role"] == "eos" and eos.severity is Severity.ERROR
    assert eos.detail["tokens"] == {"training": ["</s>", 2], "serving": ["<|im_end|>", 32001]}


def test_a_raw_tokenizer_json_has_no_roles_and_that_is_not_a_mismatch(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    shutil.copy(MISTRAL_HF / "tokenizer.json", tmp_path / "raw" / "tokenizer.json")
    result = check(tmp_path, side("tokenizers", tmp_path / "raw"), side("hf", MISTRAL_HF))
    assert result.findings == []
    assert result.summary["roles"]["bos"] == "training unknown / serving '<s>' (id 1)"


def test_special_tokens_on_one_side_only(tmp_path: Path) -> None:
    result = check(tmp_path, side("tokenizers", chatml_copy(tmp_path)), side("hf", MISTRAL_HF))
    only = {f.detail["token"]: f.detail for f in by_code(result, "TA205")}
    assert only == {
        "<|im_start|>": {"token": "<|im_start|>", "present_on": "training", "id": 32000},
        "<|im_end|>": {"token": "<|im_end|>", "present_on": "training", "id": 32001},
    }


def test_added_token_flags_differ(tmp_path: Path) -> None:
    def lstrip_eos(data: dict) -> None:
        for token in data["added_tokens"]:
            if token["content"] == "</s>":
                token["lstrip"] = True

    folder = edit_tokenizer_json(MISTRAL_HF, tmp_path / "lstrip", lstrip_eos)
    result = check(tmp_path, side("tokenizers", folder), side("hf", MISTRAL_HF))
    [flags] = by_code(result, "TA206")
    assert flags.category == "added-token" and flags.detail["flags"] == {"lstrip": {"training": True, "serving": False}}


def test_two_special_strings_with_one_id(tmp_path: Path) -> None:
    dup = {"<|endoftext|>": 100257, "<|im_end|>": 100257}
    training = side("tiktoken", CL100K_FILE, pattern=CL100K_PATTERN, special_tokens=dup)
    result = check(tmp_path, training, side("tiktoken", encoding="cl100k_base"))
    [shared] = by_code(result, "TA207")
    assert shared.detail == {"side": "training", "id": 100257, "tokens": ["<|endoftext|>", "<|im_end|>"]}


def test_pad_equal_to_eos_warns_once_for_both_sides(tmp_path: Path) -> None:
    folder = mistral_copy(tmp_path, pad_token="</s>")
    result = check(tmp_path, side("tokenizers", folder), side("hf", folder))
    [warning] = result.findings
    assert warning.code == "TA209" and warning.severity is Severity.WARNING
    assert warning.detail == {"sides": ["training", "serving"], "token": ["</s>", 2]}
    assert "EOS" in warning.message and "stop" in warning.message  # the consequence is named


def test_generation_config_missing_the_end_of_turn_token(tmp_path: Path) -> None:
    folder = chatml_copy(tmp_path, generation_eos=2)
    result = check(tmp_path, side("tokenizers", folder), side("hf", folder))
    [gen] = result.findings
    assert gen.code == "TA210" and gen.severity is Severity.ERROR and gen.category == "generation-config"
    assert gen.detail["end_of_turn"] == ["<|im_end|>", 32001] and gen.detail["eos_token_id"] == 2


def test_generation_config_with_eos_as_end_of_turn_passes(tmp_path: Path) -> None:
    folder = mistral_copy(tmp_path, chat_template=MISTRAL_INST)
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": 2}))
    result = check(tmp_path, side("sentencepiece", MISTRAL_SP), side("hf", folder))
    assert not codes(result) & {"TA210", "TA203"}
    assert "'</s>' (id 2)" in result.summary["roles"]["end-of-turn token"]


def test_generation_config_without_a_template_is_skipped_not_passed(tmp_path: Path) -> None:
    folder = mistral_copy(tmp_path)
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": 2}))
    result = check(tmp_path, side("tokenizers", folder), side("hf", folder))
    assert result.findings == [] and "end-of-turn token is unknown" in result.skipped[0].reason


# -- model shape --------------------------------------------------------------------------------
def test_tokenizer_larger_than_the_model_is_an_error(tmp_path: Path) -> None:
    config = minilm_config(tmp_path, vocab_size=30000)
    result = check(
        tmp_path, side("hf-slow", MINILM), side("hf", MINILM), model={"name": "minilm", "config": str(config)}
    )
    errors = by_code(result, "TA201")
    assert [f.detail["side"] for f in errors] == ["training", "serving"]
    assert errors[0].detail["out_of_range"] == 522 and errors[0].detail["source"] == "config.json vocab_size"


def test_minilm_against_its_own_config_json_passes(tmp_path: Path) -> None:
    result = check(
        tmp_path,
        side("hf-slow", MINILM),
        side("hf", MINILM),
        model={"name": "minilm", "config": str(MINILM / "config.json")},
    )
    assert result.findings == [] and result.summary["embedding_rows"] == 30522


def test_embedding_rows_beyond_the_tokenizer_are_info(tmp_path: Path) -> None:
    result = check(tmp_path, side("hf-slow", MINILM), side("hf", MINILM), model={"name": "m", "vocab_size": 30528})
    [info] = result.findings
    assert info.code == "TA202" and info.severity is Severity.INFO and info.detail["unused_rows"] == 6


# -- the vocabulary itself ----------------------------------------------------------------------
def test_renumbered_and_changed_pieces(tmp_path: Path) -> None:
    vocab_ = json.loads((MINILM / "tokenizer.json").read_text())["model"]["vocab"]
    word = next(w for w in sorted(vocab_) if w.isalpha() and len(w) > 3 and f"##{w}" not in vocab_)

    def rename(data: dict) -> None:
        v = data["model"]["vocab"]
        v["zzzqx"] = v.pop("[unused0]")  # id 1: new bytes, on this side only
        v[f"##{word}"] = v.pop("[unused5]")  # id 6: the bytes of `word`, which another id has too

    folder = edit_tokenizer_json(MINILM, tmp_path / "renamed", rename)
    result = check(tmp_path, side("tokenizers", folder), side("tokenizers", MINILM))
    [changed] = by_code(result, "TA211")
    assert changed.detail["count"] == 2 and [e["id"] for e in changed.detail["examples"]] == [1, 6]
    only = {f.detail["side"]: f.detail for f in by_code(result, "TA212")}
    assert only["training"]["examples"] == [{"id": 1, "bytes": "zzzqx"}]
    assert [e["bytes"] for e in only["serving"]["examples"]] == ["[unused0]", "[unused5]"]
    [shared] = by_code(result, "TA213")
    assert shared.detail["examples"][0]["bytes"] == word and 6 in shared.detail["examples"][0]["training"]


def test_decoder_without_byte_fallback_fails_the_round_trip(tmp_path: Path) -> None:
    def drop_byte_fallback(data: dict) -> None:
        data["decoder"]["decoders"] = [d for d in data["decoder"]["decoders"] if d["type"] != "ByteFallback"]

    folder = edit_tokenizer_json(MISTRAL_HF, tmp_path / "nofallback", drop_byte_fallback)
    result = check(tmp_path, side("tokenizers", folder), side("hf", MISTRAL_HF))
    [trip] = result.findings
    assert trip.code == "TA214" and trip.detail["count"] == 256  # every byte-fallback piece, nothing else
    assert trip.detail["examples"][0] == {"id": 3, "training": "<0x00>", "serving": "<U+0000>"}


def test_sentencepiece_and_hf_decode_a_lone_space_byte_differently(tmp_path: Path) -> None:
    result = check(tmp_path, side("sentencepiece", MISTRAL_SP), side("hf", MISTRAL_HF))
    [trip] = result.findings
    assert trip.code == "TA214" and trip.detail["examples"] == [{"id": 35, "training": "␣", "serving": ""}]


# -- files around the tokenizer ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "found"),
    [
        (CL100K_PATTERN, ["{n,m}+"]),
        (r"\p{N}{1,3}", []),
        (r"\p{N}{3}+|x{2,}+", ["{n,m}+"]),
        (r"\s++$|\s*+$", []),
        (r"\S+$", ["$"]),
        (r"[$^{1}+]|\$|\^", []),
        (r"^\s+|(?m:.)|(?s).", ["^", "(?m)", "(?s)"]),
    ],
)
def test_regex_constructs(pattern: str, found: list[str]) -> None:
    assert constructs(pattern) == found


def test_truncation_applied_by_the_tokenizers_library(tmp_path: Path) -> None:
    result = check(tmp_path, side("tokenizers", MINILM), side("hf", MINILM))
    [trunc] = result.findings
    assert trunc.code == "TA216" and trunc.detail["truncation"]["max_length"] == 128
    assert trunc.detail["model_max_length"] == 512 and trunc.detail["applied_by"] == ["training"]
    assert "128" in trunc.message and "512" in trunc.message


# -- resolution ------------------------------------------------------------------------------------
def test_mistral_routing_rules(tmp_path: Path) -> None:
    folder = mistral_checkpoint(tmp_path)
    assert mistral_routing("5.24.0", folder) == (True, "MistralCommonBackend", "TokenizersBackend")
    assert mistral_routing("4.57.6", folder)[0] is True
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "LlamaTokenizer"}))
    assert mistral_routing("4.57.6", folder)[0] is False
    (folder / "tekken.json").unlink()
    assert mistral_routing("5.24.0", folder)[0] is False


def test_autotokenizer_resolving_to_mistral_common_is_stated(tmp_path: Path) -> None:
    import transformers

    if int(transformers.__version__.split(".")[0]) < 5:
        pytest.skip("transformers 4.x AutoTokenizer cannot load its MistralCommonTokenizer (_from_auto kwarg)")
    folder = mistral_checkpoint(tmp_path)
    result = check(tmp_path, side("hf-slow", folder), side("mistral-common", mistral_data("tekken_240911.json")))
    [info] = result.findings
    assert info.code == "TA217" and info.severity is Severity.INFO and info.detail["class"] == "MistralCommonBackend"
    assert "TokenizersBackend without mistral-common" in info.message
    assert result.summary["ids_compared"] == 130072 and result.summary["ids_differing"] == 0


def test_vllm_auto_mode_would_switch_to_mistral_common(tmp_path: Path) -> None:
    folder = mistral_copy(tmp_path)
    shutil.copy(mistral_data("tokenizer.model.v1"), folder / "tokenizer.model.v1")
    result = check(tmp_path, side("sentencepiece", MISTRAL_SP), side("hf", folder))
    [warning] = by_code(result, "TA218")
    assert warning.severity is Severity.WARNING and warning.detail["files"] == ["tokenizer.model.v1"]
    assert result.summary["vllm_tokenizer_mode_auto"].startswith("mistral: the folder ships tokenizer.model.v1")


# -- speed ---------------------------------------------------------------------------------------
def test_full_comparison_of_two_130k_vocabularies_takes_seconds(tmp_path: Path) -> None:
    tekken = side("mistral-common", mistral_data("tekken_240911.json"))
    settings = load_config(write_config(tmp_path, {"training": tekken, "serving": tekken}))
    sides = load_sides(settings)
    start = time.perf_counter()
    result = vocab.run(settings, sides, Options())
    elapsed = time.perf_counter() - start
    assert result.findings == [] and result.summary["ids_compared"] == 130072
    assert result.summary["special_tokens_compared"] == 1000 and result.summary["round_trip_ids"] == 130072
    assert elapsed < 5.0, f"vocab-check took {elapsed:.1f} s on 131k ids"
