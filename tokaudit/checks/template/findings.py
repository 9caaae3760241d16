"""template-check's finding codes, hints and finding builders (docs/codes.md, "template-check")."""

from __future__ import annotations

from typing import Any

from tokaudit.checks.template.evidence import window
from tokaudit.findings import Finding, Severity

TEXT, TOKENS, TEXT_SAME_IDS = "TA301", "TA302", "TA303"
DOUBLE_BOS, PROMPT_TEXT, PROMPT_TOKENS = "TA304", "TA305", "TA306"
INJECTION, INJECTION_BOTH, REFUSED = "TA307", "TA308", "TA309"

CATEGORY = {
    TEXT: "template-text",
    TOKENS: "template-tokens",
    TEXT_SAME_IDS: "template-text",
    DOUBLE_BOS: "double-bos",
    PROMPT_TEXT: "generation-prompt",
    PROMPT_TOKENS: "generation-prompt",
    INJECTION: "injection",
    INJECTION_BOTH: "injection",
    REFUSED: "template-error",
}
SEVERITY = {
    TEXT: Severity.ERROR,
    TOKENS: Severity.ERROR,
    TEXT_SAME_IDS: Severity.INFO,
    DOUBLE_BOS: Severity.ERROR,
    PROMPT_TEXT: Severity.ERROR,
    PROMPT_TOKENS: Severity.WARNING,
    INJECTION: Severity.ERROR,
    INJECTION_BOTH: Severity.INFO,
    REFUSED: Severity.ERROR,
}
HINTS = {
    TEXT: "the pipelines serialise chats differently: give both sides the template serving uses "
    "(training.chat_template: tokenizer, the same .jinja file, or mistral-common on both sides)",
    TOKENS: "same text, different ids: the sides tokenize the rendered chat differently; compare special_text, "
    "chat_add_special_tokens and the tokenizer files (`tokaudit diff` on the rendered text shows why)",
    TEXT_SAME_IDS: "harmless for the model, which sees the same ids; the texts differ only where the tokenizer "
    "makes them equal (e.g. SentencePiece's dummy prefix)",
    DOUBLE_BOS: "drop {{ bos_token }} from the template, or tokenize the rendered chat with add_special_tokens=False "
    "as apply_chat_template does (`{side}.chat_add_special_tokens: false`)",
    PROMPT_TEXT: "the generation prompt must be exactly how the template opens an assistant turn: fix the "
    "add_generation_prompt branch, or the assistant branch, so they emit the same text",
    PROMPT_TOKENS: "inherent to templates whose prompt ends in text the answer can merge with: tokenize training "
    "examples as prompt ids + answer ids, or strip the answers' leading whitespace",
    INJECTION: "treat control strings in message content alike on both sides: encode content with "
    "split_special_tokens / sanitize_control_tokens, or reject such content at the API",
    INJECTION_BOTH: "no skew, but user text can spell control tokens on both sides: sanitize message content "
    "(sanitize_control_tokens, split_special_tokens) or reject it at the API",
    REFUSED: "make both templates accept the same conversations (roles, system messages, tool calls), or "
    "filter out of the training data what the serving template refuses",
}


def finding(code: str, message: str, sample: str | None, detail: dict[str, Any], side: str = "") -> Finding:
    return Finding(
        code=code,
        severity=SEVERITY[code],
        category=CATEGORY[code],
        message=message,
        sample=sample,
        hint=HINTS[code].replace("{side}", side or "serving"),
        detail=detail,
    )


def rendering_message(code: str, view: str, detail: dict[str, Any], texts: tuple[str, str]) -> str:
    """The sentence for TA301/TA302/TA303."""
    if code == TOKENS:
        i = detail["token_index"]
        a, b = (detail[s]["tokens"][min(2, i) :][:4] for s in ("training", "serving"))
        return (
            f"both sides render the same text for the {view} but tokenize it differently from token {i}: "
            f"training {_pieces(a)} vs serving {_pieces(b)}"
        )
    k = detail["offset"]
    a, b = (window(t, k, 16) for t in texts)
    tail = "; the token ids are the same" if code == TEXT_SAME_IDS else ""
    return (
        f"training and serving render the {view} differently from character {k}: training {a!r} vs serving {b!r}{tail}"
    )


def _pieces(tokens: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(t["text"] or t["piece"] for t in tokens) + "]"
