"""The trainer's row: is exactly what the engine sampled trained, and can the model embed every id?

A token-in/token-out trainer trains each turn's sampled `completion_ids` where they sit in its row
(`input_ids`), and nothing else: not the prompt, not the template's scaffolding between turns (a tool
result, the next `<|im_start|>user`), and the stop token the engine sampled must be trained too, or the
policy never learns to stop. Each problem carries the number of tokens it affects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokaudit.checks.rollout.records import Trajectory

PROMPT = "prompt trained"
SCAFFOLDING = "scaffolding between turns trained"
STOP = "sampled stop token not trained"
UNTRAINED = "sampled tokens not trained"
NOT_IN_ROW = "sampled completion not in the row"
LOGPROBS = "logprobs length"
RANGE = "id beyond the embedding rows"
TRAINS_UNSAMPLED, STOP_UNTRAINED, SAMPLED_UNTRAINED, LOGPROBS_CODE, RANGE_CODE = (
    "TA721",
    "TA722",
    "TA723",
    "TA724",
    "TA725",
)
CODES = {
    PROMPT: TRAINS_UNSAMPLED,
    SCAFFOLDING: TRAINS_UNSAMPLED,
    STOP: STOP_UNTRAINED,
    UNTRAINED: SAMPLED_UNTRAINED,
    NOT_IN_ROW: SAMPLED_UNTRAINED,
    LOGPROBS: LOGPROBS_CODE,
    RANGE: RANGE_CODE,
}


@dataclass(frozen=True)
class Problem:
    """One kind of row problem in one trajectory: its cause, the tokens it affects, the first position."""

    cause: str
    tokens: int
    index: int
    turn: int | None = None


def spans(t: Trajectory) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Where each turn's sampled completion sits in the row, as (turn, start, end), and the turns whose
    completion is not in it. A turn's completion is looked for right after its prompt (a token-in/token-out
    row), else anywhere after the previous one."""
    row = t.input_ids or ()
    found: list[tuple[int, int, int]] = []
    missing: list[int] = []
    cursor = 0
    for k, turn in enumerate(t.turns):
        c = turn.completion
        if not c:
            continue
        at = len(turn.prompt)
        if row[at : at + len(c)] != c:
            at = _find(row, c, cursor)
        if at < 0:
            missing.append(k)
            continue
        found.append((k, at, at + len(c)))
        cursor = at + len(c)
    return found, missing


def _find(hay: Sequence[int], needle: Sequence[int], start: int) -> int:
    first, n = needle[0], len(needle)
    i = start
    while True:
        try:
            i = hay.index(first, i)
        except ValueError:
            return -1
        if hay[i : i + n] == needle:
            return i
        i += 1


def mask_problems(t: Trajectory, stops: set[int]) -> list[Problem]:
    """The loss mask against the sampled completions' positions in the row (needs turns, input_ids, loss_mask)."""
    row, mask = t.input_ids or (), t.loss_mask or ()
    found, missing = spans(t)
    want = [0] * len(row)
    for _, s, e in found:
        want[s:e] = [1] * (e - s)
    out = [Problem(NOT_IN_ROW, len(t.turns[k].completion), -1, k) for k in missing]
    if tuple(want) == mask:
        return out
    first = found[0][1] if found else len(row)
    extra = [i for i, (w, m) in enumerate(zip(want, mask)) if m and not w]
    lost = [i for i, (w, m) in enumerate(zip(want, mask)) if w and not m]
    before = [i for i in extra if i < first]
    between = [i for i in extra if i >= first]
    if before:
        out.append(Problem(PROMPT, len(before), before[0]))
    if between:
        out.append(Problem(SCAFFOLDING, len(between), between[0], _turn_before(found, between[0])))
    ends = {e - 1: k for k, _, e in found}
    stop = [i for i in lost if i in ends and row[i] in stops]
    other = [i for i in lost if not (i in ends and row[i] in stops)]
    if stop:
        out.append(Problem(STOP, len(stop), stop[0], ends[stop[0]]))
    if other:
        out.append(Problem(UNTRAINED, len(other), other[0], _turn_of(found, other[0])))
    return out


def _turn_before(found: list[tuple[int, int, int]], i: int) -> int | None:
    """The turn whose completion ends at or before position i (the scaffolding follows it)."""
    before = [k for k, _, e in found if e <= i]
    return before[-1] if before else None


def _turn_of(found: list[tuple[int, int, int]], i: int) -> int | None:
    return next((k for k, s, e in found if s <= i < e), None)


def logprob_problems(t: Trajectory) -> list[Problem]:
    bad = [k for k, turn in enumerate(t.turns) if turn.logprobs is not None and turn.logprobs != len(turn.completion)]
    if not bad:
        return []
    tokens = sum(len(t.turns[k].completion) for k in bad)
    return [Problem(LOGPROBS, tokens, 0, bad[0])]


def range_problems(t: Trajectory, rows: int) -> list[Problem]:
    """Ids the model has no embedding row for (`model.vocab_size`)."""
    seqs = [turn.prompt for turn in t.turns] + [turn.completion for turn in t.turns] + [t.input_ids or ()]
    if max((max(s) for s in seqs if s), default=-1) < rows:
        return []
    # count each sampled id once: completions, and the row; prompts repeat earlier turns
    last = t.input_ids if t.input_ids is not None else (t.turns[-1].prompt if t.turns else ())
    counted = [turn.completion for turn in t.turns] + [last]
    tokens = sum(1 for s in counted for i in s if i >= rows)
    turn = next((k for k, tr in enumerate(t.turns) if any(i >= rows for i in (*tr.prompt, *tr.completion))), None)
    return [Problem(RANGE, max(tokens, 1), 0, turn)]
