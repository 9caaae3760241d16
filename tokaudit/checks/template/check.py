"""`template-check`: the training-side chat serialisation matches the serving chat template.

Each conversation (the config's `conversations:` file plus the built-in set) is rendered whole and as
each prompt that ends before an assistant turn (with the generation prompt), by both sides, and
compared as text and as ids. Also: double BOS, the serving prompt as a prefix of the training
rendering (text and tokens), control strings in message content, and templates that refuse input.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tokaudit.chat import MISTRAL, Rendered, RenderError, load_template
from tokaudit.checks.base import CheckResult
from tokaudit.checks.evidence import aligned_tokens
from tokaudit.checks.template import findings as tf
from tokaudit.checks.template.evidence import short, text_detail
from tokaudit.checks.template.probes import ChatSide, contents, double_bos, injection, prompt_prefix, refused, texts
from tokaudit.codes import finding
from tokaudit.config import Settings
from tokaudit.conversations import Conversation, Message, builtin_conversations, read_conversations
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.options import Options
from tokaudit.sources.base import Sides

#: Control strings of the common chat formats, always tried inside message content.
KNOWN_CONTROLS = ("[INST]", "[/INST]", "</s>", "<|im_start|>", "<|im_end|>")
RANK = {None: 0, tf.TEXT_SAME_IDS: 1, tf.TEXT: 2, tf.TOKENS: 2}


@dataclass
class _Tally:
    checked: int = 0
    compared: int = 0
    differing: int = 0
    double_bos: dict[str, tuple[Rendered, list[str]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Compare both sides' chat serialisation on every conversation. Nothing checked is an InputError."""
    cfg = settings.config_path
    prefix = f"{cfg}: " if cfg else ""
    pair = tuple(
        ChatSide(
            name,
            tok,
            getattr(settings, name),
            load_template(tok, getattr(settings, name), f"{prefix}{name}.chat_template"),
        )
        for name, tok in sides.items()
    )
    a, b = pair
    tally = _Tally()
    conversations: list[Conversation] = []
    if settings.conversations is not None:
        conversations, tally.skipped = read_conversations(settings.conversations, cfg)
    conversations += builtin_conversations(_controls(a, b))
    controls = re.compile("|".join(re.escape(s) for s in sorted(_specials(a, b), key=len, reverse=True)))
    for conv in conversations:
        _check(conv, a, b, controls, tally)
    if tally.checked == 0:
        first = f" (first: {tally.skipped[0].where}: {tally.skipped[0].reason})" if tally.skipped else ""
        raise InputError(f"{prefix}template-check: no conversation could be checked{first}")
    for side in pair:
        if side.name in tally.double_bos:
            tally.findings.append(double_bos(side, *tally.double_bos[side.name]))
    by_category = Counter(f.category or "" for f in tally.findings)
    return CheckResult(
        findings=tally.findings,
        skipped=tally.skipped,
        summary={
            "conversations": tally.checked,
            "conversations_skipped": len(tally.skipped),
            "renderings_compared": tally.compared,
            "renderings_differing": tally.differing,
            "by_category": dict(sorted(by_category.items())),
        },
    )


def _specials(a: ChatSide, b: ChatSide) -> set[str]:
    return {s for s in (*a.tok.specials(), *b.tok.specials(), *KNOWN_CONTROLS) if s}


def _controls(a: ChatSide, b: ChatSide) -> list[str]:
    """The template's own control strings: specials its rendering uses, BOS/EOS, and the known formats'."""
    probe = Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "probe")
    seen: list[str] = []
    for side in (a, b):
        try:
            text = side.render(probe, probe.messages, False).text
        except RenderError:
            text = ""
        names = side.tok.special_names()
        eos = names.get(side.tok.eos_id) if side.tok.eos_id is not None else None
        seen += [s for s in side.tok.specials() if s and s in text] + [s for s in (side.bos, eos) if s]
    return list(dict.fromkeys([*seen, "[/INST]", "</s>", "<|im_end|>"]))


def _views(msgs: list[Message]) -> list[tuple[str, list[Message], bool]]:
    views = [("whole conversation", msgs, False)]
    views += [
        (f"prompt before message {k + 1}", msgs[:k], True) for k, m in enumerate(msgs) if k and m["role"] == "assistant"
    ]
    return views


def _check(conv: Conversation, a: ChatSide, b: ChatSide, controls: re.Pattern[str], tally: _Tally) -> None:
    if conv.builtin and conv.uses_tools and not (a.template.supports_tools and b.template.supports_tools):
        who = [s.name for s in (a, b) if not s.template.supports_tools]
        which = "the training and serving templates have" if len(who) == 2 else f"the {who[0]} template has"
        tally.skipped.append(Skipped(conv.where, f"{which} no tool-call support"))
        return
    views = _views(conv.messages)
    got: dict[str, list[Rendered | RenderError]] = {}
    for side in (a, b):
        got[side.name] = []
        for _label, msgs, gen in views:
            try:
                got[side.name].append(side.render(conv, msgs, gen))
            except RenderError as exc:
                got[side.name].append(exc)
    errors = {n: next((r for r in rs if isinstance(r, RenderError)), None) for n, rs in got.items()}
    if errors[a.name] and errors[b.name]:
        reason = f"both templates refuse it (training: {errors[a.name]}; serving: {errors[b.name]})"
        tally.skipped.append(Skipped(conv.where, reason))
        return
    for side, other in ((a, b), (b, a)):
        if errors[side.name]:
            tally.findings.append(refused(conv, side, other, str(errors[side.name])))
    tally.checked += 1  # a one-sided refusal is a result too
    pairs = [
        (v, ra, rb)
        for v, ra, rb in zip(views, got[a.name], got[b.name])
        if isinstance(ra, Rendered) and isinstance(rb, Rendered)
    ]
    if not pairs:
        return
    worst: tuple[int, str | None, str, Rendered, Rendered] | None = None
    differing = 0
    prompt_done = False
    for (label, msgs, gen), ra, rb in pairs:
        tally.compared += 1
        for side, r in ((a, ra), (b, rb)):
            if side.doubled(r):
                tally.double_bos.setdefault(side.name, (r, []))[1].append(f"{conv.where} ({label})")
        ta, tb = texts(a, ra, b, rb)
        same_ids = a.core(ra) == b.core(rb)  # a doubled BOS is reported once per side, not per rendering
        code = None if ta == tb and same_ids else tf.TEXT_SAME_IDS if same_ids else tf.TOKENS if ta == tb else tf.TEXT
        differing += ta != tb or ra.ids != rb.ids
        if code is not None:
            if worst is None or RANK[code] > worst[0]:
                worst = (RANK[code], code, label, ra, rb)
        elif gen and not prompt_done:
            found = prompt_prefix(conv, msgs, a, b, rb)
            prompt_done = found is not None
            tally.findings += [found] if found else []
    tally.differing += differing
    if worst is not None:
        _, code, label, ra, rb = worst
        tally.findings.append(_rendering(conv, str(code), label, a, ra, b, rb, len(pairs), differing))
    (label, _, _), whole_a, whole_b = pairs[0]
    if label == "whole conversation" and any(controls.search(c) for c in contents(conv.messages)):
        found = injection(conv, a, whole_a, b, whole_b, controls)
        tally.findings += [found] if found else []


def _rendering(
    conv: Conversation,
    code: str,
    label: str,
    a: ChatSide,
    ra: Rendered,
    b: ChatSide,
    rb: Rendered,
    compared: int,
    differing: int,
) -> Finding:
    ta, tb = texts(a, ra, b, rb)
    detail = {
        "view": label,
        "text_from": "ids" if MISTRAL in (ra.engine, rb.engine) else "template",
        **text_detail((a.name, b.name), (ta, tb)),
        **aligned_tokens(((a.name, a.tok, a.core(ra)), (b.name, b.tok, b.core(rb)))),
        "renderings": {a.name: short(ta), b.name: short(tb)},
        "views_compared": compared,
        "views_differing": differing,
    }
    message = tf.rendering_message(code, label, detail, (ta, tb))
    return finding(code, message, sample=f"{conv.where} ({label})", detail=detail)
