"""diff over one shard: encode in batches, compare ids, and group the differing samples by signature.

Comparing ids and taking a divergence's shape is cheap and done for every sample; the category and
the evidence (`divergence.explain`) are computed only for a signature not seen before in this shard.
The DiffTally it returns merges with other shards' tallies in any order to the same result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tokaudit.checks.diff.ablation import ablate
from tokaudit.checks.diff.divergence import CATEGORIES, Side, explain
from tokaudit.checks.diff.signature import Shaper, bounds, error_signature, involved, signature
from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.codes import code_for, finding
from tokaudit.findings import Finding, Skipped
from tokaudit.readers import Sample
from tokaudit.shards import Order, Shard, read
from tokaudit.sources.base import Sides, Tokenizer
from tokaudit.sources.capabilities import StoredTokens

#: texts per batch call of each library
CHUNK = 2048
TEXT_SHOWN = 400


@dataclass
class DiffTally:
    """Exact counts over every sample, and the distinct divergences with their first examples."""

    keep: int = 5
    compared: int = 0
    differing: int = 0
    tokens: int = 0
    affected: int = 0
    groups: Groups = field(default_factory=Groups)
    skipped: SkippedLog = field(default_factory=SkippedLog)
    #: samples read per corpus input, and the first line skipped in each (an input with none is an error)
    read: Counter[int] = field(default_factory=Counter)
    skips: Counter[int] = field(default_factory=Counter)
    first_skip: dict[int, tuple[Order, Skipped]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.groups.keep = self.keep

    def merge(self, other: DiffTally) -> None:
        self.compared += other.compared
        self.differing += other.differing
        self.tokens += other.tokens
        self.affected += other.affected
        self.groups.merge(other.groups)
        self.skipped.merge(other.skipped)
        self.read.update(other.read)
        self.skips.update(other.skips)
        for i, (order, item) in other.first_skip.items():
            if i not in self.first_skip or order < self.first_skip[i][0]:
                self.first_skip[i] = (order, item)

    def samples(self) -> int:
        return self.compared + self.skipped.count

    def by_category(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for g in self.groups.groups.values():
            counts[g.finding.category or "unknown"] += g.count
        return {c: counts[c] for c in CATEGORIES if counts[c]}


def scan(sides: Sides, shard: Shard, keep: int = 5) -> DiffTally:
    """Compare both sides on every sample of one shard."""
    tally = DiffTally(keep=keep)
    shapers = Shaper(sides.training, by_cause=True), Shaper(sides.serving, by_cause=True)
    batch: list[tuple[Order, Sample]] = []
    for order, item in read(shard):
        if isinstance(item, Skipped):
            _skip(tally, order, item)
            continue
        tally.read[order[0]] += 1
        batch.append((order, item))
        if len(batch) >= CHUNK:
            _compare(sides, shapers, batch, tally)
            batch = []
    if batch:
        _compare(sides, shapers, batch, tally)
    return tally


def _skip(tally: DiffTally, order: Order, item: Skipped) -> None:
    tally.skipped.add(order, item)
    tally.skips[order[0]] += 1
    if order[0] not in tally.first_skip or order < tally.first_skip[order[0]][0]:
        tally.first_skip[order[0]] = (order, item)


def _compare(sides: Sides, shapers: tuple[Shaper, Shaper], batch: list[tuple[Order, Sample]], t: DiffTally) -> None:
    texts = [s.text for _, s in batch]
    train = _encoded(sides.training, batch, texts)
    serve = _encoded(sides.serving, batch, texts)
    for (order, sample), a, b in zip(batch, train, serve):
        if isinstance(a, str) and isinstance(b, str):
            _skip(t, order, Skipped(sample.where, f"both sides refused it: {a}"))
            continue
        t.compared += 1
        if isinstance(a, str) or isinstance(b, str):
            t.differing += 1
            failed, error = ("training", a) if isinstance(a, str) else ("serving", str(b))
            key = error_signature(failed, error)
            if not t.groups.seen(key, order, sample.where):
                t.groups.add(key, order, sample.where, _refused(sample, failed, error, key))
            continue
        t.tokens += len(b)
        if a == b:
            continue
        t.differing += 1
        i, j = bounds(a, b)
        t.affected += max(len(a) - j - i, len(b) - j - i, 1)
        key = signature(a, b, i, *shapers)
        # which special strings a signature by cause leaves out: only where it shows one
        names = involved(a, b, i, *shapers) if "⟨special⟩" in key else ()
        if not t.groups.seen(key, order, sample.where, names):
            finding, plural = _explained(sides, sample, a, b, key)
            t.groups.add(key, order, sample.where, finding, names, plural)


def _encoded(tok: Tokenizer, batch: list[tuple[Order, Sample]], texts: list[str]) -> list[list[int] | str]:
    # a tokenized dataset's ids were read with its texts; every other side encodes them now
    if isinstance(tok, StoredTokens):
        return [list(s.ids or ()) for _, s in batch]
    return tok.encode_all(texts)


def _explained(sides: Sides, sample: Sample, a: list[int], b: list[int], shape: str) -> tuple[Finding, str | None]:
    div = explain(
        sample.text,
        Side("training", sides.training, a, text_in=sample.text),
        Side("serving", sides.serving, b, text_in=sample.text),
    )
    text = sample.text if len(sample.text) <= TEXT_SHOWN else sample.text[:TEXT_SHOWN] + "…"
    # which pipeline component causes it: once per distinct divergence, on its first example
    ablation = ablate(sample.text, ("training", sides.training, a), ("serving", sides.serving, b))
    made = finding(
        code_for(div.category, "TA1"),
        div.message,
        sample=sample.where,
        category=div.category,
        signature=f"{div.category}: {shape}",
        detail={"text": text, **div.detail, **(ablation.detail() if ablation else {})},
    )
    return made, div.plural


def _refused(sample: Sample, failed: str, error: str, key: str) -> Finding:
    ok = "serving" if failed == "training" else "training"
    return finding(
        "TA110",
        f"{failed} refuses this sample ({error}); {ok} encodes it",
        sample=sample.where,
        category="special-token" if "special" in error.lower() else "unknown",
        signature=key,
        detail={"text": sample.text[:TEXT_SHOWN], "error": error, "failed": failed},
    )
