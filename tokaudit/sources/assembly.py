"""A tokenizers-library pipeline taken apart into its components (capabilities.Assembly).

diff's ablation compares two sides' parts() and re-encodes a sample with one side rebuilt from some
of the other's components. The rebuild is JSON surgery on `Tokenizer.to_str()`: the model, the added
tokens and the normalizer are baked into a Tokenizer built with `Tokenizer.from_str` (added tokens are
matched on normalized text, so the normalizer belongs with them); the pre-tokenizer, post-processor,
decoder, truncation and padding are set on it as attributes before each encode, which is cheap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import COMPONENTS, NoPipeline

#: components baked into the built Tokenizer; the others are set as attributes
BAKED = ("model", "added_tokens", "normalizer")
#: a tokenizer.json with nothing in it, to build one component at a time
_EMPTY: dict[str, Any] = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": None,
    "post_processor": None,
    "decoder": None,
    "model": {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"},
}
#: built Tokenizers kept per assembly (the side's own and a few rebuilt ones)
KEEP = 4


@dataclass(frozen=True)
class Call:
    """How a side calls its pipeline: the arguments, and BOS/EOS it adds outside (`add_bos`, mistral-common)."""

    add_special_tokens: bool
    literal: bool  # special strings in the text stay text (`encode_special_tokens`)
    bos: int | None = None
    eos: int | None = None


def side_call(tok: Tokenizer, post_processor: bool) -> Call:
    """The call `tok.encode_batch` makes. `post_processor`: the library runs the pipeline's post-processor
    unless told not to (hf, tokenizers); False where the source adds BOS/EOS itself (sentencepiece, tiktoken)."""
    spec = tok.spec
    # `raise` refuses every text that spells a special before it is encoded: the rest encode as with `parse`
    literal = tok.special_text == "literal"
    explicit = spec.add_bos is not None or spec.add_eos is not None
    if post_processor and not explicit:
        add = spec.add_special_tokens if spec.add_special_tokens is not None else True
        return Call(add_special_tokens=add, literal=literal)
    bos, eos = tok.bos_eos_defaults()
    return Call(
        add_special_tokens=False,
        literal=literal,
        bos=tok.bos_id if bos else None,
        eos=tok.eos_id if eos else None,
    )


def backend_json(backend: Any, origin: str) -> dict[str, Any]:
    """A tokenizers.Tokenizer's tokenizer.json, parsed."""
    try:
        return dict(json.loads(backend.to_str()))
    except Exception as exc:  # a custom (Python) component does not serialise
        raise NoPipeline(f"{origin} does not serialise ({type(exc).__name__}: {exc})") from exc


def from_backend(tok: Tokenizer, backend: Any, origin: str, resets_limits: bool) -> TokenizersAssembly:
    """The tokenizers.Tokenizer a side encodes with. `resets_limits`: the caller (transformers) turns the
    file's truncation and padding off on every call, so the side never runs them."""
    data = backend_json(backend, origin)
    if resets_limits:
        data["truncation"] = data["padding"] = None
    return TokenizersAssembly(data, side_call(tok, post_processor=True), origin)


class TokenizersAssembly:
    """A pipeline's tokenizer.json split into COMPONENTS, and rebuilt on demand."""

    def __init__(self, data: dict[str, Any], call: Call, origin: str, library: dict[str, Any] | None = None) -> None:
        self.origin = origin
        self.encodes = 0
        self._data = data
        self._library = library or {}
        self._parts: dict[str, Any] = {
            "normalizer": data.get("normalizer"),
            "pre_tokenizer": data.get("pre_tokenizer"),
            "model": data.get("model"),
            # not run when the side calls without add_special_tokens: the same as having none
            "post_processor": {
                "post_processor": data.get("post_processor") if call.add_special_tokens else None,
                "bos": call.bos,
                "eos": call.eos,
            },
            "decoder": data.get("decoder"),
            "added_tokens": {
                "tokens": data.get("added_tokens") or [],
                "special_text": "literal" if call.literal else "parse",
            },
            "truncation": {"truncation": data.get("truncation"), "padding": data.get("padding")},
        }
        assert set(self._parts) == set(COMPONENTS)
        self._built: dict[tuple[int, ...], Any] = {}
        self._objects: dict[tuple[str, str], Any] = {}

    def parts(self) -> dict[str, Any]:
        return self._parts

    def library_parts(self) -> dict[str, Any]:
        return self._library

    def encode(self, text: str, swaps: dict[str, Any] | None = None) -> list[int]:
        self.encodes += 1
        parts = {**self._parts, **(swaps or {})}
        try:
            tok = self._baked(parts)
            if not any(t.get("normalized") for t in parts["added_tokens"]["tokens"]):
                tok.normalizer = self._object("normalizer", parts["normalizer"])
            tok.pre_tokenizer = self._object("pre_tokenizer", parts["pre_tokenizer"])
            post = parts["post_processor"]
            tok.post_processor = self._object("post_processor", post["post_processor"])
            tok.decoder = self._object("decoder", parts["decoder"])
            _set_limits(tok, self._limits(parts["truncation"]))
            tok.encode_special_tokens = parts["added_tokens"]["special_text"] == "literal"
            ids = list(tok.encode(text, add_special_tokens=post["post_processor"] is not None).ids)
        except NoPipeline:
            raise
        except Exception as exc:  # a rebuilt pipeline the library will not build or run
            raise NoPipeline(f"{type(exc).__name__}: {exc}") from exc
        bos, eos = post["bos"], post["eos"]
        return ([bos] if bos is not None else []) + ids + ([eos] if eos is not None else [])

    # -- building ------------------------------------------------------------------------------------
    def _baked(self, parts: dict[str, Any]) -> Any:
        # Keyed by the identity of the baked values: they are the very objects of some side's parts().
        # The normalizer is baked in only where an added token is matched on normalized text (the library
        # normalizes those when they are added); otherwise it is set on the built tokenizer like the
        # pre-tokenizer, and one build serves every normalizer swap.
        tokens = parts["added_tokens"]["tokens"]
        normalizer = parts["normalizer"] if any(t.get("normalized") for t in tokens) else None
        values = [parts["model"], tokens, normalizer]
        key = tuple(id(v) for v in values)
        if key in self._built:
            self._built[key] = self._built.pop(key)  # most recently used last: the side's own is kept
        else:
            from tokenizers import Tokenizer as RustTokenizer

            data = {**self._data, **dict.fromkeys(COMPONENTS), "truncation": None, "padding": None}
            data.update(model=_with_added_ids(values[0], values[1]), added_tokens=values[1], normalizer=values[2])
            if len(self._built) >= KEEP:
                self._built.pop(next(iter(self._built)))
            self._built[key] = (RustTokenizer.from_str(json.dumps(data)), values)  # values: keep the ids alive
        return self._built[key][0]

    def _object(self, name: str, value: Any) -> Any:
        """A component object from its JSON (None stays None), built in an empty tokenizer and cached."""
        if value is None:
            return None
        key = (name, json.dumps(value, sort_keys=True))
        if key not in self._objects:
            self._objects[key] = _library_split(value) if _has_library_split(value) else _component(name, value)
        return self._objects[key]

    def _limits(self, value: dict[str, Any]) -> Any:
        key = ("truncation", json.dumps(value, sort_keys=True))
        if key not in self._objects:
            self._objects[key] = _component_tokenizer({"truncation": value["truncation"], "padding": value["padding"]})
        return self._objects[key]


def _component_tokenizer(fields: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer as RustTokenizer

    return RustTokenizer.from_str(json.dumps({**_EMPTY, **fields}))


def _component(name: str, value: Any) -> Any:
    return getattr(_component_tokenizer({name: value}), name)


def _set_limits(tok: Any, holder: Any) -> None:
    # The python-side dicts that `truncation` / `padding` return are the keyword arguments of enable_*.
    if holder.truncation:
        tok.enable_truncation(**holder.truncation)
    else:
        tok.no_truncation()
    if holder.padding:
        tok.enable_padding(**holder.padding)
    else:
        tok.no_padding()


def _with_added_ids(model: dict[str, Any], added: list[dict[str, Any]]) -> dict[str, Any]:
    """The model with each added token the vocabulary lacks put in at its own id. tokenizers numbers added
    tokens missing from the model after the vocabulary, whatever the JSON says; a library's own special ids
    (tiktoken's <|endoftext|> at 100257, after a hole) only survive in the vocabulary."""
    vocab = model.get("vocab")
    if not isinstance(vocab, dict):
        return model
    missing = [t for t in added if t["content"] not in vocab]
    if not missing:
        return model
    used = set(vocab.values())
    extra = {t["content"]: t["id"] for t in missing if t["id"] not in used}
    return {**model, "vocab": {**vocab, **extra}} if extra else model


# -- a library's own regex split, for the conversion of a tiktoken-style file ---------------------------
def library_split(node: dict[str, Any], pattern: str, engine: str) -> dict[str, Any]:
    """A pre-tokenizer JSON with every Split regex replaced by `pattern`, run by `engine` ("tiktoken")."""
    if node.get("type") == "Sequence":
        return {**node, "pretokenizers": [library_split(n, pattern, engine) for n in node["pretokenizers"]]}
    if node.get("type") == "Split":
        return {**node, "pattern": {"Regex": pattern}, "engine": engine}
    return node


def _has_library_split(value: Any) -> bool:
    if isinstance(value, dict):
        return "engine" in value or any(_has_library_split(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_library_split(v) for v in value)
    return False


def _library_split(node: dict[str, Any]) -> Any:
    from tokenizers import pre_tokenizers

    if node.get("type") == "Sequence":
        return pre_tokenizers.Sequence([_library_split(n) for n in node["pretokenizers"]])
    if "engine" in node:
        return pre_tokenizers.PreTokenizer.custom(_RegexSplit(node["pattern"]["Regex"]))
    return _component("pre_tokenizer", node)


class _RegexSplit:
    """tiktoken's split: `regex.finditer(pattern, text)`, as tiktoken's own reference implementation
    (tiktoken/_educational.py) runs its fancy-regex pattern; gaps between matches are kept (Isolated)."""

    def __init__(self, pattern: str) -> None:
        import regex  # tiktoken's own dependency

        self.pattern = regex.compile(pattern)

    def _split(self, _i: int, piece: Any) -> list[Any]:
        text, out, pos = str(piece), [], 0
        for m in self.pattern.finditer(text):
            if m.start() > pos:
                out.append(piece[pos : m.start()])
            if m.end() > m.start():
                out.append(piece[m.start() : m.end()])
            pos = max(pos, m.end())
        if pos < len(text):
            out.append(piece[pos:])
        return out

    def pre_tokenize(self, pretok: Any) -> None:
        pretok.split(self._split)
