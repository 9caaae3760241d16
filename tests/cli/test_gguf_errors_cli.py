"""Bad GGUF input is one line naming the file and the key, exit 2, and none of llama.cpp's own log
lines (written from C to file descriptor 2, so the CLI runs as a real process here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, gguf_vocab, needs_llama_cpp, side, write_config

#: imports blocked as if the extra were not installed
BLOCK = """
import sys
import transformers  # probes which optional packages exist first (4.x asks for gguf's spec), as in a real env
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Missing())
from tokaudit.cli import main
sys.argv = ["tokaudit", *sys.argv[1:]]
main()
"""


def tokaudit(config: Path, *args: str, blocked: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", BLOCK.format(blocked=set(blocked)), "vocab-check", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no traceback, no llama.cpp / ggml log lines
    assert "Traceback" not in done.stderr and "llama_model_load" not in done.stderr
    return lines[0]


def config(tmp_path: Path, source: str, path: Path) -> Path:
    other = "gguf" if source == "llama.cpp" else "llama.cpp"
    return write_config(tmp_path, {"training": side(other, gguf_vocab("gpt-2")), "serving": side(source, path)})


def truncated(tmp_path: Path) -> Path:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_vocab("phi-3").read_bytes()[:300_000])  # inside the token list
    return cut


def not_gguf(tmp_path: Path) -> Path:
    fake = tmp_path / "model.gguf"
    fake.write_text("this is a README, not a model\n", encoding="utf-8")
    return fake


@needs_llama_cpp
@pytest.mark.parametrize("source", ["gguf", "llama.cpp"])
@pytest.mark.parametrize("make", [truncated, not_gguf], ids=["truncated", "not-a-gguf"])
def test_a_broken_file_is_one_line(tmp_path: Path, source: str, make: object) -> None:
    bad = make(tmp_path)  # type: ignore[operator]
    line = one_line(tokaudit(config(tmp_path, source, bad)))
    assert f"serving.path: {bad}" in line
    assert ("truncated or corrupt" in line) if make is truncated else ("not a GGUF file" in line)


def test_a_tokenizer_type_transformers_cannot_convert(tmp_path: Path) -> None:
    path = gguf_vocab("bert-bge")  # tokenizer.ggml.model `bert`: no GGUF converter in transformers
    cfg = write_config(tmp_path, {"training": side("gguf", path), "serving": side("gguf", gguf_vocab("gpt-2"))})
    line = one_line(tokaudit(cfg))
    assert f"training.path: {path}: transformers" in line and "cannot build a tokenizer from this GGUF" in line
    assert "'bert'" in line


@pytest.mark.parametrize(
    ("source", "blocked", "install"),
    [("llama.cpp", ("llama_cpp",), "tokaudit[llama-cpp]"), ("gguf", ("gguf",), "tokaudit[gguf]")],
)
def test_a_missing_extra_says_which_pip_install(
    tmp_path: Path, source: str, blocked: tuple[str, ...], install: str
) -> None:
    cfg = write_config(
        tmp_path, {"training": side(source, gguf_vocab("gpt-2")), "serving": side("hf", ROOT / "fixtures" / "minilm")}
    )
    line = one_line(tokaudit(cfg, blocked=blocked))
    assert f"{cfg}: training.source: " in line
    assert f"pip install '{install}'" in line


@needs_llama_cpp
def test_llama_cpp_logs_only_with_debug(tmp_path: Path) -> None:
    cfg = config(tmp_path, "llama.cpp", truncated(tmp_path))
    quiet = tokaudit(cfg)
    assert "llama_model_load" not in quiet.stderr and "gguf_init" not in quiet.stderr
    loud = tokaudit(cfg, "--debug")
    assert loud.returncode == 2 and ("gguf_init" in loud.stderr or "llama_model_load" in loud.stderr)
