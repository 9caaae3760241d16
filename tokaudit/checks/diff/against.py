"""`diff --against LOCK`: has tokenization moved since the snapshot?"""

from __future__ import annotations

from typing import Any

from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff.divergence import Side, explain
from tokaudit.codes import finding
from tokaudit.config import Settings
from tokaudit.corpus import collect_samples
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.options import Options
from tokaudit.snapshot import ids_hash, package_versions, read_lock, text_hash
from tokaudit.sources.base import Sides


def _changed_versions(then: dict[str, str], now: dict[str, str]) -> str:
    moved = [
        f"{k} {then.get(k, '-')} → {now.get(k, '-')}" for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)
    ]
    return ", ".join(moved) if moved else "no library version changed"


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Compare each side now with the same side in the lock."""
    assert options.against is not None
    lock = read_lock(options.against)
    samples, skipped = collect_samples(settings, sides.specials(), options.use_builtin(settings.builtin_corpus))
    result = CheckResult(skipped=list(skipped))
    then_env = lock.data.get("environment", {}).get("packages", {})
    now_env = package_versions()
    versions = _changed_versions(then_env, now_env)
    index = {s["where"]: (k, s) for k, s in enumerate(lock.samples)}
    by_side = {name: lock.ids(name) for name in lock.data["sides"]}
    compared = moved = 0
    live = [s for s in samples if s.where in index]
    result.skipped += [
        Skipped(s.where, "not in the lock (new since the snapshot)") for s in samples if s.where not in index
    ]
    for name, tok in sides.items():
        if name not in by_side:
            raise InputError(f"{lock.path}: the lock has no side {name!r}")
        then_side = lock.side(name)
        if then_side.get("backend") != tok.backend() or then_side.get("source") != tok.source:
            result.findings.append(
                finding(
                    "TA502",
                    f"{name} resolved to {then_side.get('backend')} at snapshot time and to {tok.backend()} now",
                    where=name,
                    detail={"then": then_side, "now": tok.describe()},
                )
            )
        now_ids = tok.encode_all([s.text for s in live])
        for sample, ids in zip(live, now_ids):
            k, rec = index[sample.where]
            if rec["text"] != text_hash(sample.text):
                result.skipped.append(Skipped(sample.where, "text changed since the snapshot"))
                continue
            compared += 1
            then_ids = by_side[name][k]
            # The ids are the truth; the per-sample hash is there for people reviewing the lock.
            if (ids == then_ids) if then_ids is not None else ids_hash(ids) == rec[name]:
                continue
            moved += 1
            result.findings.append(
                _moved(name, tok, sample.text, sample.where, then_ids, ids, versions, then_env, now_env)
            )
    if compared == 0:
        raise InputError(f"{lock.path}: no sample of the lock could be compared with the current corpus")
    result.summary = {
        "lock": str(lock.path),
        "lock_created": lock.data.get("created"),
        "sample_sides_compared": compared,
        "sample_sides_moved": moved,
        "versions": versions,
    }
    return result


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
