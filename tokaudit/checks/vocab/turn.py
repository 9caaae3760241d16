"""vocab-check: the token that ends an assistant turn, found by rendering the side's chat template.

A short user / assistant / user conversation is rendered with tokaudit.chat (transformers' own sandboxed
chat-template renderer); the first special token after the
assistant's text is the end-of-turn token the model is trained to emit and serving must stop on.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokaudit.chat import MISTRAL, PYTHON, Template, TemplateReadError, choose_template, load_formatter
from tokaudit.errors import ConfigError, InputError
from tokaudit.sources.base import AddedEntry, RoleToken, Tokenizer

MARK = "tokaudit-assistant-reply"
_USER = {"role": "user", "content": "tokaudit-user-turn"}
_REPLY = {"role": "assistant", "content": MARK}
# Templates differ in what they accept (a system message first, ending on a user turn); try in order.
CONVERSATIONS = (
    [_USER, _REPLY, _USER],
    [{"role": "system", "content": "tokaudit-system"}, _USER, _REPLY, _USER],
    [_USER, _REPLY],
)


@dataclass(frozen=True)
class EndOfTurn:
    """What the chat template says ends an assistant turn; `known` is False when there is no template."""

    known: bool
    token: RoleToken | None = None
    note: str = ""
    skipped: str | None = None


def end_of_turn(
    tok: Tokenizer, roles: dict[str, RoleToken | None], added: dict[str, AddedEntry], side: str = ""
) -> EndOfTurn:
    try:
        choice = choose_template(tok, tok.spec)
    except TemplateReadError as exc:
        raise InputError(f"{exc.path}: cannot read the chat template ({exc.reason})") from exc.reason
    if choice.kind == MISTRAL:
        if "eos" not in roles:
            return EndOfTurn(False)
        return EndOfTurn(True, roles["eos"], "mistral-common ends every assistant message with EOS")
    template: str | Template | None = choice.named.get("default")
    if choice.kind == PYTHON:
        template = load_formatter(tok.spec, f"{side}.chat_format" if side else "chat_format")
        where = f"chat_format {template.origin}"
    elif choice.kind == "file":
        where = str(tok.spec.chat_template)
    else:
        where = "the tokenizer's chat_template"
        if template is None:
            reason = "chat_template: tokenizer, but the tokenizer files ship no chat template"
            return EndOfTurn(False, skipped=reason if choice.explicit else None)
    try:
        text = render(tok, template or "", roles)
    except ConfigError:  # a `chat_format` that returns neither text nor ids: the config's problem
        raise
    except Exception as exc:  # the template's own raise_exception, or a Jinja error
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        return EndOfTurn(False, skipped=f"{where} did not render a user/assistant conversation ({first})")
    if text is None:
        return EndOfTurn(False, skipped=f"{where} does not show the assistant's message")
    after = text.lstrip(" \t\r\n")
    candidates: dict[str, int | None] = {c: e.id for c, e in added.items() if c}
    for role in roles.values():
        if role is not None and role[0]:
            candidates.setdefault(role[0], role[1])
    for content in sorted(candidates, key=len, reverse=True):
        if after.startswith(content):
            return EndOfTurn(True, (content, candidates[content]), f"{where}: {text[:40]!r} after the reply")
    return EndOfTurn(True, None, f"{where} puts no special token after an assistant reply ({text[:40]!r})")


def render(tok: Tokenizer, template: str | Template, roles: dict[str, RoleToken | None]) -> str | None:
    """The text the template (or `chat_format` function) renders right after the assistant's message, or None
    if it drops it."""
    from tokaudit.chat import RenderError, render_text

    compiled = template if isinstance(template, Template) else Template("jinja", template)
    tokens = {f"{role}_token": t[0] for role, t in roles.items() if t is not None and role != "eot"}
    error: Exception | None = None
    for messages in CONVERSATIONS:
        try:
            text, _ = render_text(tok, compiled, [dict(m) for m in messages], variables=tokens)
        except RenderError as exc:
            error = exc
            continue
        at = text.find(MARK)
        return None if at < 0 else text[at + len(MARK) :]
    assert error is not None
    raise error
