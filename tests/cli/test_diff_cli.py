"""End-to-end: the real CLI on real tokenizers. Exit code first, then the findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import (
    CL100K_HF,
    CORPUS_JSONL,
    CORPUS_TXT,
    MINILM,
    MISTRAL_HF,
    MISTRAL_SP,
    ROOT,
    invoke,
    side,
)


def diff_json(config: Path, *extra: str) -> tuple[int, dict]:
    result = invoke("diff", config, "--format", "json", *extra)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {})


# 1. cl100k through tiktoken vs its Hugging Face conversion: <|endoftext|> moved.
def test_cl100k_endoftext_id_differs(cfg) -> None:
    path = cfg(
        {
            "training": side("tiktoken", encoding="cl100k_base", special_text="parse"),
            "serving": side("hf", CL100K_HF),
            "corpus": [str(CORPUS_TXT)],
        }
    )
    code, report = diff_json(path)
    assert code == 1
    endoftext = [f for f in report["findings"] if "builtin:special <|endoftext|>" in f["samples"]]
    assert endoftext[0]["code"] == "TA104" and endoftext[0]["category"] == "id-mapping"
    assert "'<|endoftext|>' is id 100257 on training and id 100256 on serving" in endoftext[0]["message"]


# 2. Mistral 7B SentencePiece vs the HF tokenizer made from it: divergences found, each categorised.
def test_mistral_sentencepiece_vs_hf_every_divergence_has_a_category() -> None:
    code, report = diff_json(ROOT / "configs" / "mistral-7b.yaml")
    assert code == 1
    findings = report["findings"]
    assert findings and all(f["category"] for f in findings)
    # one finding per distinct divergence: every sample it covers is among its examples (count <= --examples)
    by_sample = {where: f for f in findings for where in f["samples"]}
    assert by_sample["builtin:special <s>"]["category"] == "special-token"
    assert by_sample["builtin:leading-space"]["category"] == "whitespace"
    f = by_sample["mixed.txt:12"]
    assert f["detail"]["offset"] == 14 and "▶" in f["detail"]["context"]
    assert {t["id"] for t in f["detail"]["serving"]["tokens"]} >= {1}
    assert f["hint"]
    assert report["summary"]["samples_differing"] == sum(f["count"] for f in findings)


# 3. No false positives over the whole edge-case corpus.
@pytest.mark.parametrize(
    ("training", "serving"),
    [
        (side("tokenizers", MISTRAL_HF / "tokenizer.json"), side("hf", MISTRAL_HF)),
        (side("tokenizers", CL100K_HF / "tokenizer.json"), side("hf", CL100K_HF)),
        (side("hf-slow", MINILM), side("hf", MINILM)),
        (
            side("sentencepiece", MISTRAL_SP, special_text="parse", add_bos=True),
            side("mistral-common", MISTRAL_SP, special_text="parse"),
        ),
    ],
    ids=[
        "mistral-tokenizers-vs-hf",
        "cl100k-tokenizers-vs-hf",
        "minilm-slow-vs-fast",
        "sp-vs-mistral-common",
    ],
)
def test_same_tokenizer_two_paths_is_clean(cfg, training: dict, serving: dict) -> None:
    path = cfg(
        {
            "training": training,
            "serving": serving,
            "corpus": [str(CORPUS_TXT), {"path": str(CORPUS_JSONL), "field": "text"}],
        }
    )
    code, report = diff_json(path)
    assert (code, report["findings"]) == (0, [])
    assert report["summary"]["samples_compared"] > 60


def test_tokenizer_json_written_now_is_clean_through_hf_and_tokenizers(tmp_path: Path, cfg) -> None:
    from transformers import AutoTokenizer

    # Written by the installed transformers, whatever version that is.
    AutoTokenizer.from_pretrained(CL100K_HF).save_pretrained(tmp_path / "written")
    path = cfg(
        {
            "training": side("tokenizers", tmp_path / "written" / "tokenizer.json"),
            "serving": side("hf", tmp_path / "written"),
            "corpus": [str(CORPUS_TXT)],
        }
    )
    code, report = diff_json(path)
    assert (code, report["findings"]) == (0, [])


def test_padding_stored_in_tokenizer_json_is_a_true_finding(cfg) -> None:
    # MiniLM's tokenizer.json (as sentence-transformers saved it) pads to 128: the tokenizers library
    # applies that, transformers does not. Not a false positive: the ids really differ.
    path = cfg(
        {
            "training": side("tokenizers", MINILM / "tokenizer.json"),
            "serving": side("hf", MINILM),
            "corpus": [str(CORPUS_TXT)],
        }
    )
    code, report = diff_json(path, "--no-builtin")
    assert code == 1
    assert {f["category"] for f in report["findings"]} == {"truncation"}
    assert "training pads to 128 tokens with" in report["findings"][0]["message"]


# 4. Bad input: one clear line, exit 2, no traceback; --debug shows it.
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("training: [unclosed\n", "YAML syntax error"),
        (
            {"training": side("sentencepeice", MISTRAL_SP), "serving": side("hf", MISTRAL_HF)},
            "unknown source",
        ),
        (
            {"training": side("sentencepiece", "missing.model"), "serving": side("hf", MISTRAL_HF)},
            "no such file",
        ),
        (
            {"training": side("sentencepiece", MISTRAL_SP, add_bos=3), "serving": side("hf", MISTRAL_HF)},
            "training.add_bos",
        ),
    ],
)
def test_bad_config_is_one_line_exit_2(cfg, content, expected: str) -> None:
    path = cfg(content)
    result = invoke("diff", path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("broken", ["corrupt-model", "empty-dir", "corrupt-json"])
def test_unloadable_tokenizer_is_exit_2(tmp_path: Path, cfg, broken: str) -> None:
    if broken == "corrupt-model":
        bad = tmp_path / "tokenizer.model"
        bad.write_bytes(b"\x08\x01garbage")
        training = side("sentencepiece", bad)
    elif broken == "empty-dir":
        (tmp_path / "empty").mkdir()
        training = side("hf", tmp_path / "empty")
    else:
        shutil.copytree(MISTRAL_HF, tmp_path / "c")
        (tmp_path / "c" / "tokenizer.json").write_text('{"model": ')
        training = side("tokenizers", tmp_path / "c" / "tokenizer.json")
    path = cfg({"training": training, "serving": side("hf", MISTRAL_HF)})
    result = invoke("diff", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: training: ")
    assert len(result.stderr.strip().splitlines()) == 1
    debug = invoke("diff", path, "--debug")
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


def test_empty_corpus_entry_is_exit_2(tmp_path: Path, cfg) -> None:
    (tmp_path / "empty.txt").write_text("")
    path = cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP),
            "serving": side("hf", MISTRAL_HF),
            "corpus": ["empty.txt"],
        }
    )
    result = invoke("diff", path)
    assert result.exit_code == 2 and "corpus[0]" in result.stderr and "yielded no samples" in result.stderr


def test_wrong_jsonl_field_is_exit_2(cfg) -> None:
    path = cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [{"path": str(CORPUS_JSONL), "field": "body"}],
        }
    )
    result = invoke("diff", path)
    assert result.exit_code == 2 and "no field 'body'" in result.stderr


# 5. Zero samples compared exits 2, never 0.
def test_no_corpus_and_no_builtin_is_exit_2(cfg) -> None:
    path = cfg({"training": side("tokenizers", MINILM / "tokenizer.json"), "serving": side("hf", MINILM)})
    result = invoke("diff", path, "--no-builtin")
    assert result.exit_code == 2 and "nothing to compare" in result.stderr


def test_every_sample_refused_is_exit_2(tmp_path: Path, cfg) -> None:
    (tmp_path / "c.txt").write_text("<|endoftext|>\n")
    path = cfg(
        {
            "training": side("tiktoken", encoding="cl100k_base"),
            "serving": side("tokenizers", CL100K_HF / "tokenizer.json", special_text="raise"),
            "corpus": ["c.txt"],
        }
    )
    result = invoke("diff", path, "--no-builtin")
    assert result.exit_code == 2 and "no sample could be compared" in result.stderr


# 6. --help and a config error are fast: heavy libraries stay unimported.
def test_help_and_config_error_do_not_import_heavy_libraries(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: {source: nope}\nserving: {source: hf}\n")
    probe = (
        "import sys, time; t = time.perf_counter()\n"
        "from tokaudit.cli import app\n"
        "from typer.testing import CliRunner\n"
        f"r1 = CliRunner().invoke(app, ['--help']); r2 = CliRunner().invoke(app, ['diff', {str(bad)!r}])\n"
        "heavy = [m for m in ('transformers', 'tokenizers', 'sentencepiece', 'tiktoken', 'mistral_common')"
        " if m in sys.modules]\n"
        "print(r1.exit_code, r2.exit_code, heavy, time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["0", "2"] and out[2] == "[]"


def test_console_script_help_is_well_under_a_second() -> None:
    exe = Path(sys.executable).parent / "tokaudit"
    if not exe.exists():
        pytest.skip("console script not installed")
    start = time.perf_counter()
    result = subprocess.run([str(exe), "diff", "--help"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0 and "Examples" in result.stdout
    assert elapsed < 1.0


def test_output_file_and_ignore(tmp_path: Path, cfg) -> None:
    path = cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "ignore": ["TA106"],
        }
    )
    out = tmp_path / "report.json"
    result = invoke("diff", path, "--format", "json", "--output", out)
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert report["ignored"] > 0 and {f["code"] for f in report["findings"]} == {"TA101"}


def test_ignoring_every_finding_code_passes(cfg) -> None:
    path = cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "ignore": ["TA101", "TA106"],
        }
    )
    assert invoke("diff", path).exit_code == 0


def test_output_refuses_to_overwrite_the_config(cfg) -> None:
    path = cfg({"training": side("sentencepiece", MISTRAL_SP), "serving": side("hf", MISTRAL_HF)})
    before = path.read_text()
    result = invoke("diff", path, "--output", path)
    assert result.exit_code == 2 and path.read_text() == before


def test_output_through_a_symlink_keeps_the_link(tmp_path: Path, cfg) -> None:
    path = cfg({"training": side("hf-slow", MINILM), "serving": side("hf", MINILM)})
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    assert invoke("diff", path, "--format", "json", "-o", link).exit_code == 0
    assert link.is_symlink() and json.loads(real.read_text())["command"] == "diff"


def test_output_to_a_device_writes_into_it_and_never_replaces_it(cfg) -> None:
    # A rename-into-place over /dev/null once turned it into a regular file on a CI machine.
    import stat

    path = cfg({"training": side("hf-slow", MINILM), "serving": side("hf", MINILM)})
    assert invoke("diff", path, "--format", "json", "-o", "/dev/null").exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_branch_revision_draws_a_warning_and_fail_on_warning_fails(cfg) -> None:
    path = cfg(
        {
            "model": {"name": "m", "revision": "main"},
            "training": side("hf-slow", MINILM),
            "serving": side("hf", MINILM),
        }
    )
    code, report = diff_json(path)
    assert code == 0 and [f["code"] for f in report["findings"]] == ["TA001"]
    assert invoke("diff", path, "--fail-on", "warning").exit_code == 1


def test_table_output_shows_tokens_and_summary() -> None:
    result = invoke("diff", ROOT / "configs" / "mistral-7b.yaml", "--show", "2")
    assert result.exit_code == 1
    out = result.stdout
    assert "TA101" in out and "summary" in out and "samples compared" in out and "more findings" in out
    assert "LlamaTokenizer" in out and "SentencePieceProcessor" in out
