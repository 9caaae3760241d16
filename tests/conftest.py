"""Shared test helpers: fixture paths, config writing, and running the real CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

ROOT = Path(__file__).resolve().parent.parent

if os.environ.get("PYTEST_XDIST_WORKER"):
    # trust_remote_code copies a folder's module into HF_MODULES_CACHE: one cache per pytest-xdist worker,
    # so two workers loading the same test-only tokenizer class never write the same file at once
    import atexit
    import shutil
    import tempfile

    _modules = tempfile.mkdtemp(prefix=f"hf-modules-{os.environ['PYTEST_XDIST_WORKER']}-")
    atexit.register(shutil.rmtree, _modules, True)
    os.environ["HF_MODULES_CACHE"] = _modules
FIXTURES = ROOT / "fixtures"
MISTRAL_SP = FIXTURES / "mistral-7b" / "tokenizer.model"
MISTRAL_SP_DIR = FIXTURES / "mistral-7b"
MISTRAL_HF = FIXTURES / "mistral-7b-hf"
CL100K_HF = FIXTURES / "cl100k-hf"
CL100K_FILE = FIXTURES / "cl100k" / "cl100k_base.tiktoken"
MINILM = FIXTURES / "minilm"
CORPUS_TXT = FIXTURES / "corpus" / "mixed.txt"
CORPUS_JSONL = FIXTURES / "corpus" / "mixed.jsonl"
#: llama.cpp's vocab-only GGUFs with its tokenizer tests' strings (.inp) and the original tokenizers' ids (.out)
GGUF = FIXTURES / "gguf"


def gguf_vocab(family: str) -> Path:
    return GGUF / f"ggml-vocab-{family}.gguf"


#: the Mistral 7B tokenizer files with Mistral-7B-v0.1's config.json (vLLM reads the model's config; no weights)
MISTRAL_VLLM = FIXTURES / "mistral-7b-vllm"


def _vllm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


#: vLLM lives in its own environment (.venv-vllm, docs/vllm.md); scripts/test.sh runs tests/vllm there with
#: TOKAUDIT_REQUIRE_VLLM set, so a broken vLLM install fails the run instead of skipping its tests.
needs_vllm = pytest.mark.skipif(
    not _vllm_installed() and not os.environ.get("TOKAUDIT_REQUIRE_VLLM"),
    reason="vLLM is not installed here (docs/vllm.md); scripts/test.sh runs tests/vllm in .venv-vllm",
)


def _llama_cpp_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


#: llama-cpp-python takes minutes to build, so scripts/test.sh installs it in the 5.x venv only and sets
#: TOKAUDIT_REQUIRE_LLAMA_CPP there: a missing build then fails the run instead of skipping its tests.
needs_llama_cpp = pytest.mark.skipif(
    not _llama_cpp_installed() and not os.environ.get("TOKAUDIT_REQUIRE_LLAMA_CPP"),
    reason="llama-cpp-python is not installed (pip install 'tokaudit[llama-cpp]'); scripts/test.sh builds it for 5.x",
)


#: Test modules whose subject does not change with the transformers version: the engines and readers, the
#: report formats, the gate's and the runner's bookkeeping, the CLI's plumbing. scripts/test.sh runs the
#: whole suite under 5.x and only the rest under the 4.x versions, to keep CI inside its time budget
#: (TOKAUDIT_EVERY_VERSION=1 runs everything anywhere).
ONE_VERSION = (
    "tests/datasets/",
    "tests/report/",
    "tests/cli/test_progress.py",
    "tests/cli/test_gate_cli.py",
    "tests/cli/test_bump_cli.py",
    "tests/cli/test_faults_cli.py",
    "tests/cli/test_interrupted_cli.py",
    "tests/test_runner.py",
    "tests/test_bench_scale.py",
    "tests/test_bench_rollout.py",
    "tests/test_environments.py",
    "tests/test_readers.py",
    "tests/test_corpus.py",
    "tests/test_precommit_hooks.py",
    "tests/remote/",  # the transport, with the worker in this same interpreter
    "tests/test_bench_remote.py",
    "tests/cli/test_init_cli.py",  # init reads files only; the checks it hands on to are tested everywhere
)
_ONE_VERSION_SKIP = pytest.mark.skip(
    reason="version-independent: scripts/test.sh runs it under transformers 5 (TOKAUDIT_EVERY_VERSION=1 runs it here)"
)


def _transformers_major() -> int:
    from importlib.metadata import version

    return int(version("transformers").split(".")[0])


def pytest_collection_modifyitems(items: list[Any]) -> None:
    every = bool(os.environ.get("TOKAUDIT_EVERY_VERSION")) or _transformers_major() >= 5
    for item in items:
        # tests parametrized over every registered source include `llama.cpp`: those cases need its build
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "llama.cpp" in params.values():
            item.add_marker(needs_llama_cpp)
        if "vllm" in params.values():
            item.add_marker(needs_vllm)
        where = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        if not every and where.startswith(ONE_VERSION):
            item.add_marker(_ONE_VERSION_SKIP)


def mistral_data(name: str) -> Path:
    import mistral_common

    return Path(mistral_common.__file__).parent / "data" / name


def write_config(tmp_path: Path, data: dict[str, Any] | str, name: str = "tokaudit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def side(source: str, path: Path | str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"source": source}
    if path is not None:
        out["path"] = str(path)
    out.update(extra)
    return out


def invoke(*args: str) -> Any:
    from tokaudit.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a config dict to tmp_path and return its path."""

    def make(data: dict[str, Any] | str, name: str = "tokaudit.yaml") -> Path:
        return write_config(tmp_path, data, name)

    return make
