"""Compare a pipeline's ids and labels with the ground truth and turn every difference into findings.

Every finding carries its signature, what the check groups samples by: the category, the strategy and
the shape of the tokens where the labels go wrong (the token before and the token at the first wrong
position, as diff's `Shaper` reduces them: `p|␣` is a space after punctuation), so every sample with
FastChat's off-by-one after `ASSISTANT:` is one finding, whatever the reply says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tokaudit.checks.diff.signature import Shaper, bounds, signature
from tokaudit.checks.evidence import aligned_tokens, piece_token, visible, window
from tokaudit.checks.mask.dataset import IGNORE
from tokaudit.checks.mask.truth import Truth
from tokaudit.codes import code_for, finding
from tokaudit.findings import Finding
from tokaudit.sources.base import Tokenizer

#: the hint of TA401-TA403, which depends on how the pipeline built its labels, not on the code
STRATEGY_HINTS = {
    "fastchat": "FastChat's `- 2` (and `- 1` for non-legacy tokenizers) is right only when the reply's first token "
    "absorbs the space after the separator: take labels from the fast tokenizer's offsets, or from `{% generation %}` "
    "with return_assistant_tokens_mask",
    "per-turn": "tokenizing each message on its own changes the tokens at the cuts and trains on what follows the "
    "end-of-turn: tokenize the whole rendering once and take labels from the offsets",
    "prefix": "what an assistant turn adds to the prefix includes the whitespace after its end-of-turn, and a prompt "
    "rendered with add_generation_prompt must be a token prefix of the whole: take labels from the offsets",
    "generation": "the `{% generation %}` block must hold exactly the reply and its end-of-turn token: move the "
    "markers in the template",
    "dataset": "rebuild the labels from the serving template's assistant spans (docs/mask.md), or look for an "
    "off-by-one where the labels are written",
}
WINDOW = (8, 16)
#: a malformed record's problem is grouped with numbers and quoted values generalized
_NUMBER = re.compile(r"\d+(\.\d+)?")
_QUOTED = re.compile(r"'[^']*'")


class Shapers(NamedTuple):
    """Token shapes of the serving tokenizer and the pipeline's, cached by id for the whole run."""

    serving: Shaper
    pipeline: Shaper


@dataclass
class Outcome:
    """What one sample contributed: findings and the counts the summary adds up."""

    findings: list[Finding] = field(default_factory=list)
    tokens: int = 0
    wrong: int = 0
    misaligned: bool = False
    lost: bool = False
    skew: bool = False
    truncated: bool = False


def _finding(
    category: str, message: str, where: str, detail: dict[str, Any], signature: str, hint: str | None = None
) -> Finding:
    code = code_for(category, "TA4")
    return finding(code, message, sample=where, category=category, hint=hint, detail=detail, signature=signature)


def malformed(where: str, problem: str) -> Finding:
    shape = _QUOTED.sub("'…'", _NUMBER.sub("9", problem))
    return _finding(
        "malformed", f"{problem}: the record was not checked", where, {"problem": problem}, f"malformed: {shape}"
    )


def compare(
    where: str,
    truth: Truth,
    ids: list[int],
    labels: list[bool],
    *,
    strategy: str,
    serving: Tokenizer,
    pipeline: Tokenizer,
    shapers: Shapers,
    note: dict[str, Any] | None = None,
    raw_labels: list[int] | None = None,
) -> Outcome:
    """Findings for one sample: skew, lost, wrongly trained / masked tokens, truncation, boundary merges."""
    out = Outcome()
    n = len(ids)

    def signed(category: str, shape: str) -> str:
        return f"{category} ({strategy}): {shape}"

    def at(k: int) -> str:
        return f"{shapers.serving.token(truth.ids, k - 1)}|{shapers.serving.token(truth.ids, k)}"

    if ids != truth.ids and not (n < len(truth.ids) and truth.ids[:n] == ids):
        out.skew = True
        i, _ = bounds(ids, truth.ids)
        sig = signed("tokenization-skew", signature(ids, truth.ids, i, shapers.pipeline, shapers.serving))
        out.findings.append(_skew(where, truth, ids, serving, pipeline, strategy, sig))
        return out
    out.truncated = n < len(truth.ids)
    expected = truth.labels[:n]
    out.tokens = n
    base = {"strategy": strategy, **(note or {})}
    trained_wrong = [k for k in range(n) if labels[k] and not expected[k]]
    masked_wrong = [k for k in range(n) if expected[k] and not labels[k]]
    values = [k for k in range(n) if raw_labels is not None and raw_labels[k] not in (IGNORE, ids[k])]
    if values:
        base["label_values_wrong"] = len(values)
    out.wrong = len(trained_wrong) + len(masked_wrong)
    out.misaligned = bool(out.wrong)
    hint = STRATEGY_HINTS[strategy]
    if not any(labels) and any(truth.labels):
        out.lost = True
        warned = (note or {}).get("fastchat", {}).get("warning")
        why = f" (FastChat only printed {warned!r})" if warned else ""
        total = sum(truth.labels)
        out.findings.append(
            _finding(
                "sample-lost",
                f"every label is masked although the assistant writes {total} token(s) here: the sample is dropped "
                f"from training{why}",
                where,
                {**base, "assistant_tokens": total, **_view(truth, serving, labels, n, masked_wrong[:1] or [0])},
                signed("sample-lost", "every label masked" + (", FastChat's tokenization mismatch" if warned else "")),
                hint,
            )
        )
    else:
        for category, wrong, what in (
            ("mask-trained-wrongly", trained_wrong, "trained on outside the assistant's reply"),
            ("mask-masked-wrongly", masked_wrong, "of the assistant's reply masked"),
        ):
            if wrong:
                k = wrong[0]
                out.findings.append(
                    _finding(
                        category,
                        f"{len(wrong)} token(s) {what}, first token {k} "
                        f"{visible(truth.token_text(k, serving))!r} after "
                        f"{_before(truth, k)!r}: the label mask is misaligned",
                        where,
                        {
                            **base,
                            "tokens_wrong": wrong[:50],
                            "count": len(wrong),
                            **_view(truth, serving, labels, n, wrong),
                        },
                        signed(category, at(k)),
                        hint,
                    )
                )
    if values and not out.misaligned:
        k = values[0]
        shifted = raw_labels is not None and all(raw_labels[v] == ids[min(v + 1, n - 1)] for v in values)
        out.findings.append(
            _finding(
                "label-value",
                f"{len(values)} label(s) hold another id than input_ids, first at token {k} (label "
                f"{raw_labels[k] if raw_labels else '?'}, input id {ids[k]}): the labels are pre-shifted or "
                "come from another tokenization",
                where,
                {**base, "tokens_wrong": values[:50], "count": len(values)},
                signed("label-value", "labels are the next token's id" if shifted else "labels are other ids"),
            )
        )
    if out.truncated:
        out.findings += _truncation(where, truth, n, base, signed)
    if truth.merges:
        k = truth.merges[0]
        out.findings.append(
            _finding(
                "boundary-merge",
                f"token {k} {visible(truth.token_text(k, serving))!r} straddles the edge of an assistant span "
                f"({len(truth.merges)} such token(s)): it holds template text and reply text, so no label is exact",
                where,
                {**base, "tokens": truth.merges, **_view(truth, serving, labels, n, truth.merges)},
                signed("boundary-merge", at(k)),
            )
        )
    return out


def _before(truth: Truth, k: int) -> str:
    start = truth.offsets[k][0]
    return visible(truth.layout.text[max(0, start - 16) : start])


def _view(truth: Truth, tok: Tokenizer, labels: list[bool], n: int, marked: list[int]) -> dict[str, Any]:
    """The tokens around the first marked one, each with its label and the expected one."""
    first = marked[0] if marked else 0
    lo, hi = max(0, first - WINDOW[0]), min(n, first + WINDOW[1])
    start = truth.offsets[first][0] if first < len(truth.offsets) else 0
    text = truth.layout.text
    tokens = [
        {
            "i": k,
            "id": truth.ids[k],
            "text": visible(truth.token_text(k, tok)),
            "label": "trained" if labels[k] else "masked",
            "expected": "trained" if truth.labels[k] else "masked",
        }
        for k in range(lo, hi)
    ]
    return {
        "token_index": first,
        "offset": start,
        "context": window(text, start, marks=False),
        "mask_view": {"first": first, "tokens": tokens},
    }


def _truncation(
    where: str, truth: Truth, n: int, base: dict[str, Any], signed: Callable[[str, str], str]
) -> list[Finding]:
    cut = [(i, a, b) for i, a, b in truth.turn_tokens if a < n < b]
    dropped = [(i, a, b) for i, a, b in truth.turn_tokens if a >= n]
    if not cut and not dropped:
        return []
    parts = [f"cuts assistant message {i} after {n - a} of its {b - a} tokens, end-of-turn lost" for i, a, b in cut]
    if dropped:
        parts.append(f"drops assistant message(s) {', '.join(str(i) for i, _, _ in dropped)} entirely")
    return [
        _finding(
            "truncation",
            f"the sample stops at token {n} of {len(truth.ids)} and " + "; ".join(parts),
            where,
            {
                **base,
                "length": n,
                "full_length": len(truth.ids),
                "cut": [{"message": i, "tokens": [a, b]} for i, a, b in cut],
                "dropped": [{"message": i, "tokens": [a, b]} for i, a, b in dropped],
            },
            signed("truncation", ", ".join(["cuts a reply"] * bool(cut) + ["drops a reply"] * bool(dropped))),
        )
    ]


def _skew(
    where: str, truth: Truth, ids: list[int], serving: Tokenizer, pipeline: Tokenizer, strategy: str, signature: str
) -> Finding:
    aligned = aligned_tokens((("training", pipeline, ids), ("serving", serving, truth.ids)), view=piece_token)
    i = aligned["token_index"]
    lo = max(0, i - 2)
    mine, theirs = aligned["training"]["tokens"], aligned["serving"]["tokens"]
    at = ", ".join(t["piece"] for t in mine[i - lo : i - lo + 3]) or "(end)"
    want = ", ".join(t["piece"] for t in theirs[i - lo : i - lo + 3]) or "(end)"
    who = "the record" if strategy == "dataset" else f"the {strategy} pipeline"
    why = ""
    if ids and ids[1:] == truth.ids[: len(ids) - 1]:
        why = f", an extra {pipeline.piece(ids[0])!r} in front"
    elif truth.ids and ids == truth.ids[1 : len(ids) + 1]:
        why = f", without serving's leading {serving.piece(truth.ids[0])!r}"
    return _finding(
        "tokenization-skew",
        f"{who}'s input_ids differ from the serving tokenization at token {i} ([{at}] vs [{want}]{why}): "
        "tokenization skew, so the labels were not compared",
        where,
        {"strategy": strategy, **aligned},
        signature,
    )
