"""Line-by-line JSONL reading shared by the conversation and dataset readers.

A bad line is a problem to report with its line number, never a crash and never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError


def read_jsonl(path: Path, key: str) -> Iterator[tuple[str, int, Any, str | None]]:
    """Yield (where, line number, parsed value, problem) for every non-blank line.

    `problem` is set (and the value is None) for invalid UTF-8 and for text that is not JSON. An
    unreadable file raises InputError prefixed with `key` (`cfg.yaml: conversations`)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    name = Path(path).name
    for n, line in enumerate(raw.split(b"\n"), start=1):
        where = f"{name}:{n}"
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield where, n, None, f"invalid UTF-8 at byte {exc.start}"
            continue
        if not text:
            continue
        try:
            yield where, n, json.loads(text), None
        except json.JSONDecodeError as exc:
            yield where, n, None, f"not JSON: {exc.msg} (column {exc.colno})"
