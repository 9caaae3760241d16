"""A report's summary as labels and values a person reads: the one rendering every format but JSON uses.

Each check's `summary` dict (and `check`'s `{"checks": [...], "<check>": {...}}`) becomes sections of
(label, value) rows: numbers with thousands separators, shares as percentages, lists joined, dicts as
`special-token 5, whitespace 11`. JSON keeps the raw dict (its schema is a contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: every summary key a check writes, and what a person reads for it; unknown keys fall back to `label`
LABELS = {
    # check
    "checks": "checks run",
    # diff
    "samples_compared": "samples compared",
    "samples_differing": "samples differing",
    "samples_skipped": "samples skipped",
    "distinct_divergences": "distinct divergences",
    "tokens": "tokens compared",
    "tokens_affected": "tokens affected",
    "share_tokens_affected": "share of tokens affected",
    "by_category": "by category",
    # diff --against
    "lock": "lock file",
    "lock_created": "lock created",
    "sample_sides_compared": "sample sides compared",
    "sample_sides_moved": "sample sides moved",
    "versions": "library versions",
    # bump (the diff --against keys, and which two environments)
    "environments": "environments",
    "other_environment": "other environment",
    # vocab-check
    "training_ids": "training vocabulary size",
    "serving_ids": "serving vocabulary size",
    "embedding_rows": "model embedding rows",
    "ids_compared": "ids compared",
    "ids_differing": "ids differing",
    "round_trip_ids": "ids decoded (round trip)",
    "round_trip_differing": "ids decoding differently",
    "special_tokens_compared": "special tokens compared",
    "special_tokens_moved": "special tokens moved",
    "roles": "special-token roles",
    "training_autotokenizer": "training AutoTokenizer",
    "serving_autotokenizer": "serving AutoTokenizer",
    "vllm_tokenizer_mode_auto": "vLLM tokenizer_mode=auto",
    "training_vllm_tokenizer_mode": "training vLLM tokenizer (measured)",
    "serving_vllm_tokenizer_mode": "serving vLLM tokenizer (measured)",
    "training_gguf": "training GGUF metadata",
    "serving_gguf": "serving GGUF metadata",
    # template-check
    "conversations": "conversations checked",
    "conversations_skipped": "conversations skipped",
    "renderings_compared": "renderings compared",
    "renderings_differing": "renderings differing",
    "prefix_preserving": "template prefix-preserving",
    # mask-check
    "strategy": "mask strategy",
    "samples_checked": "samples checked",
    "samples_misaligned": "samples misaligned",
    "samples_lost": "samples lost (every label masked)",
    "samples_skew": "samples with tokenization skew",
    "samples_truncated": "samples truncated",
    "samples_malformed": "samples malformed",
    "label_tokens": "label tokens",
    "label_tokens_wrong": "label tokens wrong",
    "share_label_tokens_wrong": "share of label tokens wrong",
    # snapshot
    "samples": "samples recorded",
    "sides": "sides recorded",
    # load-check
    "load_threads": "loads at once in threads",
    "load_processes": "loads at once in processes",
    "load_samples": "built-in samples per load",
    "training_loads": "training loads by class (backend)",
    "serving_loads": "serving loads by class (backend)",
    "loads_checked": "fresh loads checked",
    "loads_failing": "fresh loads with a problem",
    # rollout-check
    "trajectories": "trajectories checked",
    "trajectories_skipped": "trajectories skipped",
    "checks_run": "trajectories per check",
    "tokens_sampled": "tokens sampled (completions)",
    "tokens_trained": "tokens trained (loss mask)",
    "share_trajectories_affected": "share of trajectories affected",
    "trajectories_not_rendered": "trajectories the training template refused",
    "share_trajectories_by_cause": "share of trajectories by cause",
    "share_tokens_by_cause": "share of sampled tokens by cause",
}


@dataclass(frozen=True)
class Section:
    """One check's figures (`title` is the check's name), or a run's own (`title` None)."""

    title: str | None
    rows: tuple[tuple[str, str], ...]


def label(key: str) -> str:
    """What a person reads for a summary key."""
    return LABELS.get(key) or key.replace("_", " ")


def number(n: int | float) -> str:
    """1234 -> 1,234; 0.5 -> 0.5."""
    return f"{n:,}" if isinstance(n, int) else f"{n:,.6g}"


def share(x: float) -> str:
    """0.054213 -> 5.42%; a share too small for two decimals but not zero -> <0.01%."""
    return "<0.01%" if 0 < x < 0.00005 else f"{x:.2%}"


def value(key: str, v: Any) -> str:
    """A summary value as text: numbers grouped, shares as percentages, lists and dicts joined."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return share(v) if key.startswith("share") and isinstance(v, float) else number(v)
    if isinstance(v, list | tuple | set | frozenset):
        return ", ".join(value(key, x) for x in v) or "none"
    if isinstance(v, dict):
        if not v:
            return "none"
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in v.values()):
            return ", ".join(f"{k} {value(key, x)}" for k, x in v.items())
        return "; ".join(f"{k}: {value(str(k), x)}" for k, x in v.items())
    return str(v)


def _rows(summary: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((label(k), value(k, v)) for k, v in summary.items())


def sections(summary: dict[str, Any]) -> list[Section]:
    """The summary as sections: `check`'s own figures, then one section per check it ran."""
    checks = summary.get("checks")
    names = [n for n in checks if isinstance(summary.get(n), dict)] if isinstance(checks, list) else []
    own = _rows({k: v for k, v in summary.items() if k not in names})
    out = [Section(None, own)] if own else []
    return out + [Section(n, _rows(summary[n])) for n in names]


def lines(summary: dict[str, Any]) -> list[str]:
    """Plain-text lines: `label: value`, each check's rows indented under its name."""
    out = []
    for s in sections(summary):
        if s.title is not None:
            out.append(f"{s.title}:")
        indent = "  " if s.title is not None else ""
        out += [f"{indent}{k}: {v}" for k, v in s.rows]
    return out


def pinned(side: dict[str, Any]) -> str:
    """A Hub-id side's revision and the commit it loaded: ` @ main → 26bca36…` (the JSON has the whole commit)."""
    commit = side.get("commit")
    if not commit:
        return ""
    revision = side.get("revision") or commit
    return f" @ {revision} → {commit[:7]}…" if revision != commit else f" @ {commit[:7]}…"
