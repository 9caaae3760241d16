"""`template-check`: the training-side chat serialisation matches the serving chat template.

Each conversation (the config's `conversations:` file plus the built-in set) is rendered whole and as
each prompt that ends before an assistant turn (with the generation prompt), by both sides, and
compared as text and as ids; each side's template is checked to be prefix-preserving (prefix.py). Also:
double BOS, the serving prompt as a prefix of the training rendering (text and tokens), control strings
in message content, and templates that refuse input.

A finding is one distinct problem (its signature: checks/template/signature.py) with the exact number
of conversations (for TA304, renderings) that show it and the first few of them; the conversations
are read as they are checked, so memory does not grow with the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from tokaudit.chat import Rendered, RenderError, load_template
from tokaudit.checks.base import CheckResult
from tokaudit.checks.evidence import aligned_tokens, first_diff
from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.checks.template import findings as tf
from tokaudit.checks.template import prefix
from tokaudit.checks.template.evidence import short, text_detail
from tokaudit.checks.template.probes import (
    ChatSide,
    contents,
    double_bos,
    injection,
    prompt_prefix,
    refused,
    signed,
    texts,
)
from tokaudit.checks.template.signature import error_shape, ids_shape, text_shape
from tokaudit.codes import finding
from tokaudit.config import Settings
from tokaudit.conversations import Conversation, Message, builtin_conversations, read_conversations
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.options import Options
from tokaudit.shards import Order
from tokaudit.sources.base import Sides

#: Control strings of the common chat formats, always tried inside message content.
KNOWN_CONTROLS = ("[INST]", "[/INST]", "</s>", "<|im_start|>", "<|im_end|>")
RANK = {None: 0, tf.TEXT_SAME_IDS: 1, tf.TEXT: 2, tf.TOKENS: 2}
#: the input number of the built-in conversations (the `conversations:` file is 0)
BUILTIN = 1


@dataclass
class _Tally:
    """Exact counts over every conversation, and the distinct problems with their first examples."""

    groups: Groups
    skipped: SkippedLog = field(default_factory=SkippedLog)
    checked: int = 0
    compared: int = 0
    differing: int = 0
    #: per side: conversations whose prefix property was checked, and those where it broke (TA310)
    prefix_checked: Counter[str] = field(default_factory=Counter)
    prefix_broken: Counter[str] = field(default_factory=Counter)

    def note(self, code: str, signature: str, order: Order, where: str, make: Callable[[], Finding]) -> None:
        """Count a problem; its finding (the evidence) is made only for a signature not seen before."""
        key = f"{code} {signature}"
        if not self.groups.seen(key, order, where):
            self.groups.add(key, order, where, make())

    def found(self, order: Order, f: Finding | None) -> None:
        if f is not None:
            self.note(f.code, f.signature or f.message, order, f.sample or "", lambda: f)

    def by_category(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for g in self.groups.groups.values():
            counts[g.finding.category or ""] += g.count
        return dict(sorted(counts.items()))


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
    tally = _Tally(Groups(keep=options.examples))
    controls = re.compile("|".join(re.escape(s) for s in sorted(_specials(a, b), key=len, reverse=True)))
    for order, conv in _conversations(settings, a, b):
        if isinstance(conv, Skipped):
            tally.skipped.add(order, conv)
        else:
            _check(order, conv, a, b, controls, tally)
    skipped = tally.skipped.items()
    if tally.checked == 0:
        first = f" (first: {skipped[0].where}: {skipped[0].reason})" if skipped else ""
        raise InputError(f"{prefix}template-check: no conversation could be checked{first}")
    return CheckResult(
        findings=tally.groups.findings(),
        skipped=skipped,
        summary={
            "conversations": tally.checked,
            "conversations_skipped": tally.skipped.count,
            "renderings_compared": tally.compared,
            "renderings_differing": tally.differing,
            "by_category": tally.by_category(),
            # a side's template is prefix-preserving when no checked conversation broke it (None: none checked)
            "prefix_preserving": {
                name: (tally.prefix_broken[name] == 0) if tally.prefix_checked[name] else None
                for name in (a.name, b.name)
            },
        },
    )


def _conversations(settings: Settings, a: ChatSide, b: ChatSide) -> Iterator[tuple[Order, Conversation | Skipped]]:
    """The `conversations:` file's conversations (read as they are checked), then the built-in set."""
    if settings.conversations is not None:
        for n, item in enumerate(read_conversations(settings.conversations, settings.config_path)):
            yield (0, 0, n), item
    for n, conv in enumerate(builtin_conversations(_controls(a, b))):
        yield (BUILTIN, 0, n), conv


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


def _check(
    order: Order, conv: Conversation, a: ChatSide, b: ChatSide, controls: re.Pattern[str], tally: _Tally
) -> None:
    if conv.builtin and conv.uses_tools and not (a.template.supports_tools and b.template.supports_tools):
        who = [s.name for s in (a, b) if not s.template.supports_tools]
        which = "the training and serving templates have" if len(who) == 2 else f"the {who[0]} template has"
        tally.skipped.add(order, Skipped(conv.where, f"{which} no tool-call support"))
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
        tally.skipped.add(order, Skipped(conv.where, reason))
        return
    for side, other in ((a, b), (b, a)):
        if errors[side.name]:
            error = str(errors[side.name])
            sig = signed(tf.REFUSED, f"{side.name}: {error_shape(error)}")
            tally.note(tf.REFUSED, sig, order, conv.where, partial(refused, conv, side, other, error, sig))
    tally.checked += 1  # a one-sided refusal is a result too
    for side in (a, b):
        if not errors[side.name]:
            broke = prefix.check(conv, side, lambda code, sig, where, make: tally.note(code, sig, order, where, make))
            if broke is not None:
                tally.prefix_checked[side.name] += 1
                tally.prefix_broken[side.name] += broke
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
                where, sig = f"{conv.where} ({label})", signed(tf.DOUBLE_BOS, side.name)
                tally.note(tf.DOUBLE_BOS, sig, order, where, partial(double_bos, side, r, where, sig))
        ta, tb = texts(a, ra, b, rb)
        same_ids = a.core(ra) == b.core(rb)  # a doubled BOS is reported once per side, not per rendering
        code = None if ta == tb and same_ids else tf.TEXT_SAME_IDS if same_ids else tf.TOKENS if ta == tb else tf.TEXT
        differing += ta != tb or ra.ids != rb.ids
        if code is not None:
            if worst is None or RANK[code] > worst[0]:
                worst = (RANK[code], code, label, ra, rb)
        elif gen and not prompt_done:
            found = prompt_prefix(conv, msgs, a, b, rb, controls)
            prompt_done = found is not None
            tally.found(order, found)
    tally.differing += differing
    if worst is not None:
        _, code, label, ra, rb = worst
        sig = signed(str(code), _shape(str(code), a, ra, b, rb, controls))
        make = partial(_rendering, conv, str(code), label, a, ra, b, rb, len(pairs), differing, sig)
        tally.note(str(code), sig, order, f"{conv.where} ({label})", make)
    (label, _, _), whole_a, whole_b = pairs[0]
    if label == "whole conversation" and any(controls.search(c) for c in contents(conv.messages)):
        tally.found(order, injection(conv, a, whole_a, b, whole_b, controls))


def _shape(code: str, a: ChatSide, ra: Rendered, b: ChatSide, rb: Rendered, controls: re.Pattern[str]) -> str:
    """Where the renderings part: the tokens for TA302 (same text), the text otherwise."""
    if code == tf.TOKENS:
        return ids_shape(a.core(ra), b.core(rb), a.shaper, b.shaper)
    ta, tb = texts(a, ra, b, rb)
    return text_shape(ta, tb, first_diff(ta, tb), controls)


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
    signature: str,
) -> Finding:
    ta, tb = texts(a, ra, b, rb)
    detail = {
        "view": label,
        "text_from": "ids" if ra.from_ids or rb.from_ids else "template",
        **text_detail((a.name, b.name), (ta, tb)),
        **aligned_tokens(((a.name, a.tok, a.core(ra)), (b.name, b.tok, b.core(rb)))),
        "renderings": {a.name: short(ta), b.name: short(tb)},
        "views_compared": compared,
        "views_differing": differing,
    }
    message = tf.rendering_message(code, label, detail, (ta, tb))
    return finding(code, message, sample=f"{conv.where} ({label})", detail=detail, signature=signature)
