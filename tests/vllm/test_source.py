"""`source: vllm` as a side: its capabilities, the config keys it takes, and its one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import MISTRAL_HF, MISTRAL_VLLM, invoke, side
from tests.vllm.conftest import VLLM
from tokaudit.config import SideSpec
from tokaudit.sources.capabilities import ChatServer, ServedChat
from tokaudit.sources.sides import load_side

pytestmark = VLLM


def test_serve_chat_returns_vllms_text_ids_and_content_format() -> None:
    tok = load_side(SideSpec(source="vllm", path=str(MISTRAL_VLLM)))
    assert isinstance(tok, ChatServer)
    template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
    got = tok.serve_chat([{"role": "user", "content": "Hi"}], True, chat_template=template)
    assert got == ServedChat(
        ids=tok.encode_rendered("user: Hi\n", False),
        text="user: Hi\n",
        content_format="string",
        add_special_tokens=False,
    )


def test_tokenizer_only_folder_is_one_line(cfg, tmp_path: Path) -> None:
    folder = tmp_path / "tok"
    shutil.copytree(MISTRAL_HF, folder)
    result = invoke("diff", cfg({"training": side("hf", MISTRAL_HF), "serving": side("vllm", folder)}))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: ") and "serving.path: vLLM reads the model's config.json" in line


def test_vllm_keys_are_checked(cfg) -> None:
    result = invoke(
        "diff", cfg({"training": side("hf", MISTRAL_HF, tokenizer_mode="mistral"), "serving": side("hf", MISTRAL_HF)})
    )
    assert result.exit_code == 2 and "training.tokenizer_mode: only a `source: vllm` side" in result.stderr
    result = invoke(
        "diff", cfg({"training": side("hf", MISTRAL_HF), "serving": side("vllm", MISTRAL_VLLM, add_bos=True)})
    )
    assert result.exit_code == 2 and "serving.add_bos: not a vLLM setting" in result.stderr


def test_a_bad_tokenizer_mode_is_vllms_own_refusal(cfg) -> None:
    result = invoke(
        "diff",
        cfg({"training": side("hf", MISTRAL_HF), "serving": side("vllm", MISTRAL_VLLM, tokenizer_mode="nonsense")}),
    )
    assert result.exit_code == 2 and "serving: cannot load" in result.stderr and "with vLLM" in result.stderr
