"""`mask-check`: does the SFT loss mask cover exactly the assistant's tokens?

The ground truth comes from the serving template and tokenizer (mask_truth); the labels under test come
from a reproduced pipeline (mask_strategies) or from the user's tokenized data (mask_dataset). Rules and
codes: docs/mask.md, docs/codes.md.

A finding is one distinct problem (its signature: checks/mask/compare.py) with the exact number of
samples that show it and the first few; conversations and records are read as they are checked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokaudit.chat import RenderError, Template, add_special_default, load_template, render
from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff.signature import Shaper
from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.checks.mask.compare import Outcome, Shapers, compare, malformed
from tokaudit.checks.mask.dataset import IGNORE, Malformed, read_records
from tokaudit.checks.mask.strategies import STRATEGIES, Pipeline, StrategyError
from tokaudit.checks.mask.truth import (
    DEFAULT_TRAIN_ON,
    PARTS,
    LayoutError,
    Message,
    Truth,
    eot_strings,
    ground_truth,
    locate,
    offsets_for,
)
from tokaudit.config import MaskSpec, Settings
from tokaudit.conversations import Conversation, builtin_conversations, read_conversations
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.options import Options
from tokaudit.shards import Order
from tokaudit.sources.base import Sides
from tokaudit.sources.capabilities import AssistantMasker, ChatServer

GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")


class GroundTruth:
    """Renders with the serving template and labels the serving tokens (docs/mask.md)."""

    def __init__(self, settings: Settings, sides: Sides, template: Template, train_on: tuple[str, ...]) -> None:
        self.tok, self.spec, self.template, self.train_on = sides.serving, settings.serving, template, train_on
        self.eot = eot_strings(self.tok)

    def _render(self, messages: list[Message]) -> Any:
        return render(self.tok, self.spec, messages, side="serving", template=self.template)

    def __call__(self, messages: list[Message]) -> Truth:
        r = self._render(messages)
        layout = locate(lambda m: self._render(m).text, messages, r.text, self.eot)
        if not layout.assistant():
            raise LayoutError("no assistant message to train on")
        offsets = offsets_for(self.tok, r.text, r.ids, add_special_default(self.spec, "serving"))
        if offsets is None:
            raise LayoutError("the serving ids cannot be mapped to characters of the rendered text")
        return ground_truth(layout, r.ids, offsets, self.train_on)


@dataclass
class _Tally:
    """Exact counts over every sample, and the distinct problems with their first examples."""

    groups: Groups
    skipped: SkippedLog = field(default_factory=SkippedLog)
    counts: Counter[str] = field(default_factory=Counter)

    def note(self, order: Order, where: str, findings: list[Finding]) -> None:
        for f in findings:
            key = f"{f.code} {f.signature}"
            if not self.groups.seen(key, order, where):
                self.groups.add(key, order, where, f)

    def add(self, order: Order, where: str, out: Outcome) -> None:
        self.note(order, where, out.findings)
        self.counts["checked"] += 1
        self.counts["tokens"] += out.tokens
        self.counts["wrong"] += out.wrong
        for key in ("misaligned", "lost", "skew", "truncated"):
            self.counts[key] += int(getattr(out, key))


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Check every conversation (or dataset record). Zero samples checked is an InputError."""
    cfg = settings.config_path
    spec = settings.mask
    if spec is None:
        raise ConfigError(f"{cfg}: mask: mask-check needs a `mask:` section with a `strategy`")
    train_on = _train_on(spec, cfg)
    serving = _serving_template(settings, sides)
    truth_of = GroundTruth(settings, sides, serving, train_on)
    tally = _Tally(Groups(keep=options.examples))
    if spec.strategy == "dataset":
        _check_dataset(settings, spec, sides, truth_of, tally)
    else:
        _check_strategy(settings, spec, sides, truth_of, serving, tally)
    findings, skipped, counts = tally.groups.findings(), tally.skipped.items(), tally.counts
    if counts["checked"] == 0:
        problems = [f"{f.sample}: {f.detail.get('problem')}" for f in findings if f.category == "malformed"]
        problems += [f"{s.where}: {s.reason}" for s in skipped]
        unusable = counts["malformed"] + tally.skipped.count
        more = f" ({unusable} unusable; {'; '.join(problems[:5])})" if problems else ""
        raise InputError(f"{cfg}: mask-check: no sample could be checked{more}")
    tokens = counts["tokens"]
    return CheckResult(
        findings=findings,
        skipped=skipped,
        summary={
            "strategy": spec.strategy,
            "samples_checked": counts["checked"],
            "samples_misaligned": counts["misaligned"],
            "samples_lost": counts["lost"],
            "samples_skew": counts["skew"],
            "samples_truncated": counts["truncated"],
            "samples_malformed": counts["malformed"],
            "samples_skipped": tally.skipped.count,
            "label_tokens": tokens,
            "label_tokens_wrong": counts["wrong"],
            "share_label_tokens_wrong": round(counts["wrong"] / tokens, 6) if tokens else 0.0,
        },
    )


def _check_dataset(settings: Settings, spec: MaskSpec, sides: Sides, truth_of: GroundTruth, tally: _Tally) -> None:
    if spec.dataset is None:
        raise ConfigError(
            f"{settings.config_path}: mask.dataset: required for strategy `dataset` (a .jsonl, .jsonl.gz, "
            ".jsonl.zst or .parquet file, or a `datasets` save_to_disk folder)"
        )
    shaper = Shaper(sides.serving)
    shapers = Shapers(shaper, shaper)
    for n, rec in enumerate(read_records(spec.dataset, settings.config_path)):
        order = (0, 0, n)
        if isinstance(rec, Malformed):
            tally.note(order, rec.where, [malformed(rec.where, rec.problem)])
            tally.counts["malformed"] += 1
            continue
        try:
            truth = truth_of(rec.messages)
        except (RenderError, LayoutError) as exc:
            tally.skipped.add(order, Skipped(rec.where, f"serving template: {exc}"))
            continue
        labels = [v != IGNORE for v in rec.labels]
        out = compare(
            rec.where,
            truth,
            rec.input_ids,
            labels,
            strategy="dataset",
            serving=sides.serving,
            pipeline=sides.serving,
            shapers=shapers,
            raw_labels=rec.labels,
        )
        tally.add(order, rec.where, out)


def _check_strategy(
    settings: Settings,
    spec: MaskSpec,
    sides: Sides,
    truth_of: GroundTruth,
    serving: Template,
    tally: _Tally,
) -> None:
    cfg = settings.config_path
    template = (
        load_template(sides.training, settings.training, f"{cfg}: training.chat_template")
        if settings.training.chat_template or settings.training.chat_format
        else serving
    )
    if spec.strategy == "generation":
        _check_generation_inputs(settings, sides, template)
    pipe = Pipeline(sides.training, settings.training, template, truth_of.train_on, spec.max_length)
    build = STRATEGIES[spec.strategy]
    shapers = Shapers(Shaper(sides.serving), Shaper(sides.training))
    for order, conv in _conversations(settings, sides):
        if isinstance(conv, Skipped):
            tally.skipped.add(order, conv)
            continue
        if conv.uses_tools:
            tally.skipped.add(order, Skipped(conv.where, "tool calls: mask-check checks text conversations"))
            continue
        try:
            truth = truth_of(conv.messages)
        except (RenderError, LayoutError) as exc:
            tally.skipped.add(order, Skipped(conv.where, f"serving template: {exc}"))
            continue
        try:
            built = build(pipe, conv.messages)
        except StrategyError as exc:
            tally.skipped.add(order, Skipped(conv.where, str(exc)))
            continue
        ids, labels = built.ids, built.labels
        if spec.max_length:
            ids, labels = ids[: spec.max_length], labels[: spec.max_length]
        out = compare(
            conv.where,
            truth,
            ids,
            labels,
            strategy=spec.strategy,
            serving=sides.serving,
            pipeline=sides.training,
            shapers=shapers,
            note=built.note,
        )
        tally.add(order, conv.where, out)


def _conversations(settings: Settings, sides: Sides) -> Iterator[tuple[Order, Conversation | Skipped]]:
    """The `conversations:` file (read as it is checked), else the built-in set without tool calls."""
    if settings.conversations is not None:
        for n, item in enumerate(read_conversations(settings.conversations, settings.config_path)):
            yield (0, 0, n), item
        return
    controls = sorted(s for s in sides.serving.specials() if s)
    for n, conv in enumerate(c for c in builtin_conversations(controls) if not c.uses_tools):
        yield (1, 0, n), conv


def _check_generation_inputs(settings: Settings, sides: Sides, template: Template) -> None:
    cfg = settings.config_path
    if not isinstance(sides.training, AssistantMasker):
        raise ConfigError(
            f"{cfg}: training.source: strategy `generation` runs transformers' apply_chat_template("
            f"return_assistant_tokens_mask=True), which needs `source: hf` (got {settings.training.source})"
        )
    source = template.default_source
    if template.engine != "jinja" or not GENERATION.search(source):
        raise ConfigError(
            f"{cfg}: mask.strategy: `generation` needs `{{% generation %}}` markers in the chat template "
            f"({template.origin or 'mistral-common'} has none)"
        )


def _train_on(spec: MaskSpec, cfg: Path | None) -> tuple[str, ...]:
    if spec.train_on is None:
        return DEFAULT_TRAIN_ON
    unknown = [p for p in spec.train_on if p not in PARTS]
    if unknown:
        raise ConfigError(f"{cfg}: mask.train_on: unknown part {unknown[0]!r} (expected some of: {', '.join(PARTS)})")
    picked = sorted({PARTS.index(p) for p in spec.train_on})
    if not picked or picked != list(range(picked[0], picked[-1] + 1)):
        raise ConfigError(
            f"{cfg}: mask.train_on: name adjacent parts of a turn, in order: {', '.join(PARTS)} "
            f"(got {spec.train_on or '[]'})"
        )
    return tuple(PARTS[i] for i in picked)


def _serving_template(settings: Settings, sides: Sides) -> Template:
    cfg = settings.config_path
    spec = settings.serving
    if not spec.chat_template and not spec.chat_format:
        if not sides.serving.chat_templates() and not isinstance(sides.serving, ChatServer):
            raise ConfigError(
                f"{cfg}: serving.chat_template: mask-check renders conversations with the serving template; "
                "set a Jinja file or `tokenizer` (this tokenizer has no chat_template of its own)"
            )
        spec = spec.model_copy(update={"chat_template": "tokenizer"})
    return load_template(sides.serving, spec, f"{cfg}: serving.chat_template")
