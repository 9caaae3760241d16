"""A side that cannot be loaded is one complete `error:` line naming the config, the side and the cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MISTRAL_SP, invoke, side, write_config


@pytest.mark.parametrize("source", ["hf", "hf-slow"])
def test_an_hf_folder_without_tokenizer_files_names_the_files_looked_for(tmp_path: Path, source: str) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")  # a model folder, but no tokenizer in it
    config = write_config(tmp_path, {"training": side("sentencepiece", MISTRAL_SP), "serving": side(source, folder)})
    result = invoke("diff", config)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {config}: serving: cannot load {folder}: no tokenizer files in the folder (looked for tokenizer.json, "
        "tokenizer_config.json, tokenizer.model, tekken.json, vocab.json, vocab.txt, spiece.model, "
        "sentencepiece.bpe.model)"
    ]


def test_a_library_message_over_several_lines_is_kept_whole_on_one(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text("{}", encoding="utf-8")  # a tokenizer file, but no vocabulary
    config = write_config(tmp_path, {"training": side("hf", folder), "serving": side("hf", folder)})
    result = invoke("diff", config)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {config}: training: cannot load {folder} with transformers ")
    assert not line.rstrip().endswith(":"), line  # transformers' "... from one of:" goes on to its list
