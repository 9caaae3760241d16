"""How training pipelines build SFT label masks, reproduced on the training side's tokenizer.

Each strategy takes one conversation and returns the input_ids and labels that pipeline would train on.
They render with the training side's chat template (the serving one when training has none).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.chat import RenderError, Template, add_special_default, render
from tokaudit.checks.mask.truth import Layout, LayoutError, Message, eot_strings, locate
from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import AssistantMasker, Refused, ResolutionReporter


class StrategyError(Exception):
    """The strategy cannot be applied to this conversation; str(exc) says why."""


@dataclass
class Built:
    """What a pipeline feeds the trainer: ids, and whether each id is trained on (label != -100)."""

    ids: list[int]
    labels: list[bool]
    note: dict[str, Any] = field(default_factory=dict)  # the strategy's own evidence (FastChat's warning)


@dataclass
class Pipeline:
    """The training side as a strategy sees it."""

    tok: Tokenizer
    spec: SideSpec
    template: Template
    train_on: tuple[str, ...]
    max_length: int | None = None

    def render(self, messages: list[Message], gen: bool = False) -> tuple[str, list[int]]:
        try:
            r = render(self.tok, self.spec, messages, gen, side="training", template=self.template)
        except RenderError as exc:
            raise StrategyError(f"training template: {exc}") from exc
        return r.text, r.ids

    def encode(self, text: str, add_special: bool) -> list[int]:
        return self.tok.encode_rendered(text, add_special)

    @cached_property
    def add_special(self) -> bool:
        return add_special_default(self.spec, "training")

    def layout(self, messages: list[Message], text: str) -> Layout:
        try:
            return locate(lambda m: self.render(m)[0], messages, text, eot_strings(self.tok))
        except LayoutError as exc:
            raise StrategyError(f"training template: {exc}") from exc

    @cached_property
    def legacy(self) -> bool:
        """`tokenizer.legacy` as FastChat reads it; from tokenizer_config.json where the library has no attribute."""
        value = self.tok.resolution().legacy if isinstance(self.tok, ResolutionReporter) else None
        if isinstance(value, bool):
            return value
        path = Path(self.spec.path or "")
        cfg = (path if path.is_dir() else path.parent) / "tokenizer_config.json"
        try:
            value = json.loads(cfg.read_text(encoding="utf-8")).get("legacy")
        except (OSError, ValueError, AttributeError):
            value = None
        return value if isinstance(value, bool) else True  # LlamaTokenizer's default when unset


def fastchat(p: Pipeline, messages: list[Message]) -> Built:
    """fastchat/train/train.py preprocess(): split on sep2, then on sep, and count tokens with the -2 / -1."""
    text, ids = p.render(messages)
    layout = p.layout(messages, text)
    first = next((k for k, t in enumerate(layout.turns) if t.role == "assistant" and k > 0), None)
    if first is None:
        raise StrategyError("fastchat: no assistant message after a user message")
    reply, before = layout.turns[first], layout.turns[first - 1]
    sep = text[before.content[1] : reply.content[0]]  # conv.sep + roles[1] + ": " (" ASSISTANT: ")
    sep2 = text[reply.eot[0] : reply.eot[1]].strip()  # conv.sep2 ("</s>")
    if not sep2:
        raise StrategyError("fastchat: the template writes no end-of-turn token after the assistant (sep2)")
    if p.max_length:
        ids = ids[: p.max_length]
    limit = p.max_length or float("inf")

    def n_tokens(s: str) -> int:
        return len(p.encode(s, p.add_special))

    total = len(ids)
    target = [True] * total
    turns = text.split(sep2)
    cur = 1
    target[:cur] = [False] * min(cur, total)
    for i, turn in enumerate(turns):
        if turn == "":
            break
        turn_len = n_tokens(turn)
        parts = turn.split(sep)
        if len(parts) != 2:
            break
        parts[0] += sep
        # "-2" is hardcoded for the Llama tokenizer to make the offset correct.
        instruction_len = n_tokens(parts[0]) - 2
        if i != 0 and not p.legacy:
            instruction_len -= 1
        for k in range(cur, min(cur + instruction_len, total)):
            target[k] = False
        cur += turn_len
        if i != 0 and not p.legacy:
            cur -= 1
    for k in range(cur, total):
        target[k] = False
    note: dict[str, Any] = {"sep": sep, "sep2": sep2, "legacy": p.legacy, "cur_len": cur, "total_len": total}
    if cur < limit and cur != total:
        target = [False] * total
        note["warning"] = f"WARNING: tokenization mismatch: {cur} vs. {total}. #turn = {len(turns) - 1}. (ignored)"
    return Built(ids, target, {"fastchat": note})


def per_turn(p: Pipeline, messages: list[Message]) -> Built:
    """Each message's segment (render(messages[:k+1]) minus render(messages[:k])) tokenized on its own;
    an assistant segment is cut where its trained part starts: header masked, the rest trained."""
    text, _ = p.render(messages)
    layout = p.layout(messages, text)
    try:
        prefixes = [p.render(messages[:0])[0]]
    except StrategyError:
        prefixes = [""]
    prefixes += [p.render(messages[: k + 1])[0] for k in range(len(messages) - 1)] + [text]
    for k in range(len(messages)):
        if not prefixes[k + 1].startswith(prefixes[k]):
            raise StrategyError(f"per-turn: render(messages[:{k + 1}]) does not start with render(messages[:{k}])")
    pieces: list[tuple[str, bool]] = [(prefixes[0], False)]
    for k, m in enumerate(messages):
        lo, hi = len(prefixes[k]), len(prefixes[k + 1])
        turn = layout.turn(k)
        span = turn.trained(p.train_on) if turn is not None and m.get("role") == "assistant" else None
        if span is None or not lo <= span[0] <= hi:
            pieces.append((text[lo:hi], False))
            continue
        pieces += [(text[lo : span[0]], False), (text[span[0] : hi], True)]
    ids: list[int] = []
    labels: list[bool] = []
    for piece, trained in pieces:
        if piece:
            got = p.encode(piece, p.add_special and not ids)
            ids += got
            labels += [trained] * len(got)
    return Built(ids, labels)


def prefix(p: Pipeline, messages: list[Message]) -> Built:
    """Label what each assistant turn adds: tokens from len(ids(render(messages[:k], add_generation_prompt)))
    to len(ids(render(messages[:k+1]))), over the ids of the whole rendering."""
    _, ids = p.render(messages)
    labels = [False] * len(ids)
    for k, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        try:
            start = len(p.render(messages[:k], gen=True)[1])
        except StrategyError:
            start = 0
        end = len(p.render(messages[: k + 1])[1])
        for t in range(start, min(end, len(ids))):
            labels[t] = True
    return Built(ids, labels)


def generation(p: Pipeline, messages: list[Message]) -> Built:
    """transformers' apply_chat_template(return_assistant_tokens_mask=True) with `{% generation %}` markers."""
    if not isinstance(p.tok, AssistantMasker):  # mask-check refuses the config before any conversation
        raise StrategyError(f"generation: {p.tok.source} cannot return assistant masks")
    try:
        ids, mask = p.tok.assistant_mask(messages, p.template.default_source)
    except Refused as exc:  # the template's refusal, raised by the library
        raise StrategyError(f"apply_chat_template: {exc}") from exc
    return Built(ids, mask)


STRATEGIES: dict[str, Callable[[Pipeline, list[Message]], Built]] = {
    "fastchat": fastchat,
    "per-turn": per_turn,
    "prefix": prefix,
    "generation": generation,
}
