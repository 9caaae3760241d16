"""`diff --against LOCK`: has tokenization moved since the snapshot?"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff.divergence import Side, explain
from tokaudit.checks.diff.scan import CHUNK
from tokaudit.checks.diff.signature import Shaper, bounds, signature
from tokaudit.checks.groups import Groups, SkippedLog
from tokaudit.codes import finding
from tokaudit.config import Settings
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.options import Options
from tokaudit.readers import Sample
from tokaudit.shards import Order, plan, read
from tokaudit.snapshot import Lock, ids_hash, package_versions, read_lock, text_hash
from tokaudit.sources.base import Sides


def _changed_versions(then: dict[str, str], now: dict[str, str]) -> str:
    moved = [
        f"{k} {then.get(k, '-')} → {now.get(k, '-')}" for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)
    ]
    return ", ".join(moved) if moved else "no library version changed"


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Compare each side now with the same side in the lock, streaming the corpus in chunks; moves are
    grouped by side and the shape of the change."""
    assert options.against is not None
    lock = read_lock(options.against)
    for name in dict(sides.items()):
        if name not in lock.data["sides"]:
            raise InputError(f"{lock.path}: the lock has no side {name!r}")
    then_env = lock.data.get("environment", {}).get("packages", {})
    now_env = package_versions()
    run = _Run(lock, sides, _changed_versions(then_env, now_env), then_env, now_env, Groups(keep=options.examples))
    result = CheckResult(findings=run.backend_changes())
    for shard in plan(settings, sides.specials(), options.use_builtin(settings.builtin_corpus)):
        batch: list[tuple[Order, Sample, int]] = []
        for order, item in read(shard):
            if isinstance(item, Skipped):
                run.skipped.add(order, item)
            elif (k := run.index.get(item.where)) is None:
                run.skipped.add(order, Skipped(item.where, "not in the lock (new since the snapshot)"))
            elif run.rows[k]["text"] != text_hash(item.text):
                run.skipped.add(order, Skipped(item.where, "text changed since the snapshot"))
            else:
                batch.append((order, item, k))
                if len(batch) >= CHUNK:
                    run.compare(batch)
                    batch = []
        run.compare(batch)
    if run.compared == 0:
        raise InputError(f"{lock.path}: no sample of the lock could be compared with the current corpus")
    result.findings += run.groups.findings()
    result.skipped = run.skipped.items()
    result.summary = {
        "lock": str(lock.path),
        "lock_created": lock.data.get("created"),
        "sample_sides_compared": run.compared,
        "sample_sides_moved": run.moved,
        "samples_skipped": run.skipped.count,
        "versions": run.versions,
    }
    return result


@dataclass
class _Run:
    lock: Lock
    sides: Sides
    versions: str
    then_env: dict[str, str]
    now_env: dict[str, str]
    groups: Groups
    skipped: SkippedLog = field(default_factory=SkippedLog)
    compared: int = 0
    moved: int = 0

    def __post_init__(self) -> None:
        self.rows = self.lock.samples  # built on each access: once here
        self.index = {s["where"]: k for k, s in enumerate(self.rows)}
        self.then = {name: self.lock.ids(name) for name, _ in self.sides.items()}
        self.shapers = {name: Shaper(tok, by_cause=True) for name, tok in self.sides.items()}

    def backend_changes(self) -> list[Finding]:
        out = []
        for name, tok in self.sides.items():
            then_side = self.lock.side(name)
            if then_side.get("backend") != tok.backend() or then_side.get("source") != tok.source:
                out.append(
                    finding(
                        "TA502",
                        f"{name} resolved to {then_side.get('backend')} at snapshot time and to {tok.backend()} now",
                        where=name,
                        detail={"then": then_side, "now": tok.describe()},
                    )
                )
            out += _commit_moved(name, then_side, tok.describe())
        return out

    def compare(self, batch: list[tuple[Order, Sample, int]]) -> None:
        if not batch:
            return
        texts = [s.text for _, s, _ in batch]
        for name, tok in self.sides.items():
            for (order, sample, k), ids in zip(batch, tok.encode_all(texts)):
                self.compared += 1
                then_ids = self.then[name][k]
                # The ids are the truth; the per-sample hash is there for people reviewing the lock.
                if (ids == then_ids) if then_ids is not None else ids_hash(ids) == self.rows[k][name]:
                    continue
                self.moved += 1
                if then_ids is not None and isinstance(ids, list):
                    i, _ = bounds(then_ids, ids)
                    shaper = self.shapers[name]
                    key = f"{name}: {signature(then_ids, ids, i, shaper, shaper)}"
                else:
                    key = f"{name}: refused"
                if not self.groups.seen(key, order, sample.where):
                    f = _moved(
                        name, tok, sample.text, sample.where, then_ids, ids, self.versions, self.then_env, self.now_env
                    )
                    self.groups.add(key, order, sample.where, dataclasses.replace(f, signature=key))


def _commit_moved(name: str, then: dict[str, Any], now: dict[str, Any]) -> list[Finding]:
    """TA503: the lock and this run name the commit each Hub-id side loaded; say when it changed."""
    before, after = then.get("commit"), now.get("commit")
    if not before or not after or before == after:
        return []
    asked = now.get("revision") or after
    return [
        finding(
            "TA503",
            f"{name} loaded {now.get('path')} {asked} at commit {before[:7]}… at snapshot time and at "
            f"{after[:7]}… now: the files behind the revision changed",
            where=name,
            detail={
                "then": {"revision": then.get("revision"), "commit": before},
                "now": {"revision": asked, "commit": after},
            },
        )
    ]


def _moved(name, tok, text, where, then, now, versions, then_env, now_env) -> Finding:  # type: ignore[no-untyped-def]
    detail: dict[str, Any] = {"side": name, "versions_then": then_env, "versions_now": now_env, "text": text[:400]}
    if then is not None and isinstance(now, list):
        div = explain(text, Side("then", tok, then, text_in=text), Side("now", tok, now, text_in=text))
        detail.update(div.detail)
        why = f"{div.category}: {div.message}"
        category = div.category
    else:
        why = "one of the two runs refused the sample" + (f" ({now})" if isinstance(now, str) else "")
        category = "unknown"
    return finding(
        "TA501",
        f"{name} tokens moved since the snapshot ({versions}); {why}",
        sample=where,
        category=category,
        detail=detail,
    )
