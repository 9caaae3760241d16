"""The checks: command name -> the callable that runs it and the inputs it needs from a config.

`tokaudit check` runs every check whose inputs the config has. A new check is a subpackage with a
`run(settings, sides, options) -> CheckResult` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff import against
from tokaudit.checks.diff import check as diff
from tokaudit.checks.load import check as load
from tokaudit.checks.mask import check as mask
from tokaudit.checks.rollout import check as rollout
from tokaudit.checks.template import check as template
from tokaudit.checks.vocab import check as vocab
from tokaudit.config import Settings
from tokaudit.options import Options
from tokaudit.sources.base import Sides

Run = Callable[[Settings, Sides, Options], CheckResult]


@dataclass(frozen=True)
class Stream:
    """A check that streams the corpus: `scan(sides, shard, keep=K)` per shard in the workers, a
    `tally(options)` to merge the shards' tallies into, and `finish(settings, tally)` for the result.

    A check that streams its own input (rollout-check's dump) also gives `plan(settings)` (its shards) and
    `draw(settings, shards, n, seed)` (`--sample`); its scan is then called with `settings=` too."""

    scan: Callable[..., Any]
    tally: Callable[[Options], Any]
    finish: Callable[[Settings, Any], CheckResult]
    plan: Callable[[Settings], Iterable[Any]] | None = None
    draw: Callable[[Settings, Iterable[Any], int, int], Iterable[Any]] | None = None


@dataclass(frozen=True)
class Check:
    """One check: how it runs, and whether a config gives it something to check."""

    run: Run
    has_inputs: Callable[[Settings], bool]
    #: what the check reads, for `--help` and docs
    needs: str
    #: when set, the runner streams the corpus through it (`run` then serves only `--against`)
    stream: Stream | None = None
    #: False for the one check that can compare stored ids (`source: dataset`) with a tokenizer
    needs_tokenizers: bool = True


def _has_chat(s: Settings) -> bool:
    return s.conversations is not None or bool(s.training.chat_template or s.serving.chat_template)


CHECKS: dict[str, Check] = {
    # `--against LOCK` compares each side with its own past instead of with the other side
    "diff": Check(
        against.run,
        lambda s: True,
        "corpus: and/or the built-in corpus (or --against LOCK)",
        Stream(diff.scan, diff.tally, diff.finish),
        needs_tokenizers=False,
    ),
    "vocab-check": Check(vocab.run, lambda s: True, "both sides' files; model.vocab_size / model.config"),
    "template-check": Check(template.run, _has_chat, "conversations: and/or a side's chat_template"),
    "mask-check": Check(mask.run, lambda s: s.mask is not None, "mask: (strategy, dataset)"),
    "rollout-check": Check(
        rollout.run,
        lambda s: s.rollouts is not None,
        "rollouts: (a rollout dump: turns, messages, the trainer's row)",
        Stream(rollout.scan, rollout.tally, rollout.finish, rollout.plan, rollout.draw),
    ),
    # `tokaudit load-check` always runs it; `check` only when the config asks for the fresh loads
    "load-check": Check(load.run, lambda s: s.load_check is not None, "an `hf` side; load_check: (threads, processes)"),
}


def stored_side(settings: Settings) -> str | None:
    """The side that is a tokenized dataset (`source: dataset`), if any."""
    return next((n for n in ("training", "serving") if getattr(settings, n).source == "dataset"), None)


def checks_for(settings: Settings) -> list[str]:
    """The checks a config has inputs for (what `tokaudit check` runs), in registry order."""
    stored = stored_side(settings) is not None
    return [n for n, c in CHECKS.items() if c.has_inputs(settings) and not (stored and c.needs_tokenizers)]
