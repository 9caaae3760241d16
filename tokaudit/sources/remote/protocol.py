"""The worker protocol, shared by both ends: length-prefixed pickle frames, and errors as plain data.

Both ends are the same tokaudit (the worker runs a copy of the running package), so pickle is safe and
the tokaudit dataclasses a side returns (Resolution, LoadRecord, GgufFacts ...) travel as they are.
PROTOCOL is compared in the handshake anyway: a mismatch is refused with one line, never guessed at.
Standard library only: the worker imports this before anything that could fail.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import pickle
import struct
from enum import Enum
from pathlib import PurePath
from typing import IO, Any

#: bump on any change to the messages below
PROTOCOL = 1
_LENGTH = struct.Struct(">Q")
#: a frame longer than this is garbage on the pipe, not an answer (a batch of ids is megabytes)
MAX_FRAME = 1 << 34
PICKLE = 5

# parent -> worker: (op, *args); worker -> parent: ("ok", value) or ("err", ErrorInfo)
HELLO = "hello"  # (HELLO, {"protocol", "tokaudit", "spec", "config_dir", "debug"})
CALL = "call"  # (CALL, handle, method, args, kwargs)
GETATTR = "getattr"  # (GETATTR, handle, name)
TABLE = "table"  # (TABLE, handle, start, stop): piece, surface and is_fallback of each id
RENDER = "render"  # (RENDER, handle, messages, source, add_generation_prompt, tools, variables)
BYE = "bye"

# how a value comes back from CALL
VALUE = "v"  # ("v", value)
TOKENIZER = "tok"  # ("tok", handle, TokInfo): another Tokenizer (vocab_reader)
OBJECT = "obj"  # ("obj", handle, type name, callable member names): an Assembly and the like

_PLAIN = (type(None), bool, int, float, str, bytes, PurePath, Enum)


class BadFrame(Exception):
    """What came over the pipe is not a frame of this protocol."""


class Closed(Exception):
    """The other end closed the pipe (the process exited or was killed)."""


def write(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=PICKLE)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def read(stream: IO[bytes]) -> Any:
    head = _exactly(stream, _LENGTH.size)
    (size,) = _LENGTH.unpack(head)
    if size > MAX_FRAME:
        raise BadFrame(f"a frame of {size} bytes (starts {head!r})")
    data = _exactly(stream, size)
    try:
        return pickle.loads(data)
    except Exception as exc:
        raise BadFrame(f"{type(exc).__name__}: {exc}") from exc


def _exactly(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if not data:
        raise Closed()
    if len(data) < n:
        raise BadFrame(f"a frame cut short ({len(data)} of {n} bytes)")
    return data


def plain(value: Any) -> bool:
    """Data that crosses by value: builtins, paths, enums, tokaudit's dataclasses, and containers of them."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(plain(v) for v in value)
    if isinstance(value, dict):
        return all(plain(k) and plain(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__module__.startswith("tokaudit.")
    return False


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """An exception raised in the worker, as data: rebuilt on the other end as the same class where that class is
    a builtin or tokaudit's own (Refused, NoPipeline, SourceError with its key, RenderError), else RemoteError."""

    module: str
    name: str
    message: str
    key: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        return cls(type(exc).__module__, type(exc).__qualname__, str(exc), getattr(exc, "key", None))

    def rebuild(self) -> Exception:
        found: Any = None
        if self.module == "builtins":
            found = getattr(builtins, self.name, None)
        elif self.module.startswith("tokaudit."):
            try:
                found = getattr(importlib.import_module(self.module), self.name, None)
            except ImportError:
                found = None
        if isinstance(found, type) and issubclass(found, Exception):
            try:
                exc = found(self.message)
            except TypeError:  # a constructor with other arguments
                return RemoteError(f"{self.name}: {self.message}")
            if self.key is not None:
                exc.key = self.key  # type: ignore[attr-defined]
            return exc
        return RemoteError(f"{self.name}: {self.message}")


class RemoteError(Exception):
    """An exception of a class this process cannot rebuild (a library's own); str is `Class: message`."""
