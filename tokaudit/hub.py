"""Hub ids and revisions: which commit of a Hugging Face repository a side really loads.

An audit that names one revision and checks another is worse than none, so a Hub-id side is pinned
here, before any library loads it: the revision (a commit, a branch or a tag) is looked up in the local
HF cache with huggingface_hub's own functions, and the side then loads that snapshot folder. Offline
(HF_HUB_OFFLINE), a revision the cache does not hold is one line naming it and the commits it does hold.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tokaudit.config import HUB_ID_RE
from tokaudit.errors import SourceError

SHORT_COMMIT_RE = re.compile(r"^[0-9a-f]{7,39}$")
#: huggingface_hub's truthy spellings of a boolean environment variable
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class Pinned:
    """A Hub id at a revision, and the commit (and snapshot folder) the local cache holds for it."""

    repo_id: str
    revision: str  # as asked ("main" when none was)
    commit: str
    folder: Path

    @property
    def moved(self) -> bool:
        """The revision is a name (branch, tag) that resolved to a commit."""
        return not self.commit.startswith(self.revision)

    def shown(self) -> str:
        """`main → 26bca36…`, or the commit alone when it was asked for by commit."""
        return f"{self.revision} → {self.commit[:7]}…" if self.moved else f"{self.commit[:7]}…"


def is_hub_id(path: str | None) -> bool:
    """`org/name` that is not a path on disk (config.py reads a side's `path` the same way)."""
    if not path or str(path).startswith(".") or Path(str(path)).exists():
        return False
    return HUB_ID_RE.match(str(path)) is not None


def offline() -> bool:
    # Read at call time: huggingface_hub reads its constants once, at import.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def cache_dir() -> Path:
    """The hub cache huggingface_hub uses: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def cached_commits(repo_id: str) -> dict[str, list[str]]:
    """commit -> the refs (branches, tags) pointing at it, for every snapshot of `repo_id` in the cache."""
    from huggingface_hub import scan_cache_dir

    folder = cache_dir()
    if not folder.is_dir():
        return {}
    try:
        info = scan_cache_dir(folder)
    except Exception:  # a cache that is not one (CacheNotFound, a corrupted layout): nothing is cached
        return {}
    out: dict[str, list[str]] = {}
    for repo in info.repos:
        if repo.repo_id == repo_id and repo.repo_type == "model":
            for rev in repo.revisions:
                out[rev.commit_hash] = sorted(rev.refs)
    return out


def find(repo_id: str, revision: str | None) -> Pinned | None:
    """The cached snapshot of `repo_id` at `revision` (None: main), or None when the cache has none."""
    from huggingface_hub import snapshot_download

    asked = revision or "main"
    try:
        folder = snapshot_download(repo_id, revision=asked, cache_dir=cache_dir(), local_files_only=True)
    except Exception:  # LocalEntryNotFoundError and kin: not in the cache, or a short commit
        return _short_commit(repo_id, asked)
    path = Path(str(folder))
    return Pinned(repo_id, asked, path.name, path)


def _short_commit(repo_id: str, asked: str) -> Pinned | None:
    """`26bca36` for the one cached commit it starts (huggingface_hub resolves only refs and whole commits)."""
    if not SHORT_COMMIT_RE.match(asked):
        return None
    matches = [c for c in cached_commits(repo_id) if c.startswith(asked)]
    if len(matches) != 1:
        return None
    folder = cache_dir() / f"models--{repo_id.replace('/', '--')}" / "snapshots" / matches[0]
    return Pinned(repo_id, asked, matches[0], folder) if folder.is_dir() else None


def pin(repo_id: str, revision: str | None) -> Pinned:
    """`find`, or one line naming the revision and the commits the cache does hold (SourceError)."""
    found = find(repo_id, revision)
    if found is not None:
        return found
    asked = revision or "main"
    commits = cached_commits(repo_id)
    if commits:
        held = ", ".join(f"{c}{' (' + ', '.join(refs) + ')' if refs else ''}" for c, refs in sorted(commits.items()))
        have = f"the cache holds {held}"
    else:
        have = f"the cache ({cache_dir()}) holds no snapshot of {repo_id}"
    how = "HF_HUB_OFFLINE is set" if offline() else "only the local cache is read"
    raise SourceError(
        f"{repo_id}: revision {asked!r} is not in the local Hugging Face cache ({how}); {have} "
        f"(`hf download {repo_id} --revision {asked}` fetches it)"
    )
