"""The side as checks see it: a Tokenizer whose every call is answered by the worker in the other interpreter.

The proxy class is built per set of capabilities the remote side has (the handshake names them), with a
real method for each protocol member: runtime_checkable isinstance looks at the class, never __getattr__,
so `isinstance(side, Pipeline)` holds exactly when it holds in the worker. What the checks read per token
(piece, surface, is_fallback) comes in blocks of ids and is kept; what does not change (specials, BOS/EOS,
templates, describe) comes once. An object a call returns that is not plain data (a pipeline's Assembly)
stays in the worker and is used by handle.
"""

from __future__ import annotations

import functools
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import CAPABILITIES
from tokaudit.sources.remote import protocol as p
from tokaudit.sources.remote.client import Connection

#: ids per TABLE request (piece, surface and is_fallback of each)
BLOCK = 4096
#: zero-argument methods whose answer does not change: asked once
_ONCE = (
    "vocab_bytes",
    "added_tokens",
    "roles",
    "split_patterns",
    "file_limits",
    "files_dir",
    "template_vars",
    "vocab_reader",
)


class Ref:
    """A handle in the worker. After a fork the new process's worker has none of the old handles: the call
    that made this one is made again there (handle 0, the side, is made by the handshake)."""

    def __init__(self, conn: Connection, handle: int, recipe: tuple[Ref, str, tuple[Any, ...], dict[str, Any]] | None):
        self.conn = conn
        self._handle = handle
        self._generation = conn.generation
        self.recipe = recipe

    def handle(self) -> int:
        self.conn.ensure()
        if self._generation != self.conn.generation:
            if self.recipe is None:
                self._handle = 0
            else:
                parent, method, args, kwargs = self.recipe
                self._handle = self.conn.call(p.CALL, parent.handle(), method, args, kwargs)[1]
            self._generation = self.conn.generation
        return self._handle

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        got = self.conn.call(p.CALL, self.handle(), method, args, kwargs)
        return self.unwrap(got, (self, method, args, kwargs))

    def unwrap(self, got: Any, recipe: tuple[Ref, str, tuple[Any, ...], dict[str, Any]] | None) -> Any:
        kind = got[0]
        if kind == p.VALUE:
            return got[1]
        ref = Ref(self.conn, got[1], recipe)
        if kind == p.TOKENIZER:
            return RemoteTokenizer.made(ref, got[2])
        return RemoteObject(ref, got[2], frozenset(got[3]))


class RemoteObject:
    """Any other object a call returned (an Assembly): its methods are called in the worker, its attributes read
    there (an Assembly's `encodes` changes with every encode)."""

    def __init__(self, ref: Ref, kind: str, methods: frozenset[str]) -> None:
        self._ref, self._kind, self._methods = ref, kind, methods

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._methods:
            return functools.partial(self._ref.call, name)
        return self._ref.unwrap(self._ref.conn.call(p.GETATTR, self._ref.handle(), name), None)

    def __repr__(self) -> str:
        return f"<{self._kind} in {self._ref.conn.python}>"


class RemoteTokenizer(Tokenizer):
    """A side loaded by a worker; `python` names its interpreter in describe()."""

    def __init__(self, spec: SideSpec, ref: Ref, info: dict[str, Any]) -> None:
        super().__init__(spec)
        self._ref = ref
        for key, value in info["attrs"].items():
            setattr(self, key, value)
        self._facts: dict[str, Any] = dict(info["facts"])
        self._blocks: dict[int, list[list[Any]]] = {}

    @classmethod
    def made(cls, ref: Ref, info: dict[str, Any], spec: SideSpec | None = None) -> RemoteTokenizer:
        """A proxy of the class that has exactly the remote object's capabilities."""
        caps = tuple(info["capabilities"]) + (("TemplateRenderer",) if ref.conn.info.get("renders") else ())
        spec = spec or SideSpec.model_validate({**ref.conn.spec, "python": ref.conn.python})
        return _proxy_class(caps)(spec, ref, info)

    # -- what is asked once -------------------------------------------------------------------
    def _fact(self, name: str) -> Any:
        if name not in self._facts:
            self._facts[name] = self._ref.call(name)
        value = self._facts[name]
        if isinstance(value, p.ErrorInfo):
            raise value.rebuild()
        return value

    def specials(self) -> dict[str, int]:
        return dict(self._fact("specials"))

    @property
    def bos_id(self) -> int | None:
        return self._fact("bos_id")  # type: ignore[no-any-return]

    @property
    def eos_id(self) -> int | None:
        return self._fact("eos_id")  # type: ignore[no-any-return]

    @property
    def pad_id(self) -> int | None:
        return self._fact("pad_id")  # type: ignore[no-any-return]

    def backend(self) -> str:
        return str(self._fact("backend"))

    def version(self) -> str:
        return str(self._fact("version"))

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        return tuple(self._fact("bos_eos_defaults"))  # type: ignore[return-value]

    def chat_templates(self) -> dict[str, str]:
        return dict(self._fact("chat_templates"))

    def describe(self) -> dict[str, Any]:
        info = self._ref.conn.info
        where = {"path": self._ref.conn.python, "version": info["python_version"], "packages": info["packages"]}
        return {**self._fact("describe"), "python": where}

    def vocab_reader(self) -> Tokenizer:
        reader = self._fact("vocab_reader")
        return self if isinstance(reader, RemoteTokenizer) and reader._ref.handle() == self._ref.handle() else reader  # type: ignore[no-any-return]

    # -- per id, in blocks ----------------------------------------------------------------------
    def _row(self, token_id: int, column: int) -> Any:
        start = token_id - token_id % BLOCK
        block = self._blocks.get(start)
        if block is None:
            block = self._blocks[start] = self._ref.conn.call(p.TABLE, self._ref.handle(), start, start + BLOCK)
        value = block[column][token_id - start]
        if isinstance(value, p.ErrorInfo):
            raise value.rebuild()
        return value

    def piece(self, token_id: int) -> str:
        return self._row(token_id, 0)  # type: ignore[no-any-return]

    def _surface(self, token_id: int) -> bytes | None:
        return self._row(token_id, 1)  # type: ignore[no-any-return]

    def is_fallback(self, token_id: int) -> bool:
        return self._row(token_id, 2)  # type: ignore[no-any-return]

    # -- per call -------------------------------------------------------------------------------
    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        return self._ref.call("encode_batch", texts, mode, bare)  # type: ignore[no-any-return]

    def encode_all(self, texts: list[str]) -> list[list[int] | str]:
        return self._ref.call("encode_all", texts)  # type: ignore[no-any-return]

    def encode_rendered(self, text: str, add_special: bool) -> list[int]:
        return self._ref.call("encode_rendered", text, add_special)  # type: ignore[no-any-return]

    def encode_offsets(self, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]] | None:
        return self._ref.call("encode_offsets", text, add_special_tokens)  # type: ignore[no-any-return]

    def normalize(self, text: str) -> str | None:
        return self._ref.call("normalize", text)  # type: ignore[no-any-return]

    def decode_each(self, ids: list[int]) -> list[str]:
        return self._ref.call("decode_each", ids)  # type: ignore[no-any-return]

    def decode_all(self, batch: list[list[int]], skip_special_tokens: bool) -> list[str]:
        return self._ref.call("decode_all", batch, skip_special_tokens)  # type: ignore[no-any-return]

    def encode_rendered_all(self, texts: list[str], add_special: bool) -> list[list[int]]:
        return self._ref.call("encode_rendered_all", texts, add_special)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._ref.recipe is None:
            self._ref.conn.close()


def _once(name: str) -> Any:
    def method(self: RemoteTokenizer) -> Any:
        return self._fact(name)

    method.__name__ = name
    return method


for _name in _ONCE:
    if _name != "vocab_reader":
        setattr(RemoteTokenizer, _name, _once(_name))


def _forward(name: str, memo: bool) -> Any:
    def method(self: RemoteTokenizer, *args: Any, **kwargs: Any) -> Any:
        if memo and not args and not kwargs:
            return self._fact(name)
        return self._ref.call(name, *args, **kwargs)

    method.__name__ = name
    return method


def _render_template(
    self: RemoteTokenizer,
    messages: list[dict[str, Any]],
    source: str,
    add_generation_prompt: bool,
    tools: list[dict[str, Any]] | None,
    variables: dict[str, Any] | None,
) -> tuple[str, tuple[tuple[int, int], ...]]:
    ref = self._ref
    text, spans = ref.conn.call(p.RENDER, ref.handle(), messages, source, add_generation_prompt, tools, variables)
    return text, tuple(tuple(s) for s in spans)  # type: ignore[misc]


def _members(protocol: type) -> dict[str, bool | None]:
    """A protocol's own members: name -> takes no argument but self (asked once); None for a data member (an
    annotation, read from the worker each time)."""
    import inspect

    out: dict[str, bool | None] = {n: None for n in getattr(protocol, "__annotations__", {}) if not n.startswith("_")}
    for name, value in vars(protocol).items():
        if name.startswith("_") or not callable(value):
            continue
        params = list(inspect.signature(value).parameters)
        out[name] = params == ["self"]
    return out


def _attribute(name: str) -> property:
    def read(self: RemoteTokenizer) -> Any:
        ref = self._ref
        return ref.unwrap(ref.conn.call(p.GETATTR, ref.handle(), name), None)

    return property(read)


@functools.cache
def _proxy_class(caps: tuple[str, ...]) -> type[RemoteTokenizer]:
    namespace: dict[str, Any] = {}
    for cap in caps:
        if cap == "TemplateRenderer":
            namespace["render_template"] = _render_template
            continue
        for name, once in _members(CAPABILITIES[cap]).items():
            namespace[name] = _attribute(name) if once is None else _forward(name, once)
    return type("RemoteTokenizer[" + ",".join(caps) + "]", (RemoteTokenizer,), namespace)


def load(spec: SideSpec, where: str) -> Tokenizer:
    """Start a worker in `spec.python` and return the side it loaded (raises SourceError, one line)."""
    assert spec.python is not None
    payload = spec.model_dump(mode="json", exclude_unset=True, exclude={"python"})
    config_dir = str(spec.config_dir) if spec.config_dir else None
    conn = Connection(spec.python, payload, config_dir, where)
    return RemoteTokenizer.made(Ref(conn, 0, None), conn.info["side"], spec)
