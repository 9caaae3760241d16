"""Expected, user-caused errors. The CLI prints them as one line and exits 2."""

from __future__ import annotations


class TokauditError(Exception):
    """A problem with the user's input that tokaudit can name in one line."""


class ConfigError(TokauditError):
    """The YAML config is unreadable, malformed or names something that is not there."""


class SourceError(TokauditError):
    """A tokenizer source could not be loaded as configured.

    `key` names the side's config key at fault (`object`), so the loader can say `training.object: ...`."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class InputError(TokauditError):
    """Input data (corpus, conversations, lock file ...) is unusable, or nothing could be checked."""
