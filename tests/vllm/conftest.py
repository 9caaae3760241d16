"""tests/vllm: `source: vllm` against vLLM's own code. They run where vLLM imports (scripts/test.sh runs them in
.venv-vllm with TOKAUDIT_REQUIRE_VLLM=1) and skip elsewhere. vLLM is imported once per process (~10-40 s);
each config load after that builds its model config and renderer in about a second."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, invoke, needs_vllm

#: every test module here: skip where vLLM does not import, and let torch's and vLLM's own deprecation notices
#: (torch.jit.script_method at import, ...) pass the suite's `filterwarnings = error`
VLLM = [
    needs_vllm,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

TEMPLATES = FIXTURES / "templates"
GEMMA4 = TEMPLATES / "google-gemma-4-31B-it.jinja"
MISTRAL_SMALL = TEMPLATES / "Mistral-Small-3.2-24B-Instruct-2506.jinja"
LLAMA31 = TEMPLATES / "meta-llama-Llama-3.1-8B-Instruct.jinja"

#: mistralai/Mistral-Nemo-Instruct-2407's config.json (the model of mistral-common's tekken_240911.json)
NEMO_CONFIG = {
    "architectures": ["MistralForCausalLM"],
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 5120,
    "intermediate_size": 14336,
    "max_position_embeddings": 1024000,
    "model_type": "mistral",
    "num_attention_heads": 32,
    "num_hidden_layers": 40,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "rope_theta": 1000000.0,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 131072,
}


def run_json(command: str, config: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = invoke(command, config, "--format", "json", *extra)
    out = result.stdout
    return result.exit_code, (json.loads(out) if out.strip().startswith("{") else {}), result.stderr


@pytest.fixture(scope="session")
def tekken_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Mistral Nemo tokenizer folder as a user has it without weights: tekken.json and config.json."""
    from tests.conftest import mistral_data

    folder = tmp_path_factory.mktemp("nemo")
    shutil.copy(mistral_data("tekken_240911.json"), folder / "tekken.json")
    (folder / "config.json").write_text(json.dumps(NEMO_CONFIG), encoding="utf-8")
    return folder
