"""Findings about the config itself (unpinned revisions), part of every run."""

from __future__ import annotations

from tokaudit.codes import finding
from tokaudit.config import COMMIT_RE, Settings
from tokaudit.findings import Finding


def config_findings(settings: Settings) -> list[Finding]:
    """TA001 for every `revision` that is a branch or tag rather than a commit."""
    out = []
    revisions = [("model.revision", settings.model.revision if settings.model else None)]
    revisions += [(f"{n}.revision", getattr(settings, n).revision) for n in ("training", "serving")]
    for key, rev in revisions:
        if rev is not None and not COMMIT_RE.match(rev):
            out.append(
                finding(
                    "TA001",
                    f"{key} is {rev!r}, a branch or tag, not a commit: the files behind it can change",
                    where=key,
                    detail={"key": key, "revision": rev},
                )
            )
    return out
