"""A real Hugging Face hub cache, laid out as huggingface_hub documents it, built from fixture files.

`models--<org>--<name>/blobs/<sha256>` holds each file once, `snapshots/<commit>/<file>` links to its blob
and `refs/<branch>` holds a commit: what `snapshot_download` leaves behind, with no network.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_snapshot(cache: Path, repo_id: str, commit: str, files: dict[str, bytes], refs: tuple[str, ...] = ()) -> Path:
    """One commit of `repo_id` in `cache` (an HF_HUB_CACHE folder); each ref in `refs` points at it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        point_ref(cache, repo_id, ref, commit)
    return snapshot


def point_ref(cache: Path, repo_id: str, ref: str, commit: str) -> None:
    path = cache / f"models--{repo_id.replace('/', '--')}" / "refs" / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(commit)


def folder_files(folder: Path, **extra: bytes) -> dict[str, bytes]:
    """Every file of a fixture folder, plus `extra` (name -> bytes)."""
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    files.update(extra)
    return files
