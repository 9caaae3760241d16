"""rollout-check's findings: one sentence a person can act on, and the evidence (turn, token index, the
tokens on both sides, the edit between the texts). Built once per distinct cause, on its first example."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokaudit.checks.evidence import aligned_tokens
from tokaudit.checks.rollout import boundary, roundtrip
from tokaudit.checks.rollout.boundary import Break
from tokaudit.checks.rollout.records import Message, Trajectory
from tokaudit.checks.rollout.row import RANGE as ROW_RANGE
from tokaudit.checks.rollout.row import Problem
from tokaudit.codes import finding
from tokaudit.findings import Finding
from tokaudit.sources.base import Tokenizer

APPEND_REASONING, APPEND_TEXT, APPEND_MERGE = "TA711", "TA712", "TA713"
RENDER_REASONING, RENDER_TEXT, RENDER_MERGE = "TA714", "TA715", "TA716"
#: the code of a boundary cause, per check (append-only, re-render)
_BOUNDARY = {
    "append-only": {boundary.REASONING_DROPPED: APPEND_REASONING, boundary.MERGE: APPEND_MERGE},
    "re-render": {boundary.REASONING_DROPPED: RENDER_REASONING, boundary.MERGE: RENDER_MERGE},
}
_OTHER = {"append-only": APPEND_TEXT, "re-render": RENDER_TEXT}


def boundary_code(check: str, cause: str) -> str:
    return _BOUNDARY[check].get(cause, _OTHER[check])


def reasoning(messages: list[Message] | None) -> list[str]:
    """The reasoning texts of a conversation's assistant turns (`reasoning_content`, `reasoning`)."""
    out = []
    for m in messages or ():
        for key in ("reasoning_content", "reasoning"):
            value = m.get(key)
            if isinstance(value, str) and value.strip():
                out.append(value)
    return out


def _where(t: Trajectory, k: int | None) -> str:
    return t.where if k is None else f"{t.where} (turn {k + 1})"


def _located(t: Trajectory, k: int, i: int) -> str:
    """Which part of turn k's prompt + completion token i falls in."""
    turn = t.turns[k]
    if i >= len(turn.prompt):
        return f"in turn {k + 1}'s completion"
    starts = [len(x.prompt) for x in t.turns[:k]]
    ends = [len(x.prompt) + len(x.completion) for x in t.turns[:k]]
    for j in range(k - 1, -1, -1):
        if starts[j] <= i < ends[j]:
            return f"in turn {j + 1}'s completion"
    return f"in turn {k + 1}'s prompt"


def _edit(brk: Break) -> dict[str, Any]:
    return {"cause": brk.cause, "token_index": brk.index, "removed": brk.removed, "added": brk.added}


def round_trip(tok: Tokenizer, t: Trajectory, k: int, trip: roundtrip.Trip, again: list[int], code: str) -> Finding:
    sampled = t.turns[k].completion
    detail = {
        "turn": k + 1,
        "cause": trip.cause,
        "sampled_text": roundtrip.surface_text(tok, sampled),
        "decoded_text": roundtrip.surface_text(tok, tok.encode_rendered(trip.text, False))
        if trip.cause == roundtrip.CLEAN_UP
        else None,
        **aligned_tokens((("sampled", tok, sampled), ("re-encoded", tok, again))),
    }
    text = b"".join(tok.surface(i) or b"" for i in sampled).decode("utf-8", errors="replace")
    return finding(code, roundtrip.message(trip, k, text), sample=_where(t, k), detail=detail, signature=None)


def append_only(
    tok: Tokenizer, t: Trajectory, k: int, brk: Break, spans: Sequence[tuple[int, int]], code: str
) -> Finding:
    prev = t.turns[k - 1].prompt + t.turns[k - 1].completion
    where = _located(t, k - 1, brk.index)
    message = (
        f"turn {k + 1}'s prompt does not extend turn {k}'s prompt + completion: from token {brk.index} "
        f"({where}) {brk.says()} ({brk.cause})"
    )
    detail = {
        "turn": k + 1,
        "position": where,
        **_edit(brk),
        **aligned_tokens(
            ((f"turn {k} prompt + completion", tok, prev), (f"turn {k + 1} prompt", tok, t.turns[k].prompt))
        ),
    }
    return finding(code, message, sample=_where(t, k), detail=detail)


def rerender(tok: Tokenizer, t: Trajectory, k: int, brk: Break, again: list[int], code: str) -> Finding:
    seq = t.turns[k].prompt + t.turns[k].completion
    where = _located(t, k, brk.index)
    message = (
        f"the trainer's rendering of `messages` parts from turn {k + 1}'s prompt + completion at token "
        f"{brk.index} ({where}): {brk.says()} ({brk.cause}); the sampled ids from there are not what it trains on"
    )
    detail = {
        "turn": k + 1,
        "position": where,
        **_edit(brk),
        **aligned_tokens(((f"engine turn {k + 1}", tok, seq), ("trainer re-render", tok, again))),
    }
    return finding(code, message, sample=_where(t, k), detail=detail)


_ROW_MESSAGES = {
    "prompt trained": "the loss mask trains {n} prompt token(s) the engine did not sample (first at row index {i})",
    "scaffolding between turns trained": (
        "the loss mask trains {n} token(s) of template scaffolding between turns (tool results, role headers) "
        "that the engine did not sample (first at row index {i})"
    ),
    "sampled stop token not trained": (
        "the loss mask leaves out the stop token the engine sampled ({n} turn(s), first at row index {i}): "
        "the policy is never taught to stop"
    ),
    "sampled tokens not trained": "the loss mask leaves out {n} sampled completion token(s) (first at row index {i})",
    "sampled completion not in the row": (
        "{n} sampled completion token(s) are nowhere in `input_ids` after their prompt: the row was rebuilt, "
        "not taken from the engine's ids"
    ),
    "logprobs length": "a turn's `logprobs` has another length than its `completion_ids` ({n} token(s) in such turns)",
}


def row_problem(tok: Tokenizer, t: Trajectory, p: Problem, code: str, rows: int | None) -> Finding:
    if p.cause == ROW_RANGE:
        ids = [i for s in (*(x.completion for x in t.turns), t.input_ids or ()) for i in s if rows and i >= rows]
        message = f"{p.tokens} id(s) are at or past the model's {rows} embedding rows (largest {max(ids, default=0)})"
        detail: dict[str, Any] = {"cause": p.cause, "embedding_rows": rows, "largest_id": max(ids, default=None)}
    else:
        message = _ROW_MESSAGES[p.cause].format(n=p.tokens, i=p.index)
        detail = {"cause": p.cause, "tokens": p.tokens, "row_index": p.index}
        if p.index >= 0 and t.input_ids is not None:
            detail["row"] = [
                {"id": i, "text": roundtrip.surface_text(tok, [i]), "trained": m}
                for i, m in list(zip(t.input_ids, t.loss_mask or ()))[max(0, p.index - 3) : p.index + 5]
            ]
    if p.turn is not None:
        detail["turn"] = p.turn + 1
    return finding(code, message, sample=_where(t, p.turn), detail=detail)
