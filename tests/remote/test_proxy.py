"""The proxy a `python:` side is: the remote side's capabilities exactly, per-token reads in a few blocks, and a
forked process (`--workers N`) with a worker of its own."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CORPUS_JSONL,
    CORPUS_TXT,
    MISTRAL_HF,
    MISTRAL_SP,
    ROOT,
    gguf_vocab,
    invoke,
    mistral_data,
    write_config,
)
from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import CAPABILITIES, TemplateRenderer
from tokaudit.sources.remote.proxy import BLOCK
from tokaudit.sources.sides import load_side

SPECS: dict[str, dict[str, Any]] = {
    "hf": {"path": str(MISTRAL_HF)},
    "sentencepiece": {"path": str(MISTRAL_SP)},
    "mistral-common": {"path": str(mistral_data("tekken_240911.json"))},
    "gguf": {"path": str(gguf_vocab("gpt-2"))},
}


def spec(source: str, remote: bool) -> SideSpec:
    out = SideSpec(source=source, **SPECS[source], python=sys.executable if remote else None)
    out._config_dir = ROOT
    return out


def implemented(obj: object) -> set[str]:
    return {name for name, cap in CAPABILITIES.items() if isinstance(obj, cap)}


@pytest.mark.parametrize("source", sorted(SPECS))
def test_the_proxy_has_exactly_the_remote_sides_capabilities(source: str) -> None:
    here, there = load_side(spec(source, False)), load_side(spec(source, True))
    try:
        assert implemented(there) == implemented(here)
        assert isinstance(there, TemplateRenderer) and not isinstance(here, TemplateRenderer)
        assert (there.source, there.library, there.special_text) == (here.source, here.library, here.special_text)
        assert there.specials() == here.specials() and there.bos_eos_defaults() == here.bos_eos_defaults()
        texts = ["Hello world", "  two  spaces", "<s> in text", "東京"]
        assert there.encode_all(texts) == here.encode_all(texts)
    finally:
        there.close()


def test_per_token_reads_come_in_blocks_and_whole_vocabulary_facts_once() -> None:
    here, there = load_side(spec("hf", False)), load_side(spec("hf", True))
    conn = there._ref.conn  # type: ignore[attr-defined]
    try:
        size = len(here.vocab_bytes())
        ids = [*range(2 * BLOCK), *range(size - 50, size + 5)]  # three blocks, the last past the vocabulary's end
        before = conn.requests
        for i in ids:
            assert there.surface(i) == here.surface(i) and there.piece(i) == here.piece(i)
            assert there.is_fallback(i) == here.is_fallback(i)
        assert conn.requests - before == 3
        before = conn.requests
        for _ in range(3):
            assert (there.bos_id, there.eos_id, there.pad_id) == (here.bos_id, here.eos_id, here.pad_id)
            assert there.special_names() == here.special_names() and there.backend() == here.backend()
            assert there.chat_templates() == here.chat_templates()
        assert conn.requests == before  # all of it came with the handshake
        assert there.vocab_bytes() == here.vocab_bytes() and there.vocab_reader() is there
        assert conn.requests == before + 2  # vocab_bytes and vocab_reader, once each
    finally:
        there.close()


_TOK: Tokenizer | None = None
_ASSEMBLY: Any = None


def _in_child(texts: list[str]) -> tuple[int, int, list[Any], list[int]]:
    assert _TOK is not None
    ids = _TOK.encode_all(texts)
    conn = _TOK._ref.conn  # type: ignore[attr-defined]
    # the pipeline was taken apart in the parent's worker; here it is made again in this process's own
    return os.getpid(), conn._proc.pid, ids, _ASSEMBLY.encode(texts[0])


def test_a_forked_process_starts_its_own_worker_and_leaves_the_parents_alone() -> None:
    global _TOK, _ASSEMBLY
    _TOK = tok = load_side(spec("hf", True))
    _ASSEMBLY = tok.pipeline()  # type: ignore[attr-defined]
    parent_worker = tok._ref.conn._proc.pid  # type: ignore[attr-defined]
    texts = ["Hello world", "  two  spaces"]
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            child, child_worker, ids, assembled = pool.submit(_in_child, texts).result()
        assert child != os.getpid() and child_worker != parent_worker
        assert ids == tok.encode_all(texts) and assembled == _ASSEMBLY.encode(texts[0])
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child_worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{child_worker}").exists(), "the child's worker outlived it"
        assert tok._ref.conn._proc.pid == parent_worker  # type: ignore[attr-defined]
    finally:
        tok.close()
        _TOK = _ASSEMBLY = None


def test_workers_2_gives_the_report_of_workers_1(tmp_path: Path) -> None:
    data = {
        "training": {"source": "sentencepiece", "path": str(MISTRAL_SP), "add_bos": True, "python": sys.executable},
        "serving": {"source": "hf", "path": str(MISTRAL_HF)},
        "corpus": [str(CORPUS_TXT), {"path": str(CORPUS_JSONL), "field": "text"}],
    }
    path = write_config(tmp_path, data)
    reports = []
    for workers in ("1", "2"):
        result = invoke("diff", path, "--workers", workers, "--format", "json", "--examples", "1000")
        assert result.exit_code == 1, result.output
        reports.append(json.loads(result.stdout))
    assert reports[0]["findings"] and reports[0]["findings"] == reports[1]["findings"]
    assert reports[0]["summary"] == reports[1]["summary"]
