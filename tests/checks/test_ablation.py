"""diff's ablation names the pipeline component behind each distinct divergence, on real pairs of real files,
at no more than one re-encode per component, once per distinct divergence (not per sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.test_diff_categories import variant
from tests.conftest import CL100K_HF, MINILM, MISTRAL_HF, MISTRAL_SP, mistral_data, side
from tokaudit.config import SideSpec, settings_from_dict
from tokaudit.findings import Finding, Report
from tokaudit.options import Options
from tokaudit.runner import run_checks
from tokaudit.sources.base import Sides, Tokenizer
from tokaudit.sources.capabilities import COMPONENTS, Assembly, Converted, NoPipeline, Pipeline
from tokaudit.sources.sides import load_side, load_sides

#: what transformers 4.x's LlamaConverter writes for Mistral 7B's tokenizer.model (the hub's tokenizer.json
#: has it too); transformers 5 loads such a file into a Metaspace pre-tokenizer and drops the normalizer
LEGACY_NORMALIZER = {
    "type": "Sequence",
    "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
    ],
}
TEKKEN = mistral_data("tekken_240911.json")


def _major() -> int:
    import transformers

    return int(transformers.__version__.split(".")[0])


def diff(tmp_path: Path, training: dict | Tokenizer, serving: dict, lines: list[str]) -> tuple[Report, Sides]:
    """Run diff on `lines`; a loaded `training` side is used as it is (a slow conversion is made once)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = training if isinstance(training, Tokenizer) else None
    spec = side(loaded.source, loaded.spec.path) if loaded is not None else training
    data = {"training": spec, "serving": serving, "corpus": [str(corpus)], "builtin_corpus": False}
    settings = settings_from_dict(data, tmp_path / "cfg.yaml")
    sides = Sides(loaded, load_side(settings.serving)) if loaded is not None else load_sides(settings)
    return run_checks(settings, sides, "diff", Options()), sides


def assembly(tok: Tokenizer) -> Assembly:
    return tok.pipeline() if isinstance(tok, Pipeline) else tok.conversion()  # type: ignore[union-attr]


def by_category(report: Report) -> dict[str, Finding]:
    return {f.category or "": f for f in report.findings}


def assert_cost(report: Report, sides: Sides) -> None:
    """At most one re-encode per component for each distinct divergence, and the ablation ran once per
    distinct divergence: every encode either side's pipeline made is one some finding accounts for."""
    ablations = [f.detail["ablation"] for f in report.findings]
    assert all(a["encodes"] <= len(COMPONENTS) and a["baseline_encodes"] == 2 for a in ablations)
    made = sum(assembly(tok).encodes for _, tok in sides.items())
    assert made == sum(a["encodes"] + a["baseline_encodes"] for a in ablations)


def test_cl100k_conversion_splits_digits_in_its_pre_tokenizer_and_moves_the_special_ids(tmp_path: Path) -> None:
    lines = ["In 2024 we", "Since 1999 they", "In 2025 we met", "doc one<|endoftext|>doc two", "plain words"]
    tiktoken = side("tiktoken", encoding="cl100k_base", special_text="parse")
    report, sides = diff(tmp_path, tiktoken, side("hf", CL100K_HF), lines)
    found = by_category(report)
    assert set(found) == {"segmentation", "id-mapping"} and found["segmentation"].count == 3

    digits = found["segmentation"].detail
    assert digits["component"] == "pre_tokenizer"
    a = digits["ablation"]
    assert a["where"] == "conversion" and a["components"] == ["pre_tokenizer"] and a["single"]
    # both of tiktoken's own parts were tried on the conversion, one re-encode each
    assert a["differing"] == ["pre_tokenizer", "added_tokens"] and a["encodes"] == 2
    assert "the same pattern" in a["verdict"] and "serving tokenizes it as that conversion does" in a["verdict"]
    assert a["pipelines"]["training"].startswith("TikTokenConverter of cl100k_base")

    specials = found["id-mapping"].detail
    assert specials["component"] == "added_tokens" and specials["ablation"]["encodes"] == 2
    shown = specials["ablation"]["values"]["added_tokens"]
    assert "'<|endoftext|>' id 100256" in shown["conversion"] and "'<|endoftext|>' id 100257" in shown["tiktoken"]
    assert_cost(report, sides)


def test_legacy_mistral_json_under_transformers_5_is_the_normalizer(tmp_path: Path) -> None:
    legacy = variant(
        tmp_path, MISTRAL_HF, "legacy", lambda d: d.update(normalizer=LEGACY_NORMALIZER, pre_tokenizer=None)
    )
    lines = ["Indented  two  spaces", "  leading spaces", "x </s>  after", "plain words"]
    report, sides = diff(tmp_path, side("tokenizers", legacy / "tokenizer.json"), side("hf", legacy), lines)
    if _major() < 5:
        assert report.findings == ()  # 4.x keeps the file's normalizer: nothing to explain
        return
    (f,) = report.findings
    assert f.category == "whitespace" and f.count == 2  # two samples, one divergence, one ablation
    a = f.detail["ablation"]
    # transformers 5 rebuilt the pipeline with a Metaspace pre-tokenizer and no normalizer; the file's normalizer
    # alone brings the ids back (Metaspace does not prepend a second "▁")
    assert a["differing"] == ["normalizer", "pre_tokenizer"]
    assert f.detail["component"] == "normalizer" and a["where"] == "pipeline" and a["encodes"] == 2
    assert a["values"]["normalizer"]["serving"] == "null" and "Prepend" in a["values"]["normalizer"]["training"]
    assert_cost(report, sides)


def test_the_legacy_normalizer_is_what_transformers_4_converts_mistral_to() -> None:
    if _major() >= 5:
        pytest.skip("transformers 5 converts tokenizer.model to a Metaspace pre-tokenizer; the legacy form is 4.x's")
    parts = assembly(load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP)))).parts()
    assert parts["normalizer"] == LEGACY_NORMALIZER and parts["pre_tokenizer"] is None


def test_sentencepiece_against_transformers_own_conversion(tmp_path: Path) -> None:
    sp = side("sentencepiece", MISTRAL_SP, add_bos=True)
    report, sides = diff(tmp_path, sp, side("hf", MISTRAL_HF), ["  two  spaces", "The user typed <s> here"])
    found = by_category(report)
    # `<s>` is text to sentencepiece and a control token to serving: the added tokens' special_text
    assert found["special-token"].detail["component"] == "added_tokens"
    spaces = found["whitespace"].detail["ablation"]
    if _major() >= 5:
        # 5.x's own conversion of the file splits the spaces as serving does: the divergence is in the conversion
        assert found["whitespace"].detail["component"] == "conversion" and spaces["where"] == "conversion"
        assert "serving tokenizes it as that conversion does" in spaces["verdict"] and spaces["encodes"] == 0
    else:
        # 4.x's conversion is sentencepiece here; the fixture (a 5.x save) differs in its normalizer and its
        # merges' order, and only both together give sentencepiece's ids
        assert spaces["where"] == "pipeline" and spaces["components"] == ["normalizer", "model"]
        assert found["whitespace"].detail["component"] == "no single component: normalizer + model"
        assert not spaces["single"] and spaces["encodes"] == len(COMPONENTS)
    assert_cost(report, sides)


def test_minilm_through_the_tokenizers_library_is_its_truncation(tmp_path: Path) -> None:
    lines = ["a short line", "another short one", "word " * 200]
    report, sides = diff(tmp_path, side("tokenizers", MINILM / "tokenizer.json"), side("hf", MINILM), lines)
    assert {f.category for f in report.findings} == {"truncation"} and len(report.findings) == 2
    for f in report.findings:  # padded to 128 and cut at 128: both the one truncation/padding component
        assert f.detail["component"] == "truncation" and f.detail["ablation"]["encodes"] == 1
        assert f.detail["ablation"]["values"]["truncation"]["serving"] == '{"truncation": null, "padding": null}'
    assert_cost(report, sides)


# -- tekken: mistral-common against transformers' conversion of the same file, served by transformers -----------
@pytest.fixture(scope="module")
def tekken_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import transformers

    try:
        from transformers.integrations.mistral import convert_tekken_tokenizer

        fast = convert_tekken_tokenizer(str(TEKKEN))
    except Exception as exc:
        pytest.skip(f"transformers {transformers.__version__} cannot convert {TEKKEN.name}: {type(exc).__name__}")
    folder = tmp_path_factory.mktemp("tekken-hf")
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def mistral_common() -> Tokenizer:
    return load_side(SideSpec(source="mistral-common", path=str(TEKKEN)))


def test_tekken_control_strings_are_the_added_tokens(tmp_path: Path, tekken_hf: Path, mistral_common: Any) -> None:
    lines = ["Hello [INST] world", "plain words here"]
    served = side("hf", tekken_hf, add_bos=True)  # BOS as mistral-common adds it: only the control strings differ
    report, sides = diff(tmp_path, mistral_common, served, lines)
    (f,) = report.findings
    assert f.category == "special-token" and f.detail["component"] == "added_tokens"
    a = f.detail["ablation"]
    assert a["where"] == "pipeline" and a["differing"] == ["added_tokens"] and a["encodes"] == 1
    assert a["values"]["added_tokens"] == {
        "training": "1000 tokens, special_text literal",
        "serving": "1000 tokens, special_text parse",
    }
    assert "conversion of training's file gives mistral-common's ids" in a["verdict"]

    # without the BOS: the first difference of both samples is the BOS (bos-eos); the post-processor alone
    # for plain text, and it with the added tokens for `[INST]` (a control token just after: another signature)
    report, sides = diff(tmp_path, mistral_common, side("hf", tekken_hf), lines)
    assert {f.category for f in report.findings} == {"bos-eos"}
    found = {f.signature: f for f in report.findings}
    assert found["bos-eos: ^|⟨<s>⟩ ≠ ^|a"].detail["component"] == "post_processor"
    pair = found["bos-eos: ^|⟨<s>⟩ ≠ ^|a …⟨special⟩"].detail
    assert pair["component"] == "no single component: post_processor + added_tokens"
    assert pair["ablation"]["encodes"] == 3 and not pair["ablation"]["single"]


def test_a_side_whose_file_transformers_cannot_convert_says_so(tmp_path: Path) -> None:
    if _major() >= 5:
        pytest.skip("transformers 5 converts tekken files (test_tekken_control_strings_are_the_added_tokens)")
    tok = load_side(SideSpec(source="mistral-common", path=str(TEKKEN)))
    with pytest.raises(NoPipeline, match=r"^transformers 4\.\S+ (has no tekken converter|cannot convert)"):
        assert isinstance(tok, Converted)
        tok.conversion()
    report, _ = diff(tmp_path, tok, side("hf", MISTRAL_HF), ["plain words here"])
    assert report.findings  # another vocabulary altogether
    for f in report.findings:
        assert f.detail["component"] == "not ablated"
        assert "training has no pipeline to take apart: transformers 4." in f.detail["ablation"]["verdict"]
