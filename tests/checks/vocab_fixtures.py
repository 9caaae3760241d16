"""Temporary tokenizer folders for the vocab-check tests, made from the real fixture files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import MINILM, MISTRAL_HF, mistral_data

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
MISTRAL_INST = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
)


def copy_dir(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def edit_json(path: Path, **changes: Any) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def mistral_copy(tmp_path: Path, name: str = "mistral", **config: Any) -> Path:
    """fixtures/mistral-7b-hf with tokenizer_config.json keys changed."""
    folder = copy_dir(MISTRAL_HF, tmp_path / name)
    edit_json(folder / "tokenizer_config.json", **config)
    return folder


def chatml_copy(tmp_path: Path, name: str = "chatml", generation_eos: Any = None, **config: Any) -> Path:
    """Mistral 7B fine-tuned for ChatML: <|im_start|> (32000) and <|im_end|> (32001) added as special
    tokens with the tokenizers library, a ChatML chat_template, and optionally a generation_config.json."""
    from tokenizers import AddedToken, Tokenizer

    folder = mistral_copy(tmp_path, name, chat_template=CHATML, **config)
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<|im_start|>", "<|im_end|>")])
    tok.save(str(folder / "tokenizer.json"))
    if generation_eos is not None:
        (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": generation_eos}), encoding="utf-8")
    return folder


def edit_tokenizer_json(src: Path, dest: Path, edit: Any) -> Path:
    """Copy a tokenizer folder and change its tokenizer.json with `edit(data)`."""
    folder = copy_dir(src, dest)
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    edit(data)
    (folder / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def minilm_config(tmp_path: Path, **changes: Any) -> Path:
    """MiniLM's config.json with keys changed (e.g. another vocab_size)."""
    path = tmp_path / "config.json"
    shutil.copy(MINILM / "config.json", path)
    return edit_json(path, **changes)


def mistral_checkpoint(tmp_path: Path) -> Path:
    """A Mistral checkpoint folder as transformers 5 routes it to mistral-common: config.json with
    model_type mistral and a tekken.json."""
    folder = tmp_path / "mistral-ckpt"
    folder.mkdir()
    (folder / "tekken.json").symlink_to(mistral_data("tekken_240911.json"))
    (folder / "config.json").write_text(json.dumps({"model_type": "mistral", "vocab_size": 131072}))
    return folder
