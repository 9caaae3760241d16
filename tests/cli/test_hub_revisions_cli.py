"""Hub revisions that are really the ones audited: a real HF cache with two commits, HF_HUB_OFFLINE=1.

Commit A holds the MiniLM tokenizer, commit B (where `main` points) the Mistral 7B one, so the ids show
which commit a side loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MINILM, MISTRAL_HF, invoke, side
from tests.hub_cache import add_snapshot, folder_files, point_ref

REPO = "acme/tok"
A = "a" * 8 + "0123456789abcdef0123456789abcdef"
B = "b" * 8 + "0123456789abcdef0123456789abcdef"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    add_snapshot(cache, REPO, A, folder_files(MINILM))
    add_snapshot(cache, REPO, B, folder_files(MISTRAL_HF), refs=("main",))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def _json(config: Path, *extra: str) -> tuple[int, dict, str]:
    result = invoke("vocab-check", config, "--format", "json", *extra)
    out = result.stdout
    return result.exit_code, (json.loads(out) if out.strip().startswith("{") else {}), result.output


def test_the_pinned_commit_is_the_one_loaded_and_recorded(hub: Path, cfg) -> None:
    # model.revision (A) applies to the side that names none; serving asks for `main` (B)
    path = cfg(
        {
            "model": {"name": REPO, "revision": A},
            "training": side("hf", REPO),
            "serving": side("hf", REPO, revision="main"),
        }
    )
    code, report, _ = _json(path)
    assert code == 1, report
    sides = report["header"]["sides"]
    assert sides["training"]["commit"] == A and sides["training"]["revision"] == A
    assert sides["serving"]["commit"] == B and sides["serving"]["revision"] == "main"
    # MiniLM (A) vs Mistral (B): 30522 vs 32000 ids, so the two loads really are the two commits
    assert report["summary"]["training_ids"] == 30522 and report["summary"]["serving_ids"] == 32000
    # TA001 stays a warning, for the branch only
    ta001 = [f for f in report["findings"] if f["code"] == "TA001"]
    assert [f["where"] for f in ta001] == ["serving.revision"] and ta001[0]["severity"] == "warning"


def test_a_branch_shows_the_commit_it_resolved_to(hub: Path, cfg) -> None:
    path = cfg({"model": {"name": REPO, "revision": "main"}, "training": side("hf", REPO), "serving": side("hf", REPO)})
    result = invoke("vocab-check", path)
    assert result.exit_code == 0, result.output
    assert f"@ main → {B[:7]}…" in result.stdout
    assert f"{REPO} @ main" in result.stdout


def test_a_revision_not_in_the_cache_is_one_line_naming_the_commits_present(hub: Path, cfg) -> None:
    absent = "c" * 40
    path = cfg({"model": {"name": REPO, "revision": absent}, "training": side("hf", REPO), "serving": side("hf", REPO)})
    result = invoke("diff", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"revision '{absent}' is not in the local Hugging Face cache" in lines[0]
    assert "training" in lines[0] and A in lines[0] and f"{B} (main)" in lines[0]


def test_against_says_when_the_files_behind_a_revision_changed(hub: Path, cfg, tmp_path: Path) -> None:
    path = cfg({"training": side("hf", MISTRAL_HF), "serving": side("hf", REPO, revision="main")})
    lock = tmp_path / "tokaudit.lock.json"
    assert invoke("snapshot", path, "-o", lock).exit_code == 0
    assert json.loads(lock.read_text())["sides"]["serving"]["commit"] == B
    point_ref(hub, REPO, "main", A)  # main moves to another commit
    result = invoke("diff", path, "--against", lock, "--format", "json")
    assert result.exit_code == 1
    found = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    assert "TA503" in found and "TA501" in found
    assert f"at commit {B[:7]}… at snapshot time and at {A[:7]}… now" in found["TA503"]["message"]


def test_a_short_commit_and_a_branch_resolve_in_the_cache(hub: Path) -> None:
    from tokaudit.hub import find

    short = find(REPO, A[:7])
    assert short is not None and short.commit == A and short.folder.name == A and short.shown() == f"{A[:7]}…"
    branch = find(REPO, None)
    assert branch is not None and branch.revision == "main" and branch.commit == B
    assert branch.shown() == f"main → {B[:7]}…"
    assert find(REPO, "c" * 40) is None and find("acme/other", None) is None
