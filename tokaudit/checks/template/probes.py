"""template-check's probes beyond "do the renderings match": the generation prompt as a prefix of the
training rendering, control strings in message content, double BOS, templates that refuse input."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from tokaudit.chat import Rendered, RenderError, Template, render, surface_text
from tokaudit.checks.diff.signature import Shaper
from tokaudit.checks.evidence import aligned_tokens, first_diff, side_tokens, window
from tokaudit.checks.template import findings as tf
from tokaudit.checks.template.evidence import short, text_detail
from tokaudit.checks.template.signature import ids_shape, text_shape
from tokaudit.codes import CODES, finding
from tokaudit.config import SideSpec
from tokaudit.conversations import Conversation, Message
from tokaudit.findings import Finding
from tokaudit.sources.base import Tokenizer


@dataclass
class ChatSide:
    """One side of template-check: its tokenizer, config and chat template."""

    name: str
    tok: Tokenizer
    spec: SideSpec
    template: Template

    def render(self, conv: Conversation, messages: list[Message], gen: bool) -> Rendered:
        return render(self.tok, self.spec, messages, gen, tools=conv.tools, side=self.name, template=self.template)

    @property
    def bos(self) -> str | None:
        return self.tok.special_names().get(self.tok.bos_id) if self.tok.bos_id is not None else None

    def doubled(self, r: Rendered) -> bool:
        """The rendered text starts with the BOS string and the tokenizer added BOS as well."""
        bos = self.tok.bos_id
        return r.bos_added and bool(self.bos) and r.text.startswith(self.bos or "") and r.ids[:2] == [bos, bos]

    def core(self, r: Rendered) -> list[int]:
        return r.ids[1:] if self.doubled(r) else r.ids

    @cached_property
    def shaper(self) -> Shaper:
        """Token shapes for signatures, cached by id for the whole run."""
        return Shaper(self.tok)


def signed(code: str, shape: str) -> str:
    """A finding's signature: its category and the shape of the problem."""
    return f"{CODES[code].category}: {shape}"


def texts(a: ChatSide, ra: Rendered, b: ChatSide, rb: Rendered) -> tuple[str, str]:
    # mistral-common (or a chat_format) builds ids, not text: then both sides are compared by the text their ids spell.
    if ra.from_ids or rb.from_ids:
        return surface_text(a.tok, a.core(ra)), surface_text(b.tok, b.core(rb))
    return ra.text, rb.text


def contents(msgs: list[Message]) -> list[str]:
    return [m["content"] for m in msgs if isinstance(m.get("content"), str)]


def prompt_prefix(
    conv: Conversation, msgs: list[Message], a: ChatSide, b: ChatSide, prompt: Rendered, controls: re.Pattern[str]
) -> Finding | None:
    """The serving prompt must begin the training rendering of the conversation that continues it."""
    upto = conv.messages[: len(msgs) + 1]
    try:
        cont = a.render(conv, upto, False)
    except RenderError:
        return None
    surface = cont.from_ids or prompt.from_ids
    p_text = surface_text(b.tok, b.core(prompt)) if surface else prompt.text
    c_text = surface_text(a.tok, a.core(cont)) if surface else cont.text
    p_ids, c_ids = b.core(prompt), a.core(cont)
    sample = f"{conv.where} (prompt before message {len(msgs) + 1})"
    names = ("serving prompt", "training")
    if not c_text.startswith(p_text):
        detail = {**text_detail(names, (p_text, c_text)), "prompt": short(p_text), "training": short(c_text)}
        msg = (
            f"the serving prompt is not a prefix of the training rendering of the turn it prompts: they part at "
            f"character {detail['offset']}: prompt {window(p_text, detail['offset'])!r} vs training "
            f"{window(c_text, detail['offset'])!r}"
        )
        shape = text_shape(p_text, c_text, first_diff(p_text, c_text), controls)
        return finding(tf.PROMPT_TEXT, msg, sample=sample, detail=detail, signature=signed(tf.PROMPT_TEXT, shape))
    if c_ids[: len(p_ids)] != p_ids:
        detail = aligned_tokens((("serving", b.tok, p_ids), ("training", a.tok, c_ids)))
        i = detail["token_index"]
        k = len(p_text)
        msg = (
            f"the serving prompt is a text prefix of the training rendering but not a token prefix: from token {i} "
            f"the answer's start {window(c_text, k, 16)!r} merges with the prompt's end, so the model was trained on "
            "tokens the server never sends"
        )
        detail |= {"boundary": window(c_text, k), "prompt_length": len(p_ids)}
        shape = ids_shape(p_ids, c_ids, b.shaper, a.shaper)
        return finding(tf.PROMPT_TOKENS, msg, sample=sample, detail=detail, signature=signed(tf.PROMPT_TOKENS, shape))
    return None


def injection(
    conv: Conversation, a: ChatSide, ra: Rendered, b: ChatSide, rb: Rendered, controls: re.Pattern[str]
) -> Finding | None:
    """Which control strings in message content became control tokens, per side."""
    neutral = [
        {**m, "content": controls.sub("X", m["content"])} if isinstance(m.get("content"), str) else m
        for m in conv.messages
    ]
    injected: dict[str, Counter[str]] = {}
    for side, r in ((a, ra), (b, rb)):
        try:
            base = side.render(conv, neutral, False)
        except RenderError:
            return None
        names = side.tok.special_names()
        injected[side.name] = Counter(names[i] for i in r.ids if i in names) - Counter(
            names[i] for i in base.ids if i in names
        )
    ia, ib = injected[a.name], injected[b.name]
    if not ia and not ib:
        return None
    spec = {
        n: {s: {"count": c, "id": t.tok.specials().get(s)} for s, c in injected[n].items()}
        for n, t in ((a.name, a), (b.name, b))
    }
    detail = {"control_tokens_from_content": spec, "contents": [short(c, 200) for c in contents(conv.messages)]}
    if ia == ib:
        msg = (
            f"{_listed(a, sorted(ia))} in message content {_become(ia)} on both sides: a user can close "
            "a turn from inside a message"
        )
        sig = signed(tf.INJECTION_BOTH, f"both: {_names(sorted(ia))}")
        return finding(tf.INJECTION_BOTH, msg, sample=conv.where, detail=detail, signature=sig)
    ctl, txt = (a, b) if sum((ia - ib).values()) >= sum((ib - ia).values()) else (b, a)
    strings = sorted(injected[ctl.name] - injected[txt.name])
    msg = (
        f"{_listed(ctl, strings)} in message content {_become(strings)} on {ctl.name} but "
        f"{'stays' if len(strings) == 1 else 'stay'} text on {txt.name}: a user can close a turn from inside a message"
    )
    sig = signed(tf.INJECTION, f"{ctl.name} only: {_names(strings)}")
    return finding(tf.INJECTION, msg, sample=conv.where, detail=detail, signature=sig)


def _names(strings: list[str]) -> str:
    return " ".join(f"⟨{s}⟩" for s in strings)


def _become(strings: Counter[str] | list[str]) -> str:
    return "becomes a control token" if len(strings) == 1 else "become control tokens"


def _listed(side: ChatSide, strings: list[str]) -> str:
    ids = side.tok.specials()
    return ", ".join(f"{s!r} (id {ids.get(s)})" for s in strings[:4]) + (" …" if len(strings) > 4 else "")


def refused(conv: Conversation, side: ChatSide, other: ChatSide, error: str, signature: str) -> Finding:
    msg = f"the {side.name} template refuses this conversation ({error}); {other.name} renders it"
    detail = {
        "side": side.name,
        "error": error,
        "template": side.template.origin,
        "roles": [m.get("role") for m in conv.messages],
    }
    return finding(tf.REFUSED, msg, sample=conv.where, detail=detail, signature=signature)


def double_bos(side: ChatSide, first: Rendered, where: str, signature: str) -> Finding:
    """A rendering of the side starts with two BOS tokens (the caller counts the renderings)."""
    msg = (
        f"{side.name} renders the BOS string {side.bos!r} and its tokenizer adds BOS as well: "
        "the rendering starts with two BOS tokens"
    )
    detail = {
        "side": side.name,
        "bos": side.bos,
        "bos_id": side.tok.bos_id,
        "template": side.template.origin,
        "offset": 0,
        "context": window(first.text, 0),
        side.name: side_tokens(side.tok, first.ids, 0),
    }
    return finding(tf.DOUBLE_BOS, msg, sample=where, fill={"side": side.name}, detail=detail, signature=signature)
