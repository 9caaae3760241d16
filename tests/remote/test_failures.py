"""A worker that cannot start, dies, or answers garbage is one `error:` line naming the side and the interpreter
(exit 2); a library that prints cannot corrupt the protocol; workers do not outlive the run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MISTRAL_HF, invoke, side, write_config
from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.remote import protocol
from tokaudit.sources.sides import load_side

USER_CODE = """
import os


class Tok:
    def __init__(self, die):
        self.die = die

    def encode(self, text):
        print("a library printing on stdout")  # goes to the worker's stderr, never into a frame
        if self.die and "please die" in text:
            os._exit(3)
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


dying = Tok(True)
steady = Tok(False)
"""


def config(tmp_path: Path, python: str, **training: object) -> Path:
    data = {
        "training": {**side("hf", MISTRAL_HF), **training, "python": python},
        "serving": side("hf", MISTRAL_HF),
        "corpus": [str(CORPUS_TXT)],
    }
    return write_config(tmp_path, data)


def one_error_line(result: object, config: Path) -> str:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    (line,) = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert line.startswith(f"error: {config}: training.python: "), line
    return line


def test_an_interpreter_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    path = config(tmp_path, "venv/bin/python")
    line = one_error_line(invoke("diff", path), path)
    assert line == f"error: {path}: training.python: no such interpreter: {tmp_path / 'venv' / 'bin' / 'python'}"


def test_an_environment_without_the_libraries_says_what_to_install(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    python = tmp_path / "bare" / "bin" / "python"
    path = config(tmp_path, str(python))
    line = one_error_line(invoke("diff", path), path)
    assert f"training.python: {python}: cannot load the side there: ModuleNotFoundError: No module named " in line
    assert f"{python} -m pip install " in line


def test_a_file_that_is_not_python_is_one_line(tmp_path: Path) -> None:
    script = tmp_path / "not-python"
    script.write_text("#!/bin/sh\necho hello there\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    path = config(tmp_path, str(script))
    line = one_error_line(invoke("diff", path), path)
    assert f"{script}: the worker answered something that is not tokaudit's protocol" in line

    text = tmp_path / "text-file"
    text.write_text("not a program\n", encoding="utf-8")
    path = config(tmp_path, str(text))
    line = one_error_line(invoke("diff", path), path)
    assert line == f"error: {path}: training.python: {text}: cannot run it (Permission denied)"


def test_a_worker_that_dies_mid_run_is_one_line_with_its_last_words(tmp_path: Path) -> None:
    (tmp_path / "user_tok.py").write_text(USER_CODE, encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("fine\nplease die now\n", encoding="utf-8")
    data = {
        "training": {"source": "python", "object": "user_tok:dying", "python": sys.executable},
        "serving": {"source": "python", "object": "user_tok:steady"},
        "corpus": [str(corpus)],
    }
    path = write_config(tmp_path, data)
    line = one_error_line(invoke("diff", path, "--no-builtin"), path)
    assert line == (
        f"error: {path}: training.python: {sys.executable}: the worker exited while answering encode_all "
        "(exit 3): a library printing on stdout"
    )


def test_the_sides_own_load_error_keeps_its_key_and_names_the_interpreter(tmp_path: Path) -> None:
    data = {
        "training": {"source": "python", "object": "no_such_module:thing", "python": sys.executable},
        "serving": side("hf", MISTRAL_HF),
    }
    path = write_config(tmp_path, data)
    result = invoke("diff", path)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: training.object: no_such_module:thing: ")
    assert line.endswith(f"(in {sys.executable})")


def test_another_protocol_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "PROTOCOL", protocol.PROTOCOL + 1)
    with pytest.raises(SourceError) as caught:
        load_side(SideSpec(source="hf", path=str(MISTRAL_HF), python=sys.executable), "cfg.yaml: training.python")
    assert caught.value.key == "python"
    assert str(caught.value) == (
        f"{sys.executable}: its tokaudit is 0.1.0 (worker protocol {protocol.PROTOCOL - 1}), this one is 0.1.0 "
        f"(protocol {protocol.PROTOCOL}): both ends must be the same tokaudit"
    )


def test_a_worker_killed_after_loading_fails_the_next_call_and_close_reaps_it() -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF), python=sys.executable), "cfg.yaml: training.python")
    proc = tok._ref.conn._proc  # type: ignore[attr-defined]
    assert tok.encode_all(["Hello"]) == [[1, 22557]]
    proc.kill()
    with pytest.raises(SourceError) as caught:
        tok.encode_all(["Hello again"])
    assert str(caught.value) == (
        f"cfg.yaml: training.python: {sys.executable}: the worker exited while answering encode_all "
        "(killed by signal 9): (no output)"
    )
    assert proc.returncode is not None  # waited for: no zombie


def test_the_run_leaves_no_worker_behind(tmp_path: Path) -> None:
    path = config(tmp_path, sys.executable)
    assert invoke("diff", path).exit_code == 0  # the same tokenizer on both sides
    assert _workers_of(os.getpid()) == []


def _workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"tokaudit.sources.remote.worker" in cmdline:
            found.append(int(entry.name))
    return found


def test_debug_lets_the_workers_output_through(tmp_path: Path) -> None:
    (tmp_path / "user_tok.py").write_text(USER_CODE, encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("fine\nplease die now\n", encoding="utf-8")
    data = {
        "training": {"source": "python", "object": "user_tok:dying", "python": sys.executable},
        "serving": {"source": "python", "object": "user_tok:steady"},
        "corpus": [str(corpus)],
    }
    path = write_config(tmp_path, data)
    cmd = [sys.executable, "-m", "tokaudit", "diff", str(path), "--no-builtin", "--debug"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "a library printing on stdout" in done.stderr  # the worker's own stderr, on the terminal
    assert "the worker exited while answering encode_all (exit 3): its output is above" in done.stderr
