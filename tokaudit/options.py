"""The typed per-run options a check receives (from CLI flags or the Python API), beside the config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """Per-run choices that are not in the config (they come from flags or the Python API)."""

    #: the built-in edge-case corpus; None means the config's `builtin_corpus`
    builtin: bool | None = None
    #: diff against this lock file (from `tokaudit snapshot`) instead of side against side
    against: Path | None = None

    def use_builtin(self, configured: bool) -> bool:
        return configured if self.builtin is None else self.builtin
