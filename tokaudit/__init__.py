"""tokaudit: catch training-serving tokenizer skew before it silently costs a training run."""

from __future__ import annotations

from typing import Any

from tokaudit.version import __version__


def audit(config: Any, command: str = "check", **options: Any) -> Any:
    """Run tokaudit on a config (path or dict) and return the Report. See tokaudit.api.audit."""
    from tokaudit.api import audit as _audit

    return _audit(config, command, **options)


__all__ = ["__version__", "audit"]
