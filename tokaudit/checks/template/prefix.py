"""template-check's prefix property: does a template render history the same when a turn is appended?

For each assistant turn of a conversation, the conversation cut after it and the same conversation with
the next user or tool turn (a short user turn when it was the last message) are rendered by one side and
tokenized as that side does; the longer one's ids must start with the shorter one's. That is what
multi-turn RL needs to append turns token-in/token-out (TRL's `is_chat_template_prefix_preserving`, at
token level, for any template and either side). Where it breaks, the cause is named as rollout-check
names it: reasoning dropped from history, end-of-turn token changed, whitespace, a merge across the end.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from tokaudit.chat import Rendered, RenderError
from tokaudit.checks.evidence import aligned_tokens
from tokaudit.checks.rollout import boundary
from tokaudit.checks.template.probes import ChatSide
from tokaudit.codes import finding
from tokaudit.conversations import Conversation, Message
from tokaudit.findings import Finding

CODE = "TA310"
#: the turn appended after a conversation's last assistant turn
FOLLOW_UP: Message = {"role": "user", "content": "Thanks. One more question."}
CATEGORY = {
    boundary.REASONING_DROPPED: "reasoning-dropped",
    boundary.MERGE: "boundary-merge",
    boundary.WHITESPACE: "whitespace",
}

Note = Callable[[str, str, str, Callable[[], Finding]], None]


def check(conv: Conversation, side: ChatSide, note: Note) -> bool | None:
    """Note the first assistant turn of `conv` after which `side`'s rendering is not prefix-preserving.
    True when it broke, False when it held, None when nothing was checked (no assistant turn, a refusal)."""
    msgs = conv.messages
    checked = False
    for j, m in enumerate(msgs):
        if m.get("role") != "assistant":
            continue
        nxt = msgs[j + 1] if j + 1 < len(msgs) else FOLLOW_UP
        if nxt.get("role") not in ("user", "tool"):
            continue
        try:
            short = side.render(conv, msgs[: j + 1], False)
            long = side.render(conv, [*msgs[: j + 1], nxt], False)
        except RenderError:
            return None  # the refusal is TA309's (or the skip's) to report
        checked = True
        i = boundary.prefix_break(side.core(short), side.core(long))
        if i is None:
            continue
        brk = boundary.explain(side.tok, side.core(short), side.core(long), i, _reasoning(msgs))
        sig = f"{side.name}: {brk.cause}"
        where = f"{conv.where} (after message {j + 1})"
        note(CODE, sig, where, partial(_finding, side, conv, j, str(nxt["role"]), brk, short, long, where, sig))
        return True
    return False if checked else None


def _reasoning(msgs: list[Message]) -> list[str]:
    return [m["reasoning_content"] for m in msgs if isinstance(m.get("reasoning_content"), str)]


def _finding(
    side: ChatSide,
    conv: Conversation,
    j: int,
    role: str,
    brk: boundary.Break,
    short: Rendered,
    long: Rendered,
    where: str,
    sig: str,
) -> Finding:
    message = (
        f"the {side.name} template is not prefix-preserving: after assistant message {j + 1}, appending a {role} "
        f"turn re-renders history from token {brk.index}: {brk.says()} ({brk.cause})"
    )
    detail = {
        "side": side.name,
        "after_message": j + 1,
        "appended": role,
        "cause": brk.cause,
        "token_index": brk.index,
        "removed": brk.removed,
        "added": brk.added,
        **aligned_tokens((("cut", side.tok, side.core(short)), ("continued", side.tok, side.core(long)))),
    }
    category = CATEGORY.get(brk.cause, "separator")
    return finding(CODE, message, sample=where, category=category, detail=detail, signature=sig)
