"""Keep third-party log noise (transformers, tokenizers, Ray, llama.cpp) off the user's terminal."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any


def import_transformers() -> Any:
    """Import transformers quietly: tokaudit needs no torch, so its "PyTorch was not found" notice is noise."""
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import transformers

    # 4.x's GGUF converter draws a tqdm bar while it rebuilds merges: noise on the user's terminal
    transformers.utils.logging.disable_progress_bar()
    return transformers


_debug = False


def set_debug(on: bool) -> None:
    """--debug: let libraries that log from C (llama.cpp) through to the terminal. Forked workers inherit it."""
    global _debug
    _debug = on


def debugging() -> bool:
    return _debug


def silence_libraries() -> None:
    """Called in every process that loads tokenizers (the CLI, worker processes, Ray actors)."""
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("transformers", "tokenizers", "ray", "ray.data", "sentencepiece"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def stderr_to_file(keep: bool = False) -> Iterator[None]:
    """Send what C/C++ code writes to file descriptor 2 (Ray's core worker, llama.cpp) to a temporary
    file for the duration; with `keep` (--debug) it is copied back to stderr afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if keep:
                sink.seek(0)
                sys.stderr.write(sink.read().decode("utf-8", errors="replace"))
