"""Cut a config's corpus into shards: descriptors small enough to send to a worker or a Ray actor,
which reads its own slice of the files (a byte range of a line file, a whole compressed file,
Parquet file or datasets folder) or carries its few samples (the built-in cases, a `--sample` draw).

Every sample gets an `Order` — (input number, line or row number) — so results from shards merge
to the same report in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tokaudit.config import Settings
from tokaudit.corpus import builtin_samples, entry_key
from tokaudit.findings import Skipped
from tokaudit.readers import Sample, Span, line_spans, records, sample_stream, texts

#: (input number, byte offset of the shard in it, position in the shard): the order samples are read
#: in, comparable across shards of one input and across inputs
Order = tuple[int, int, int]
#: bytes of a line file per shard: big enough that batch calls amortise, small enough to spread
SHARD_BYTES = 1 << 20
#: samples per in-memory shard
SHARD_SAMPLES = 4096


@dataclass(frozen=True)
class Shard:
    """One unit of work: where its samples come from, and how many bytes that is (for progress)."""

    input: int  # the corpus entry's index; len(corpus) for the built-in cases
    key: str = ""  # the config key, for error messages
    path: Path | None = None
    field: str | None = None
    span: Span | None = None
    limit: int | None = None
    #: the samples an in-memory shard carries (a rollout-check `--sample` draw carries readers.Records)
    items: tuple[tuple[Order, Any], ...] = ()
    size: int = 0
    #: a tokenized dataset: the record field whose ids come with each text
    ids_field: str | None = None


def plan(settings: Settings, specials: Iterable[str], builtin: bool, shard_bytes: int = SHARD_BYTES) -> Iterator[Shard]:
    """Every corpus entry in shards, then the built-in cases. Cutting reads each line file once.
    With a `source: dataset` side, its file is the whole corpus (its texts come with stored ids)."""
    cfg = settings.config_path
    for name, spec in (("training", settings.training), ("serving", settings.serving)):
        if spec.source == "dataset":
            path, key = Path(str(spec.path)), f"{cfg}: {name}"
            one = Shard(0, key, path, spec.text_field, size=_size(path), ids_field=spec.ids_field)
            spans = line_spans(path, shard_bytes, key)
            yield from [one] if spans is None else (replace(one, span=s, size=s.end - s.start) for s in spans)
            return
    for i, entry in enumerate(settings.corpus):
        path, key = Path(entry.path), entry_key(cfg, i)
        spans = None if entry.limit is not None else line_spans(path, shard_bytes, key)
        if spans is None:
            yield Shard(i, key, path, entry.field, limit=entry.limit, size=_size(path))
            continue
        for span in spans:
            yield Shard(i, key, path, entry.field, span=span, size=span.end - span.start)
    if builtin:
        n = len(settings.corpus)
        yield Shard(n, "builtin", items=tuple(((n, 0, k), s) for k, s in enumerate(builtin_samples(specials))))


def read(shard: Shard) -> Iterator[tuple[Order, Sample | Skipped]]:
    """The shard's samples (and the lines it could not use), each with its Order."""
    if shard.path is None:
        yield from shard.items
        return
    start = shard.span.start if shard.span else 0
    if shard.ids_field is not None:
        items: Iterator[Sample | Skipped] = _stored(shard)
    else:
        items = texts(shard.path, shard.field, shard.key, shard.limit, span=shard.span)
    for k, item in enumerate(items):
        yield (shard.input, start, k), item


def _stored(shard: Shard) -> Iterator[Sample | Skipped]:
    """Records of a tokenized dataset as samples that carry their ids."""
    assert shard.path is not None and shard.field is not None and shard.ids_field is not None
    text_field, ids_field = shard.field, shard.ids_field
    for rec in records(shard.path, [text_field, ids_field], shard.key, span=shard.span):
        if isinstance(rec, Skipped):
            yield rec
            continue
        text, ids = rec.value.get(text_field), rec.value.get(ids_field)
        if not isinstance(text, str):
            what = "missing" if text_field not in rec.value else f"{type(text).__name__}, not a string"
            yield Skipped(rec.where, f"field {text_field!r} is {what}")
        elif not isinstance(ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
            what = "missing" if ids_field not in rec.value else "not a list of integers"
            yield Skipped(rec.where, f"field {ids_field!r} is {what}")
        else:
            yield Sample(text, rec.where, tuple(ids))


def draw(shards: Iterable[Shard], n: int, seed: int) -> Iterator[Shard]:
    """`--sample N --seed S`: the same N samples of the whole input for the same seed (one pass,
    memory for N samples), as in-memory shards; skipped lines are not part of the draw."""
    stream = ((order, item) for shard in shards for order, item in read(shard) if isinstance(item, Sample))
    chosen = sample_stream(stream, n, seed)
    for start in range(0, len(chosen), SHARD_SAMPLES):
        part = tuple(chosen[start : start + SHARD_SAMPLES])
        yield Shard(part[0][0][0], "sample", items=part, size=len(part))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.glob("*.arrow"))
    return path.stat().st_size if path.exists() else 0
