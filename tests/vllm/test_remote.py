"""The usual setup: the checks run here, the vLLM side in vLLM's own environment (`python:`, the worker
transport). Runs where TOKAUDIT_VLLM_PYTHON names that interpreter (scripts/test.sh: .venv-vllm/bin/python,
from the transformers 5 environment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_VLLM, mistral_data, side
from tests.vllm.conftest import GEMMA4, run_json

VLLM_PYTHON = os.environ.get("TOKAUDIT_VLLM_PYTHON")
pytestmark = pytest.mark.skipif(not VLLM_PYTHON, reason="TOKAUDIT_VLLM_PYTHON names no vLLM interpreter")


def test_gemma4_through_a_python_side(cfg) -> None:
    template = str(GEMMA4)
    path = cfg(
        {
            "training": side("hf", MISTRAL_HF, chat_template=template, chat_add_special_tokens=False),
            "serving": side("vllm", MISTRAL_VLLM, chat_template=template, python=VLLM_PYTHON),
        }
    )
    code, report, err = run_json("template-check", path)
    assert code == 1, err
    serving = report["header"]["sides"]["serving"]
    assert serving["python"]["path"] == VLLM_PYTHON and serving["chat_content_format"] == "openai"
    found = {f["sample"]: f for f in report["findings"] if f["code"] == "TA301"}
    shown = found["builtin:system (whole conversation)"]["detail"]["renderings"]
    assert "[{'type':␣'text',␣'text':␣'You␣are␣a␣concise␣assistant.'}]" in shown["serving"]


def test_ta222_through_a_python_side(cfg, tekken_folder: Path) -> None:
    path = cfg(
        {
            "training": side("mistral-common", mistral_data("tekken_240911.json")),
            "serving": side("vllm", tekken_folder, python=VLLM_PYTHON),
        }
    )
    code, report, err = run_json("vocab-check", path)
    assert code == 1, err
    assert "TA222" in {f["code"] for f in report["findings"]}
