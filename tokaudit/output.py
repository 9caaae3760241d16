"""Writing a report, a lock or a baseline: atomically, and never over the user's config or a device."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tokaudit.errors import TokauditError


def write_file(text: str, output: Path, protect: Path | None = None) -> None:
    """Write `text` to `output` so that a failed run never leaves half a file: into a temporary
    `.tokaudit-*` file beside it, renamed over it only once complete. A failed or interrupted write
    removes the temporary; only a SIGKILL in the instant of writing can leave one behind.

    Refuses to write over `protect` (the config). Writes *into* a device or FIFO (/dev/null,
    /dev/stdout) and *through* a symlink, because renaming over either would replace it.
    """
    if protect is not None and output.exists() and output.resolve() == protect.resolve():
        raise TokauditError(f"{output}: refusing to overwrite the config file with the output")
    target = output.resolve() if output.is_symlink() else output
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise TokauditError(f"{output}: is a directory; give a file name")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tokaudit-")
    except OSError as exc:
        raise TokauditError(f"{output}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; an output is an ordinary file
        os.replace(tmp, target)
    except BaseException as exc:  # a full disk, Ctrl-C mid-write: the old file stays, the temporary goes
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise TokauditError(f"{output}: cannot write: {exc.strerror or exc}") from exc
        raise
