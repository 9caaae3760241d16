"""Expected, user-caused errors. The CLI prints them as one line and exits 2."""

from __future__ import annotations

#: where str.splitlines() breaks a line; a message shows them escaped, so it stays one line whatever
#: it quotes (a path or a field name from a file can hold a newline)
_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


class TokauditError(Exception):
    """A problem with the user's input that tokaudit can name in one line."""

    def __init__(self, message: object = "") -> None:
        super().__init__(str(message).translate(_BREAKS))


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
