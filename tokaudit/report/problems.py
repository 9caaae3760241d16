"""The distinct problems as a list: each finding's count, where it was first seen, and the tokens
where the sides part, cut to the few that differ (the table and the HTML report open with this)."""

from __future__ import annotations

from tokaudit.findings import Finding, TokenView, token_evidence
from tokaudit.report.summary import number

#: differing tokens shown per side in the one-line list
MAX_TOKENS = 4
#: tokens the checks show ahead of the first differing one (tokaudit.checks.evidence)
BEFORE = 2


def plural(n: int, word: str) -> str:
    """`1 sample`, `1,234 samples`."""
    return f"{number(n)} {word}{'' if n == 1 else 's'}"


def differing_tokens(f: Finding) -> dict[str, list[TokenView]] | None:
    """Each side's tokens from the first difference up to the first token both sides share again.

    The checks' evidence starts `BEFORE` tokens ahead of the difference and runs one token past it;
    the sides line up again at the first token (same id and text) both still have. None when the
    finding has no token evidence.
    """
    sides = token_evidence(f)
    if sides is None:
        return None
    index = f.detail.get("token_index")
    start = min(BEFORE, index) if isinstance(index, int) else 0
    lists = [side["tokens"][start:] for side in sides.values()]
    if len(lists) == 2:
        a, b = ([(t["id"], t["text"]) for t in side] for side in lists)
        ends = [(p, q) for p in range(len(a)) for q in range(len(b)) if a[p] == b[q]]
        if ends:
            p, q = min(ends, key=lambda e: (e[0] + e[1], e[0]))
            lists = [lists[0][:p], lists[1][:q]]
    return dict(zip(sides, lists))


def token_text(tok: TokenView) -> str:
    return tok["text"] or tok["piece"] or "∅"


def compact(tokens: list[TokenView]) -> list[str]:
    """At most MAX_TOKENS token texts, `…` for the rest; `∅` for none."""
    shown = [token_text(t) for t in tokens[:MAX_TOKENS]]
    return (shown + (["…"] if len(tokens) > MAX_TOKENS else [])) or ["∅"]


def seen(f: Finding) -> str | None:
    """`× 1,234 samples, first: a.txt:12, also: a.txt:40, b.txt:3, … (1,231 more)`; None when the
    finding is not about samples."""
    if f.sample is None and f.count == 1:
        return None
    samples = list(f.samples) or ([f.sample] if f.sample else [])
    text = f"× {plural(f.count, 'sample')}"
    if f.count == 1 and len(samples) == 1:
        return f"{text}: {samples[0]}"
    if samples:
        text += f", first: {samples[0]}"
    if len(samples) > 1:
        text += f", also: {', '.join(samples[1:])}"
    rest = f.count - len(samples)
    if rest > 0 and samples:
        text += f", … ({number(rest)} more)"
    return text


def component(f: Finding) -> tuple[str, str] | None:
    """diff's ablation: (the component whose swap makes the ids equal, the verdict); None without one."""
    name = f.detail.get("component")
    if not isinstance(name, str):
        return None
    ablation = f.detail.get("ablation")
    verdict = ablation.get("verdict") if isinstance(ablation, dict) else None
    return name, verdict if isinstance(verdict, str) else ""
