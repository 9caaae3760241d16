"""End-to-end: `tokaudit vocab-check` on real tokenizers. Exit code first, then the findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.checks.vocab_fixtures import chatml_copy, minilm_config, mistral_copy
from tests.conftest import CL100K_HF, CORPUS_TXT, MINILM, MISTRAL_HF, ROOT, invoke, side


def vocab_json(config: Path, *extra: str) -> tuple[int, dict]:
    result = invoke("vocab-check", config, "--format", "json", *extra)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {})


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"]]


# 1. cl100k through tiktoken vs its Hugging Face conversion: <|endoftext|> moved.
def test_cl100k_endoftext_id_mismatch_is_a_special_token_error() -> None:
    code, report = vocab_json(ROOT / "configs" / "cl100k.yaml")
    assert code == 1
    [eot] = [f for f in report["findings"] if f["where"] == "<|endoftext|>"]
    assert eot["sample"] is None
    assert eot["code"] == "TA204" and eot["category"] == "special-token" and eot["severity"] == "error"
    assert eot["message"] == "'<|endoftext|>' is id 100257 on training and id 100256 on serving"
    assert {"TA208", "TA215", "TA202"} <= set(codes(report))


def test_json_report_matches_the_published_schema(tmp_path: Path, cfg) -> None:
    import jsonschema

    trained, served = chatml_copy(tmp_path, "trained"), chatml_copy(tmp_path, "served", eos_token="<|im_end|>")
    schema = json.loads((ROOT / "docs" / "json-schema.json").read_text())
    for config in (
        ROOT / "configs" / "cl100k.yaml",
        cfg({"training": side("hf", trained), "serving": side("hf", served)}),
    ):
        code, report = vocab_json(config)
        assert code == 1
        jsonschema.validate(report, schema)


def test_cl100k_table_report_names_the_finding() -> None:
    result = invoke("vocab-check", ROOT / "configs" / "cl100k.yaml")
    assert result.exit_code == 1
    assert "TA204" in result.stdout and "<|endoftext|>" in result.stdout and "ids compared" in result.stdout


# 2. Vocabulary size against the model.
def test_tokenizer_larger_than_model_vocab_size_is_exit_1(cfg) -> None:
    path = cfg(
        {
            "model": {"name": "m", "vocab_size": 30000},
            "training": side("hf-slow", MINILM),
            "serving": side("hf", MINILM),
        }
    )
    code, report = vocab_json(path)
    assert code == 1
    assert codes(report) == ["TA201", "TA201"]
    assert "30522 ids but the model has 30000 embedding rows" in report["findings"][0]["message"]


def test_minilm_against_its_own_config_json_passes(cfg) -> None:
    path = cfg(
        {
            "model": {"name": "m", "config": str(MINILM / "config.json")},
            "training": side("hf-slow", MINILM),
            "serving": side("hf", MINILM),
        }
    )
    code, report = vocab_json(path)
    assert code == 0
    assert report["findings"] == [] and report["summary"]["embedding_rows"] == 30522


# 3. pad == eos, and generation_config.json.
def test_pad_equal_eos_is_a_warning(tmp_path: Path, cfg) -> None:
    folder = mistral_copy(tmp_path, pad_token="</s>")
    path = cfg({"training": side("tokenizers", folder), "serving": side("hf", folder)})
    code, report = vocab_json(path)
    assert code == 0
    assert codes(report) == ["TA209"] and report["findings"][0]["severity"] == "warning"
    assert invoke("vocab-check", path, "--fail-on", "warning").exit_code == 1


def test_generation_config_missing_end_of_turn_is_exit_1(tmp_path: Path, cfg) -> None:
    folder = chatml_copy(tmp_path, generation_eos=[2])
    path = cfg({"training": side("tokenizers", folder), "serving": side("hf", folder)})
    code, report = vocab_json(path)
    assert code == 1
    assert codes(report) == ["TA210"]
    assert "'<|im_end|>' (id 32001)" in report["findings"][0]["message"]


# 4. The same tokenizer through two sources: exit 0, no findings.
@pytest.mark.parametrize("config", ["mistral-hf-vs-tokenizers.yaml", "minilm-fast-vs-slow.yaml"])
def test_same_tokenizer_two_sources_is_clean(config: str) -> None:
    code, report = vocab_json(ROOT / "configs" / config)
    assert code == 0
    assert report["findings"] == [] and report["summary"]["ids_differing"] == 0


# 5. Bad input: one line naming file and key, exit 2.
def assert_one_line_error(result, *expected: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert all(e in result.stderr for e in expected), result.stderr
    assert "Traceback" not in result.output


def test_unreadable_config_json_is_exit_2(tmp_path: Path, cfg) -> None:
    broken = tmp_path / "config.json"
    broken.write_text('{"vocab_size": 30522,')
    path = cfg(
        {"model": {"name": "m", "config": str(broken)}, "training": side("hf", MINILM), "serving": side("hf", MINILM)}
    )
    assert_one_line_error(invoke("vocab-check", path), f"{broken}: not readable JSON")


def test_vocab_size_not_an_integer_is_exit_2(tmp_path: Path, cfg) -> None:
    config = minilm_config(tmp_path, vocab_size="30522")
    path = cfg(
        {"model": {"name": "m", "config": str(config)}, "training": side("hf", MINILM), "serving": side("hf", MINILM)}
    )
    assert_one_line_error(invoke("vocab-check", path), f"{config}: vocab_size: not a positive integer (got '30522')")


def test_model_vocab_size_not_an_integer_is_exit_2(cfg) -> None:
    path = cfg(
        {"model": {"name": "m", "vocab_size": "big"}, "training": side("hf", MINILM), "serving": side("hf", MINILM)}
    )
    assert_one_line_error(invoke("vocab-check", path), "model.vocab_size")


def test_unreadable_generation_config_is_exit_2(tmp_path: Path, cfg) -> None:
    folder = mistral_copy(tmp_path)
    (folder / "generation_config.json").write_text("eos_token_id = 2")
    path = cfg({"training": side("hf", MISTRAL_HF), "serving": side("hf", folder)})
    assert_one_line_error(invoke("vocab-check", path), "generation_config.json: not readable JSON")


def test_a_side_that_fails_to_load_is_exit_2(tmp_path: Path, cfg) -> None:
    (tmp_path / "tokenizer.json").write_text('{"model": {"type": "BPE"')
    path = cfg({"training": side("tokenizers", tmp_path / "tokenizer.json"), "serving": side("hf", CL100K_HF)})
    assert_one_line_error(invoke("vocab-check", path), f"{path}: training: ", "not a readable tokenizer.json")


# `tokaudit check` runs diff and vocab-check into one report.
def test_check_runs_vocab_check_with_diff(cfg) -> None:
    path = cfg(
        {
            "training": side("tiktoken", encoding="cl100k_base", special_text="parse"),
            "serving": side("hf", CL100K_HF),
            "corpus": [str(CORPUS_TXT)],
        }
    )
    result = invoke("check", path, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {"TA104", "TA204"} <= set(codes(report)) and report["summary"]["checks"] == ["diff", "vocab-check"]
