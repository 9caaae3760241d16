"""The `Reloadable` capability of the `hf` source: fresh loads in threads and spawned processes, as records."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import MISTRAL_HF
from tokaudit.config import SideSpec
from tokaudit.corpus import builtin_samples
from tokaudit.sources.capabilities import Reloadable, ResolutionReporter
from tokaudit.sources.hf import TOKENIZER_FILES
from tokaudit.sources.hf_reload import copy_files
from tokaudit.sources.sides import load_side


def test_each_load_is_a_record_with_the_class_and_the_ids_of_the_audits_own_load() -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    assert isinstance(tok, Reloadable) and isinstance(tok, ResolutionReporter)
    texts = [s.text for s in builtin_samples(tok.specials())]
    records = tok.reload(texts, threads=2, processes=1)
    assert [r.name for r in records] == ["thread 1", "thread 2", "process 1"]
    own = tok.resolution()
    expected = tuple(tok.encode_all(texts))
    for r in records:
        assert r.error is None and r.asked_fast
        assert (r.cls, r.backend) == (own.cls, own.backend) == (own.cls, "tokenizers (Rust)")
        assert r.ids == expected


def test_a_load_that_fails_is_a_record_naming_the_users_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mistral"
    shutil.copytree(MISTRAL_HF, folder)
    tok = load_side(SideSpec(source="hf", path=str(folder)))
    assert isinstance(tok, Reloadable)
    for name in ("tokenizer.json", "tokenizer_config.json"):  # gone after the audit's own load
        (folder / name).unlink()
    (record,) = tok.reload(["hello"], threads=1, processes=0)
    assert record.cls is None and record.ids == ()
    looked = ", ".join(TOKENIZER_FILES)
    assert record.error == f"SourceError: cannot load {folder}: no tokenizer files in the folder (looked for {looked})"
    assert "tokaudit-load-" not in record.error  # never the temporary copy's path


def test_the_copy_has_the_folders_name_and_files_but_no_weights(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MISTRAL_HF, folder)
    (folder / "model.safetensors").write_bytes(b"\0" * 1024)
    (folder / "original").mkdir()
    (folder / "original" / "consolidated.pth").write_bytes(b"\0")
    (folder / "original" / "params.json").write_text("{}", encoding="utf-8")
    copied = copy_files(str(folder), tmp_path / "fresh")
    # the folder's own name: transformers files a folder's remote code under it
    assert copied == str(tmp_path / "fresh" / "model")
    got = sorted(str(p.relative_to(copied)) for p in Path(copied).rglob("*"))
    assert got == ["original", "original/params.json", "tokenizer.json", "tokenizer_config.json"]
    assert copy_files("mistralai/Mistral-7B-v0.1", tmp_path / "hub") is None  # a hub id: downloaded, not copied


def test_the_loads_leave_no_temporary_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tok = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    assert isinstance(tok, Reloadable)
    # a temporary directory of this test's own (here and in the processes reload starts): other tests and
    # other runs on the machine make folders with the same prefixes in the shared one at the same time
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    records = tok.reload(["hello"], threads=1, processes=1)
    assert [r.error for r in records] == [None, None]
    assert os.listdir(private) == []


def test_config_names_exactly_the_reloadable_sources() -> None:
    from tokaudit.config import RELOADABLE
    from tokaudit.sources.registry import SOURCES, source_class

    assert {n for n in SOURCES if issubclass(source_class(n), Reloadable)} == set(RELOADABLE)
