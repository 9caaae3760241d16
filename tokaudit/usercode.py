"""Import the user's own code a config names (`object:`, `chat_format:`), as their pipeline imports it.

A reference is `module:attribute` (the attribute may be dotted: `my_pipeline.tokenizer:Loader.build`).
The config file's folder goes first on sys.path, so a config that sits beside `my_pipeline/` imports the
same package the training job does. This runs the user's code: importing a module executes it.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import Any

_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
REF_RE = re.compile(rf"^{_NAME}:{_NAME}$")


class UserCodeError(Exception):
    """The named code cannot be imported or used; str(exc) is one line, without the config key."""


def one_line(exc: BaseException) -> str:
    """`TypeError: first line of the message`: what a person needs without the traceback."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def import_attribute(ref: str, folder: Path | None) -> tuple[Any, Any]:
    """The module and the attribute `ref` names, with `folder` first on sys.path (UserCodeError)."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise UserCodeError(f"{ref!r} is not `module:attribute`")
    if folder is not None and str(folder) not in sys.path:
        # kept there: the user's code may import its siblings lazily, when it is called
        sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # no such module, or the module's own error while it is imported
        raise UserCodeError(f"cannot import {module_name!r} ({one_line(exc)})") from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserCodeError(f"module {module_name!r} has no attribute {attr!r}") from None
    return module, obj


def as_ids(value: Any) -> list[int] | None:
    """`value` as a list of ints (from a list, tuple or array of integers); None for anything else."""
    if isinstance(value, (str, bytes, Mapping)):
        return None
    try:
        items = list(value)
    except TypeError:
        return None
    if all(isinstance(i, Integral) and not isinstance(i, bool) for i in items):
        return [int(i) for i in items]
    return None


def shown(value: Any) -> str:
    """A returned value in an error message: its type and the start of its repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"
