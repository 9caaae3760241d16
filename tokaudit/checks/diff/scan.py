"""diff over one shard: encode in batches, compare ids, and group the differing samples by signature.

Comparing ids and taking a divergence's shape is cheap and done for every sample; the category and
the evidence (`divergence.explain`) are computed only for a signature not seen before in this shard.
The DiffTally it returns merges with other shards' tallies in any order to the same result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import itemgetter, ne
from typing import cast

from tokaudit.checks.diff.ablation import ablate
from tokaudit.checks.diff.divergence import CATEGORIES, Side, explain
from tokaudit.checks.diff.signature import Shaper, Signer, bounds, error_signature, involved
from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.codes import code_for, finding
from tokaudit.findings import Finding, Skipped
from tokaudit.readers import Sample
from tokaudit.shards import Order, Shard, read
from tokaudit.sources.base import Sides, Tokenizer
from tokaudit.sources.capabilities import StoredTokens

#: texts per batch call of each library
CHUNK = 4096
TEXT_SHOWN = 400
#: a batch with each side's ids (or a library's refusal) per sample
Encoded = tuple[list[tuple[Order, Sample]], list[list[int] | str], list[list[int] | str]]


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
    signer = Signer(Shaper(sides.training, by_cause=True), Shaper(sides.serving, by_cause=True))
    for batch in _batches(shard, tally):
        texts = [s.text for _, s in batch]
        train = _encoded(sides.training, batch, texts)
        serve = _encoded(sides.serving, batch, texts)
        _compare(sides, signer, (batch, train, serve), tally)
    return tally


def _batches(shard: Shard, tally: DiffTally) -> Iterator[list[tuple[Order, Sample]]]:
    """The shard's samples, CHUNK at a time; skipped lines are recorded on the way."""
    items = read(shard)
    while chunk := list(islice(items, CHUNK)):
        if set(map(type, map(_second, chunk))) != {Sample}:  # a skipped line among them: rare
            for order, item in chunk:
                if isinstance(item, Skipped):
                    _skip(tally, order, item)
            chunk = [(order, item) for order, item in chunk if not isinstance(item, Skipped)]
        tally.read.update(map(_first, map(_first, chunk)))  # samples per corpus input
        if chunk:
            yield cast("list[tuple[Order, Sample]]", chunk)


_first, _second = itemgetter(0), itemgetter(1)


def _skip(tally: DiffTally, order: Order, item: Skipped) -> None:
    tally.skipped.add(order, item)
    tally.skips[order[0]] += 1
    if order[0] not in tally.first_skip or order < tally.first_skip[order[0]][0]:
        tally.first_skip[order[0]] = (order, item)


def _compare(sides: Sides, signer: Signer, encoded: Encoded, t: DiffTally) -> None:
    # The per-sample work is the tool's cost over the libraries': equal samples are found and their
    # tokens counted at C speed; a differing one costs its bounds, a memoised signature and a count.
    batch, train_or_refused, serve_or_refused = encoded
    train, serve = cast("list[list[int]]", train_or_refused), cast("list[list[int]]", serve_or_refused)
    if str in map(type, train_or_refused) or str in map(type, serve_or_refused):
        batch, train, serve = _refusals(batch, train_or_refused, serve_or_refused, t)
    t.compared += len(train)
    t.tokens += sum(map(len, serve))
    groups = t.groups
    differing = list(compress(range(len(train)), map(ne, train, serve)))
    t.differing += len(differing)
    affected = 0
    for k in differing:
        a, b = train[k], serve[k]
        i, j = bounds(a, b)
        affected += max(len(a) - j - i, len(b) - j - i, 1)
        key = signer(a, b, i)
        # which special strings a signature by cause leaves out: only where it shows one
        names = involved(a, b, i, signer.sa, signer.sb) if "⟨special⟩" in key else ()
        order, sample = batch[k]
        if not groups.seen(key, order, sample.where, names):
            made, plural = _explained(sides, sample, a, b, key)
            groups.add(key, order, sample.where, made, names, plural)
    t.affected += affected


def _refusals(
    batch: list[tuple[Order, Sample]], train: list[list[int] | str], serve: list[list[int] | str], t: DiffTally
) -> tuple[list[tuple[Order, Sample]], list[list[int]], list[list[int]]]:
    """Record the samples a side refused (a skip when both did); the others are returned with their ids."""
    kept: list[tuple[Order, Sample]] = []
    ids: tuple[list[list[int]], list[list[int]]] = ([], [])
    for (order, sample), a, b in zip(batch, train, serve):
        if isinstance(a, str) and isinstance(b, str):
            _skip(t, order, Skipped(sample.where, f"both sides refused it: {a}"))
        elif isinstance(a, str) or isinstance(b, str):
            t.compared += 1
            t.differing += 1
            failed, error = ("training", a) if isinstance(a, str) else ("serving", str(b))
            key = error_signature(failed, error)
            if not t.groups.seen(key, order, sample.where):
                t.groups.add(key, order, sample.where, _refused(sample, failed, error, key))
        else:
            kept.append((order, sample))
            ids[0].append(a)
            ids[1].append(b)
    return kept, *ids


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
