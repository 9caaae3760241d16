"""`python:` in the config: resolved against the config's folder (not the symlink behind it), a bare name on PATH,
a string only, and not on a side that runs nothing."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, side, write_config
from tokaudit.config import load_config
from tokaudit.errors import ConfigError


def test_a_relative_interpreter_is_resolved_against_the_config_folder_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "env" / "bin").mkdir(parents=True)
    link = tmp_path / "env" / "bin" / "python"
    link.symlink_to(sys.executable)
    path = write_config(
        tmp_path, {"training": side("hf", MISTRAL_HF, python="env/bin/python"), "serving": side("hf", MISTRAL_HF)}
    )
    settings = load_config(path)
    assert settings.training.python == str(link) and settings.serving.python is None


def test_a_bare_name_is_looked_up_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = Path(sys.executable).name
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    path = write_config(tmp_path, {"training": side("hf", MISTRAL_HF, python=name), "serving": side("hf", MISTRAL_HF)})
    assert load_config(path).training.python == os.path.abspath(shutil.which(name) or "")


@pytest.mark.parametrize(
    ("training", "message"),
    [
        (side("hf", MISTRAL_HF, python=3), "training.python: Input should be a valid string (got 3)"),
        (
            side(
                "dataset",
                FIXTURES / "datasets" / "tokenized-mistral.jsonl",
                text_field="text",
                ids_field="input_ids",
                python=sys.executable,
            ),
            "training.python: a `source: dataset` side only reads stored ids; nothing runs there",
        ),
    ],
)
def test_python_that_cannot_be_used_is_a_config_error(tmp_path: Path, training: dict, message: str) -> None:
    path = write_config(tmp_path, {"training": training, "serving": side("hf", MISTRAL_HF)})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {message}"
