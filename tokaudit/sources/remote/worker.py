"""The worker: `python -m tokaudit.sources.remote.worker`, started by client.py in another interpreter.

It loads one side with the normal registry (the SideSpec without `python:`) in its own environment, then
answers batched requests until BYE or end of input. The protocol has the real stdout to itself: file
descriptor 1 is pointed at stderr before anything is imported, so a library that prints cannot corrupt a
frame. It imports only what the side needs (no CLI, runner or checks).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import signal
import sys
from typing import IO, Any

from tokaudit.sources.remote import protocol as p


def _pipes() -> tuple[IO[bytes], IO[bytes]]:
    """The protocol's own copies of stdin/stdout; fd 0 becomes /dev/null and fd 1 stderr."""
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return proto_in, proto_out


class Worker:
    """The loaded side and every object handed out by handle (handle 0 is the side)."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}

    def hello(self, msg: dict[str, Any]) -> dict[str, Any]:
        from tokaudit.version import __version__

        info: dict[str, Any] = {
            "protocol": p.PROTOCOL,
            "tokaudit": __version__,
            "python_version": platform.python_version(),
            "executable": sys.executable,
        }
        if msg.get("protocol") != p.PROTOCOL or msg.get("tokaudit") != __version__:
            return info  # the parent refuses it; nothing is loaded
        from tokaudit.config import SideSpec
        from tokaudit.quiet import set_debug, silence_libraries
        from tokaudit.snapshot import package_versions
        from tokaudit.sources.sides import load_side

        set_debug(bool(msg.get("debug")))
        silence_libraries()
        spec = SideSpec.model_validate(msg["spec"])
        spec._config_dir = msg.get("config_dir")
        self.objects[0] = load_side(spec)
        info["packages"] = package_versions()
        info["renders"] = all(importlib.util.find_spec(m) is not None for m in ("transformers", "jinja2"))
        info["side"] = self.tok_info(self.objects[0])
        return info

    def tok_info(self, tok: Any) -> dict[str, Any]:
        """What the parent caches of a Tokenizer: its capabilities, attributes and vocabulary-wide facts."""
        from tokaudit.sources.capabilities import CAPABILITIES

        facts: dict[str, Any] = {}
        for name in ("specials", "backend", "version", "describe", "bos_eos_defaults", "chat_templates"):
            facts[name] = _attempt(getattr(tok, name))
        for name in ("bos_id", "eos_id", "pad_id"):
            facts[name] = _attempt(lambda n=name: getattr(tok, n))
        return {
            "capabilities": sorted(n for n, cap in CAPABILITIES.items() if isinstance(tok, cap)),
            "attrs": {
                "source": tok.source,
                "library": tok.library,
                "native_modes": tok.native_modes,
                "default_special_text": tok.default_special_text,
                "special_text": tok.special_text,
            },
            "facts": facts,
        }

    def answer(self, msg: tuple[Any, ...]) -> Any:
        op = msg[0]
        if op == p.CALL:
            _, handle, method, args, kwargs = msg
            return self.wrap(getattr(self.objects[handle], method)(*args, **kwargs))
        if op == p.GETATTR:
            return self.wrap(getattr(self.objects[msg[1]], msg[2]))
        if op == p.TABLE:
            _, handle, start, stop = msg
            tok = self.objects[handle]
            fns = (tok.piece, tok.surface, tok.is_fallback)
            return [[_attempt(fn, i) for i in range(start, stop)] for fn in fns]
        if op == p.RENDER:
            from tokaudit.chat import Template, render_text

            _, handle, messages, source, gen, tools, variables = msg
            return render_text(self.objects[handle], Template("jinja", source), messages, gen, tools, variables)
        raise ValueError(f"unknown request {op!r}")

    def wrap(self, value: Any) -> Any:
        from tokaudit.sources.base import Tokenizer

        if p.plain(value):
            return (p.VALUE, value)
        # the same object gets the same handle (a side's vocab_reader() is most often the side itself)
        handle = next((h for h, obj in self.objects.items() if obj is value), len(self.objects))
        self.objects[handle] = value
        if isinstance(value, Tokenizer):
            return (p.TOKENIZER, handle, self.tok_info(value))
        names = sorted(n for n in dir(value) if not n.startswith("_") and callable(getattr(value, n, None)))
        return (p.OBJECT, handle, type(value).__name__, names)


def _attempt(fn: Any, *args: Any) -> Any:
    """fn(*args), or the exception it raised as ErrorInfo (the parent raises it when the value is used)."""
    try:
        return fn(*args)
    except Exception as exc:
        return p.ErrorInfo.of(exc)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it then says BYE
    proto_in, proto_out = _pipes()
    worker = Worker()
    while True:
        try:
            msg = p.read(proto_in)
        except p.Closed:
            return  # the parent is gone
        if msg[0] == p.BYE:
            return
        try:
            reply: tuple[str, Any] = ("ok", worker.hello(msg[1]) if msg[0] == p.HELLO else worker.answer(msg))
        except Exception as exc:
            reply = ("err", p.ErrorInfo.of(exc))
        try:
            p.write(proto_out, reply)
        except Exception as exc:  # a value that does not pickle: say so instead of dying mid-frame
            p.write(proto_out, ("err", p.ErrorInfo.of(exc)))


if __name__ == "__main__":
    main()
