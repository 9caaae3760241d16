"""Each root-cause category, produced by real tokenizers that really disagree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CL100K_HF, MINILM, MISTRAL_HF, MISTRAL_SP, side
from tokaudit.config import settings_from_dict
from tokaudit.errors import InputError
from tokaudit.options import Options
from tokaudit.runner import run_checks
from tokaudit.sources.sides import load_sides


def run_diff(tmp_path: Path, training: dict, serving: dict, lines: list[str], builtin: bool = False) -> Any:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = settings_from_dict(
        {"training": training, "serving": serving, "corpus": [str(corpus)], "builtin_corpus": builtin},
        tmp_path / "cfg.yaml",
    )
    return run_checks(settings, load_sides(settings), "diff", Options())


def variant(tmp_path: Path, src: Path, name: str, edit) -> Path:  # type: ignore[no-untyped-def]
    """A copy of a tokenizer folder with its tokenizer.json edited."""
    out = tmp_path / name
    shutil.copytree(src, out)
    data = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    edit(data)
    (out / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    return out


def categories(result: Any) -> dict[str, str]:
    return {f.sample.split(":")[-1]: f.category for f in result.findings}


def test_special_token_text_parsed_on_one_side_only(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("sentencepiece", MISTRAL_SP, add_bos=True),
        side("hf", MISTRAL_HF),
        ["The user typed <s> here"],
    )
    (f,) = r.findings
    assert (f.code, f.category) == ("TA101", "special-token")
    assert "'<s>' in the text is a control token on serving (id 1) but plain text on training" in f.message
    assert f.detail["offset"] == 14


def test_bos_added_by_one_side_only(tmp_path: Path) -> None:
    r = run_diff(tmp_path, side("sentencepiece", MISTRAL_SP), side("hf", MISTRAL_HF), ["Hello world"])
    (f,) = r.findings
    assert (f.code, f.category) == ("TA102", "bos-eos")
    assert "serving starts with BOS '<s>' (id 1); training does not" == f.message


def test_truncation_stored_in_tokenizer_json(tmp_path: Path) -> None:
    # The raw tokenizers library applies a truncation block written into tokenizer.json;
    # transformers resets it on every call.
    cut = variant(
        tmp_path,
        MISTRAL_HF,
        "cut",
        lambda d: d.update(truncation={"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0}),
    )
    r = run_diff(
        tmp_path,
        side("tokenizers", cut / "tokenizer.json"),
        side("hf", MISTRAL_HF),
        ["a sentence that is clearly longer than four tokens"],
    )
    (f,) = r.findings
    assert (f.code, f.category) == ("TA103", "truncation")
    assert "training stops after 4 tokens" in f.message


def test_id_mapping_endoftext_moved_in_conversion(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("tiktoken", encoding="cl100k_base", special_text="parse"),
        side("hf", CL100K_HF),
        ["doc one<|endoftext|>doc two"],
    )
    (f,) = r.findings
    assert (f.code, f.category) == ("TA104", "id-mapping")
    assert "'<|endoftext|>' is id 100257 on training and id 100256 on serving" == f.message


def test_normalization_lowercasing_on_one_side(tmp_path: Path) -> None:
    cased = variant(tmp_path, MINILM, "cased", lambda d: d["normalizer"].update(lowercase=False))
    r = run_diff(
        tmp_path,
        side("tokenizers", cased / "tokenizer.json"),
        side("tokenizers", MINILM / "tokenizer.json"),
        ["Paris is Lovely"],
    )
    (f,) = r.findings
    assert (f.code, f.category) == ("TA105", "normalization")
    assert f.detail["offset"] == 0


def test_whitespace_leading_space(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("sentencepiece", MISTRAL_SP, add_bos=True),
        side("hf", MISTRAL_HF),
        [" Hello", "  two  spaces"],
    )
    assert set(categories(r).values()) == {"whitespace"}
    assert len(r.findings) == 2
    assert all(f.code == "TA106" for f in r.findings)


def test_segmentation_digit_groups_possessive_regex(tmp_path: Path) -> None:
    # cl100k's `\p{N}{1,3}+` is possessive in tiktoken's engine but "one or more groups of 1-3" in
    # the tokenizers library's: digits group differently after the conversion.
    r = run_diff(tmp_path, side("tiktoken", encoding="cl100k_base"), side("hf", CL100K_HF), ["In 2024 we"])
    (f,) = r.findings
    assert (f.code, f.category) == ("TA107", "segmentation")
    tokens = [t["text"] for t in f.detail["training"]["tokens"]]
    assert "202" in tokens


def test_unknown_byte_fallback_on_one_side(tmp_path: Path) -> None:
    no_fallback = variant(tmp_path, MISTRAL_HF, "nofb", lambda d: d["model"].update(byte_fallback=False))
    r = run_diff(
        tmp_path,
        side("tokenizers", no_fallback / "tokenizer.json"),
        side("tokenizers", MISTRAL_HF / "tokenizer.json"),
        ["a rare glyph 𓀀 here"],
    )
    (f,) = r.findings
    assert (f.code, f.category) == ("TA108", "unknown")


def test_library_refusal_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("tiktoken", encoding="cl100k_base"),
        side("hf", CL100K_HF),
        ["ok", "ends <|endoftext|>"],
    )
    (f,) = r.findings
    assert f.code == "TA110" and f.category == "special-token" and "training refuses" in f.message
    assert r.summary["samples_compared"] == 2


def test_both_sides_refusing_alike_is_skipped_not_a_finding(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("tiktoken", encoding="cl100k_base"),
        side("tokenizers", CL100K_HF / "tokenizer.json", special_text="raise"),
        ["ok", "x <|endoftext|>"],
    )
    assert list(r.findings) == []
    assert [s.where for s in r.skipped] == ["corpus.txt:2"]


def test_zero_samples_compared_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no sample could be compared"):
        run_diff(
            tmp_path,
            side("tiktoken", encoding="cl100k_base"),
            side("tokenizers", CL100K_HF / "tokenizer.json", special_text="raise"),
            ["<|endoftext|>"],
        )


def test_summary_counts(tmp_path: Path) -> None:
    r = run_diff(
        tmp_path,
        side("sentencepiece", MISTRAL_SP, add_bos=True),
        side("hf", MISTRAL_HF),
        ["Hello world", " Hello", "x <s> y"],
    )
    s = r.summary
    assert (s["samples_compared"], s["samples_differing"]) == (3, 2)
    assert s["by_category"] == {"special-token": 1, "whitespace": 1}
    assert 0 < s["share_tokens_affected"] < 1
