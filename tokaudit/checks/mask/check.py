"""`mask-check`: does the SFT loss mask cover exactly the assistant's tokens?

The ground truth comes from the serving template and tokenizer (mask_truth); the labels under test come
from a reproduced pipeline (mask_strategies) or from the user's tokenized data (mask_dataset). Rules and
codes: docs/mask.md, docs/codes.md.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from tokaudit.chat import RenderError, Template, add_special_default, load_template, render
from tokaudit.checks.base import CheckResult
from tokaudit.checks.mask.compare import Outcome, compare, malformed
from tokaudit.checks.mask.dataset import IGNORE, read_records
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
from tokaudit.conversations import builtin_conversations, read_conversations
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Skipped
from tokaudit.options import Options
from tokaudit.sources.base import Sides
from tokaudit.sources.capabilities import AssistantMasker

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


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Check every conversation (or dataset record). Zero samples checked is an InputError."""
    cfg = settings.config_path
    spec = settings.mask
    if spec is None:
        raise ConfigError(f"{cfg}: mask: mask-check needs a `mask:` section with a `strategy`")
    train_on = _train_on(spec, cfg)
    serving = _serving_template(settings, sides)
    truth_of = GroundTruth(settings, sides, serving, train_on)
    result = CheckResult()
    tally: Counter[str] = Counter()
    if spec.strategy == "dataset":
        _check_dataset(settings, spec, sides, truth_of, result, tally)
    else:
        _check_strategy(settings, spec, sides, truth_of, serving, result, tally)
    if tally["checked"] == 0:
        problems = [f"{f.sample}: {f.detail.get('problem')}" for f in result.findings if f.category == "malformed"]
        problems += [f"{s.where}: {s.reason}" for s in result.skipped]
        more = f" ({len(problems)} unusable; {'; '.join(problems[:5])})" if problems else ""
        raise InputError(f"{cfg}: mask-check: no sample could be checked{more}")
    tokens = tally["tokens"]
    result.summary = {
        "strategy": spec.strategy,
        "samples_checked": tally["checked"],
        "samples_misaligned": tally["misaligned"],
        "samples_lost": tally["lost"],
        "samples_skew": tally["skew"],
        "samples_truncated": tally["truncated"],
        "samples_malformed": tally["malformed"],
        "samples_skipped": len(result.skipped),
        "label_tokens": tokens,
        "label_tokens_wrong": tally["wrong"],
        "share_label_tokens_wrong": round(tally["wrong"] / tokens, 6) if tokens else 0.0,
    }
    return result


def _add(result: CheckResult, tally: Counter[str], out: Outcome) -> None:
    result.findings += out.findings
    tally["checked"] += 1
    tally["tokens"] += out.tokens
    tally["wrong"] += out.wrong
    for key in ("misaligned", "lost", "skew", "truncated"):
        tally[key] += int(getattr(out, key))


def _check_dataset(
    settings: Settings, spec: MaskSpec, sides: Sides, truth_of: GroundTruth, result: CheckResult, tally: Counter[str]
) -> None:
    if spec.dataset is None:
        raise ConfigError(f"{settings.config_path}: mask.dataset: required for strategy `dataset` (a .jsonl file)")
    records, bad = read_records(spec.dataset, settings.config_path)
    for m in bad:
        result.findings.append(malformed(m.where, m.problem))
        tally["malformed"] += 1
    for rec in records:
        try:
            truth = truth_of(rec.messages)
        except (RenderError, LayoutError) as exc:
            result.skipped.append(Skipped(rec.where, f"serving template: {exc}"))
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
            raw_labels=rec.labels,
        )
        _add(result, tally, out)


def _check_strategy(
    settings: Settings,
    spec: MaskSpec,
    sides: Sides,
    truth_of: GroundTruth,
    serving: Template,
    result: CheckResult,
    tally: Counter[str],
) -> None:
    cfg = settings.config_path
    template = (
        load_template(sides.training, settings.training, f"{cfg}: training.chat_template")
        if settings.training.chat_template
        else serving
    )
    if spec.strategy == "generation":
        _check_generation_inputs(settings, sides, template)
    if settings.conversations is not None:
        conversations, skipped = read_conversations(settings.conversations, cfg)
        result.skipped += skipped
    else:
        controls = sorted(s for s in sides.serving.specials() if s)
        conversations = [c for c in builtin_conversations(controls) if not c.uses_tools]
    pipe = Pipeline(sides.training, settings.training, template, truth_of.train_on, spec.max_length)
    build = STRATEGIES[spec.strategy]
    for conv in conversations:
        if conv.uses_tools:
            result.skipped.append(Skipped(conv.where, "tool calls: mask-check checks text conversations"))
            continue
        try:
            truth = truth_of(conv.messages)
        except (RenderError, LayoutError) as exc:
            result.skipped.append(Skipped(conv.where, f"serving template: {exc}"))
            continue
        try:
            built = build(pipe, conv.messages)
        except StrategyError as exc:
            result.skipped.append(Skipped(conv.where, str(exc)))
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
            note=built.note,
        )
        _add(result, tally, out)


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
    if not spec.chat_template:
        if not sides.serving.chat_templates():
            raise ConfigError(
                f"{cfg}: serving.chat_template: mask-check renders conversations with the serving template; "
                "set a Jinja file or `tokenizer` (this tokenizer has no chat_template of its own)"
            )
        spec = spec.model_copy(update={"chat_template": "tokenizer"})
    return load_template(sides.serving, spec, f"{cfg}: serving.chat_template")
