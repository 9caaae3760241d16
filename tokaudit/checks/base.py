"""What every check shares: the loaded sides, the report header, config-level findings."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

from tokaudit import __version__
from tokaudit.config import COMMIT_RE, Settings
from tokaudit.errors import SourceError
from tokaudit.findings import Finding, Severity, Skipped
from tokaudit.sources import Tokenizer, load_side

SIDES = ("training", "serving")


@dataclass
class CheckResult:
    """What one check produced, before the runner assembles a Report."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sides:
    """Both sides' tokenizers, loaded."""

    training: Tokenizer
    serving: Tokenizer

    def items(self) -> list[tuple[str, Tokenizer]]:
        return [("training", self.training), ("serving", self.serving)]


def load_sides(settings: Settings) -> Sides:
    """Load both tokenizers; a failure names the config file and the side's key."""
    loaded = {}
    for name in SIDES:
        spec = getattr(settings, name)
        try:
            loaded[name] = load_side(spec)
        except SourceError as exc:
            prefix = f"{settings.config_path}: " if settings.config_path else ""
            raise SourceError(f"{prefix}{name}: {exc}") from exc
    return Sides(**loaded)


def header(settings: Settings, sides: Sides) -> dict[str, Any]:
    """Versions, backends and revision: what a reader needs to reproduce the run."""
    model = settings.model
    return {
        "tokaudit": __version__,
        "python": platform.python_version(),
        "config": str(settings.config_path) if settings.config_path else None,
        "model": model.model_dump(mode="json") if model else None,
        "sides": {name: tok.describe() for name, tok in sides.items()},
    }


def config_findings(settings: Settings) -> list[Finding]:
    """Findings about the config itself, shared by every check."""
    out = []
    revisions = [("model.revision", settings.model.revision if settings.model else None)]
    revisions += [(f"{n}.revision", getattr(settings, n).revision) for n in SIDES]
    for key, rev in revisions:
        if rev is not None and not COMMIT_RE.match(rev):
            out.append(
                Finding(
                    code="TA001",
                    severity=Severity.WARNING,
                    category="config",
                    message=f"{key} is {rev!r}, a branch or tag, not a commit: the files behind it can change",
                    hint="pin the 40-character commit hash the model was trained with",
                    detail={"key": key, "revision": rev},
                )
            )
    return out
