"""Which part of the pipeline makes the two sides' ids differ: rebuild one side with components of the other.

Run once per distinct divergence (scan.py calls it where a new signature is explained), on that
divergence's first example. Both sides must first be tokenizers pipelines (capabilities.Pipeline) or
files transformers converts into one (capabilities.Converted), and each pipeline, called as its side
calls it, must give that side's own ids; otherwise the difference is not in a component and we say so.

- A converted side whose conversion does not give the library's ids: the divergence is in the
  conversion; the library's own parts (tiktoken's regex split, its special ids) are put into the
  conversion one at a time to name the part the conversion gets wrong.
- Otherwise serving is rebuilt with one differing component of training's at a time, then with pairs,
  until its ids are training's. One re-encode per component tried; at most len(COMPONENTS) in all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from tokaudit.sources.base import ADDED_FLAGS, Tokenizer
from tokaudit.sources.capabilities import COMPONENTS, Assembly, Converted, NoPipeline, Pipeline

#: re-encodes one ablation may spend on swaps (the two reproductions come on top)
BUDGET = len(COMPONENTS)
#: the decoder turns ids into text: swapping it cannot change ids, so it is compared but never re-encoded
NO_IDS = ("decoder",)
SHOWN = 160


@dataclass
class Ablation:
    """The outcome: the component(s) whose swap makes the ids equal, and what it cost."""

    #: what formatters show: "pre_tokenizer", "no single component: normalizer + model", "not a pipeline difference"
    component: str
    verdict: str
    #: "pipeline" (a component differs), "conversion" (transformers' conversion is not the library), "call"
    #: (a side's pipeline alone is not the side), "none" (not found / not ablated)
    where: str
    components: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    encodes: int = 0  # re-encodes of rebuilt pipelines
    baseline: int = 0  # encodes of the unmodified pipelines (reproducing each side's ids)
    pipelines: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "ablation": {
                "components": self.components,
                "single": len(self.components) == 1,
                "where": self.where,
                "verdict": self.verdict,
                "differing": self.differing,
                "encodes": self.encodes,
                "baseline_encodes": self.baseline,
                "pipelines": self.pipelines,
                "values": self.values,
            },
        }


@dataclass
class _Side:
    name: str
    tok: Tokenizer
    ids: list[int]
    assembly: Assembly
    converted: bool


def _assembly(tok: Tokenizer) -> tuple[Assembly | None, bool, str | None]:
    """(the side's pipeline or conversion, whether it is a conversion, why there is none)."""
    try:
        if isinstance(tok, Pipeline):
            return tok.pipeline(), False, None
        if isinstance(tok, Converted):
            return tok.conversion(), True, None
    except NoPipeline as exc:
        return None, False, str(exc)
    return None, False, None


def ablate(text: str, a: tuple[str, Tokenizer, list[int]], b: tuple[str, Tokenizer, list[int]]) -> Ablation | None:
    """Ablate sides a (training) and b (serving) on `text`; None when a side has no pipeline at all."""
    found = [(name, tok, ids, *_assembly(tok)) for name, tok, ids in (a, b)]
    if any(assembly is None and why is None for *_, assembly, _, why in found):
        return None
    sides = []
    for name, tok, ids, assembly, converted, why in found:
        if assembly is None:
            return Ablation("not ablated", f"{name} has no pipeline to take apart: {why}", "none")
        sides.append(_Side(name, tok, ids, assembly, converted))
    return _Search(text, sides[0], sides[1]).run()


#: what a library's own part put into a conversion is
LIBRARY_PART = {"pre_tokenizer": "{lib}'s own regex split", "added_tokens": "{lib}'s own special tokens and ids"}


class _Search:
    def __init__(self, text: str, a: _Side, b: _Side) -> None:
        self.text, self.a, self.b = text, a, b
        self.encodes = 0
        self.pipelines = {a.name: a.assembly.origin, b.name: b.assembly.origin}

    def _encode(self, side: _Side, swaps: dict[str, Any] | None = None) -> list[int] | None:
        if swaps is not None:
            self.encodes += 1
        try:
            return side.assembly.encode(self.text, swaps)
        except NoPipeline:
            return None  # a rebuilt pipeline the library will not build: that swap explains nothing

    def _done(self, component: str, verdict: str, where: str, **kw: Any) -> Ablation:
        return Ablation(component, verdict, where, encodes=self.encodes, baseline=2, pipelines=self.pipelines, **kw)

    def run(self) -> Ablation:
        own = {s.name: self._encode(s) for s in (self.a, self.b)}
        for s in (self.a, self.b):
            if own[s.name] is None:
                return self._done("not ablated", f"{s.name}'s pipeline ({s.assembly.origin}) does not run", "none")
        for s in (self.a, self.b):
            if own[s.name] != s.ids:
                return self._conversion(s, own[s.name]) if s.converted else self._call(s)
        return self._swaps()

    def _call(self, s: _Side) -> Ablation:
        return self._done(
            "not a pipeline difference",
            f"{s.name}'s tokenizers pipeline alone ({s.assembly.origin}), called as {s.name} calls it, does not give "
            f"{s.name}'s ids: the difference is in {s.tok.library}'s own code around the pipeline, not in a component",
            "call",
        )

    def _conversion(self, s: _Side, got: list[int] | None) -> Ablation:
        other = self.b if s is self.a else self.a
        parts, lib = s.assembly.parts(), s.assembly.library_parts()
        tried = [c for c in COMPONENTS if c in lib and lib[c] != parts[c]]
        fixes = [c for c in tried if self._encode(s, {c: lib[c]}) == s.ids]
        name = s.tok.library
        head = f"transformers' conversion of {s.name}'s file does not give {name}'s ids here ({s.assembly.origin})"
        tail = f"; {other.name} tokenizes it as that conversion does" if got == other.ids else ""
        if not fixes:
            more = f": none of {name}'s own parts ({', '.join(tried)}) alone fixes it" if tried else ""
            return self._done("conversion", head + more + tail, "conversion", differing=tried)
        c = fixes[0]
        engine = ""
        if c == "pre_tokenizer" and _without_engine(lib[c]) == parts[c]:
            engine = " (the same pattern: the tokenizers library's regex engine splits it otherwise)"
        own = LIBRARY_PART.get(c, "{lib}'s own " + c).format(lib=name)
        return self._done(
            c,
            f"{head}; with {own} put in, it does: the conversion's {c} is where they part{engine}{tail}",
            "conversion",
            components=[c],
            differing=tried,
            values={c: _values(c, ("conversion", parts[c]), (name, lib[c]))},
        )

    def _swaps(self) -> Ablation:
        a, b = self.a, self.b
        pa, pb = a.assembly.parts(), b.assembly.parts()
        differing = [c for c in COMPONENTS if pa[c] != pb[c]]
        tried = [c for c in differing if c not in NO_IDS]
        lead = "".join(
            f"transformers' conversion of {s.name}'s file gives {s.tok.library}'s ids here, so it stands for {s.name}; "
            for s in (a, b)
            if s.converted
        )
        fixes = [c for c in tried if self._encode(b, {c: pa[c]}) == a.ids]
        found: list[str] = fixes[:1]
        if fixes:
            also = f" (so does its {', '.join(fixes[1:])} alone)" if fixes[1:] else ""
            verdict = f"{lead}{b.name} rebuilt with {a.name}'s {fixes[0]} gives {a.name}'s ids{also}"
            component = fixes[0]
        else:
            for pair in combinations(tried, 2):
                if self.encodes >= BUDGET:
                    break
                if self._encode(b, {c: pa[c] for c in pair}) == a.ids:
                    found = list(pair)
                    break
            component = f"no single component: {' + '.join(found)}" if found else "no single component"
            if found:
                verdict = (
                    f"{lead}no single component: {b.name} rebuilt with {a.name}'s {found[0]} and {found[1]} "
                    f"together gives {a.name}'s ids"
                )
            elif differing:
                verdict = (
                    f"{lead}no single component of {', '.join(tried)}, nor a pair within {BUDGET} re-encodes, "
                    f"makes {b.name}'s ids {a.name}'s"
                )
            else:
                verdict = f"{lead}both pipelines have the same components and calls, and still differ"
        return self._done(
            component,
            verdict,
            "pipeline",
            components=found,
            differing=differing,
            values={c: _values(c, (a.name, pa[c]), (b.name, pb[c])) for c in found},
        )


def _without_engine(value: Any) -> Any:
    """A library split's JSON as the conversion has it: without the `engine` it is run by."""
    if isinstance(value, dict):
        return {k: _without_engine(v) for k, v in value.items() if k != "engine"}
    if isinstance(value, list):
        return [_without_engine(v) for v in value]
    return value


def _values(component: str, *named: tuple[str, Any]) -> dict[str, str]:
    """Each side's value of a component, short enough to read; for added tokens, the first that differs."""
    (na, va), (nb, vb) = named
    if component == "added_tokens" and va["tokens"] != vb["tokens"]:
        pairs = zip(sorted(va["tokens"], key=_by_id), sorted(vb["tokens"], key=_by_id))
        ta, tb = next(((x, y) for x, y in pairs if x != y), (None, None))
        if ta is not None and tb is not None:
            return {na: f"{_short(component, va)}; first differing: {_token(ta)}", nb: f"… {_token(tb)}"}
    return {na: _short(component, va), nb: _short(component, vb)}


def _by_id(token: dict[str, Any]) -> int:
    return int(token.get("id", 0))


def _token(token: dict[str, Any]) -> str:
    flags = ", ".join(f"{k}={token[k]}" for k in ADDED_FLAGS + ("special",) if k in token)
    return f"{token.get('content')!r} id {token.get('id')} ({flags})"


def _short(component: str, value: Any) -> str:
    if component == "model" and isinstance(value, dict):
        vocab = value.get("vocab")
        return f"{value.get('type')} ({len(vocab) if vocab is not None else '?'} entries)"
    if component == "added_tokens" and isinstance(value, dict):
        return f"{len(value['tokens'])} tokens, special_text {value['special_text']}"
    raw = json.dumps(value, ensure_ascii=False)
    return raw if len(raw) <= SHOWN else raw[: SHOWN - 1] + "…"
