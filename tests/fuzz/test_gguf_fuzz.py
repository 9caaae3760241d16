"""Fuzzed GGUF metadata (wrong types, wrong counts, missing keys, odd architectures, written by the gguf
package's GGUFWriter): read_gguf gives facts or one SourceError line; `vocab-check` and `diff` on the
`gguf` source (and `llama.cpp`, in a process of its own, where its C code logs) a report or one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings

from tests.conftest import ROOT, needs_llama_cpp, side, write_config
from tests.fuzz.conftest import assert_outcome, budget, cli, no_hang, scratch
from tests.fuzz.gguf_meta import base, metadata, mutated, write
from tokaudit.errors import SourceError
from tokaudit.sources.gguf_file import read_gguf

CORPUS = "a b ab\n▁a <s> </s> <|endoftext|>\n\n\x00 é\n"


def _files(tmp: Path, drawn: tuple[str, Any, int | None]) -> tuple[Path, Path] | None:
    arch, meta, rows = drawn
    bad = write(tmp / "bad.gguf", arch, meta, rows)
    family = "llama" if meta.get("tokenizer.ggml.model", ("",))[0] == "llama" else "gpt2"
    good = write(tmp / "good.gguf", *base(family))
    assert good is not None
    return None if bad is None else (bad, good)


@settings(max_examples=budget(150))
@given(drawn=metadata())
# found: a token list that is a number was a TypeError from len() in facts()
@example(drawn=mutated("llama", **{"tokenizer.ggml.tokens": (255, "UINT8", None)}))
def test_any_gguf_metadata_reads_as_facts_or_one_source_error(drawn: Any) -> None:
    with scratch() as tmp:
        files = _files(tmp, drawn)
        if files is None:
            return
        with no_hang():
            try:
                read_gguf(str(files[0])).facts()
            except SourceError as exc:
                assert len(str(exc).splitlines()) == 1, str(exc)


def _config(tmp: Path, files: tuple[Path, Path], source: str) -> Path:
    (tmp / "c.txt").write_text(CORPUS, encoding="utf-8")
    sides = {"training": side(source, files[0]), "serving": side(source, files[1])}
    return write_config(tmp, {**sides, "corpus": ["c.txt"], "builtin_corpus": False})


@settings(max_examples=budget(40))
@given(drawn=metadata())
# found: a chat_template that is an array went through the converter into the fast class, whose TypeError
# was a traceback
@example(drawn=mutated("llama", **{"tokenizer.chat_template": ([0], "ARRAY", "UINT8")}))
def test_any_gguf_through_the_cli_is_a_report_or_one_error_line(drawn: Any) -> None:
    with scratch() as tmp:
        files = _files(tmp, drawn)
        if files is not None:
            config = _config(tmp, files, "gguf")
            cli("vocab-check", config)
            cli("diff", config)


def _in_a_process(config: Path) -> None:
    # a process of its own: llama.cpp logs from C to file descriptor 2, and aborts, which only a real process shows
    for command in ("vocab-check", "diff"):
        done = subprocess.run(
            [sys.executable, "-m", "tokaudit", command, str(config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert_outcome(done.returncode, done.stderr)


@needs_llama_cpp
@settings(max_examples=budget(3))
@given(drawn=metadata())
def test_any_gguf_through_llama_cpp_is_a_report_or_one_error_line(drawn: Any) -> None:
    with scratch() as tmp:
        files = _files(tmp, drawn)
        if files is not None:
            _in_a_process(_config(tmp, files, "llama.cpp"))


@needs_llama_cpp
def test_a_sentencepiece_gguf_without_byte_tokens_is_one_error_not_an_abort(tmp_path: Path) -> None:
    # found by the fuzzer: llama.cpp spells a character it has no piece for as byte tokens and looks them up
    # with unordered_map::at; without them, std::out_of_range aborted the process (exit 134, a gdb backtrace)
    bad = write(tmp_path / "bad.gguf", *base("llama", byte_tokens=False))
    good = write(tmp_path / "good.gguf", *base("llama"))
    assert bad is not None and good is not None
    config = _config(tmp_path, (bad, good), "llama.cpp")
    _in_a_process(config)
    done = subprocess.run([sys.executable, "-m", "tokaudit", "diff", str(config)], capture_output=True, text=True)
    assert done.returncode == 2 and "lacks the byte tokens it falls back on for 254 of 256 bytes" in done.stderr
