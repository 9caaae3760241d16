"""Render a conversation the way one side's pipeline does, and tokenize it.

A side's `chat_template` is a Jinja file, `tokenizer` (the side's own chat_template, also the default;
for a `mistral-common` side, its encoder) or `mistral-common` (mistral-common's `encode_chat_completion`,
which builds ids, not text); or the side sets `chat_format`, the user's own function
`(messages, add_generation_prompt) -> str | list[int]` (FastChat's get_prompt(), an f-string), which is
imported and called as the training data builder calls it. Jinja templates render with transformers'
own sandboxed machinery (`render_jinja_template`: ImmutableSandboxedEnvironment, raise_exception, tojson,
strftime_now, `{% generation %}`), with the special-token strings apply_chat_template passes, so the text
matches serving exactly. Used by template-check and mask-check:

    from tokaudit.chat import load_template, render
    template = load_template(tok, spec, "training.chat_template")  # ConfigError on a bad file / syntax
    r = render(tok, spec, messages, add_generation_prompt=True, side="serving", template=template)
    r.text, r.ids, r.spans

`render` raises RenderError (the template's own message) when the template refuses a conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import ConfigError
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import ChatEncoder, ChatServer, Refused
from tokaudit.usercode import UserCodeError, as_ids, import_attribute, one_line, shown

TOKENIZER = "tokenizer"
MISTRAL = "mistral-common"
PYTHON = "python"  # a side's `chat_format` function
SERVER = "server"  # a server's own chat path (`source: vllm`): it resolves, rewrites, renders and tokenizes
_GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")


class RenderError(Exception):
    """The template (or mistral-common) refused the conversation; str(exc) is its own message."""


@dataclass(frozen=True)
class Template:
    """A side's chat serialisation, resolved and (for Jinja) compiled."""

    engine: str  # "jinja", "mistral-common", "python" (a `chat_format` function) or "server" (`source: vllm`)
    source: str = ""  # the Jinja text ("" for mistral-common and python)
    origin: str = ""  # where it came from: a file, "<tokenizer dir> chat_template", or `module:function`
    named: dict[str, str] | None = None  # a tokenizer's named templates ("default", "tool_use")
    formatter: Callable[[list[dict[str, Any]], bool], Any] | None = None  # engine "python"
    key: str = ""  # the config key it came from, for errors found while rendering

    @property
    def default_source(self) -> str:
        """The Jinja text a conversation without tools renders with."""
        return self.source or (self.named or {}).get("default", "")

    @property
    def supports_tools(self) -> bool:
        if self.engine == SERVER and not self.source and not self.named:
            return True  # the server renders without a Jinja text here (mistral-common): it takes tools
        return self.engine == MISTRAL or "tool" in self.source or any("tool" in t for t in (self.named or {}).values())


@dataclass(frozen=True)
class Rendered:
    """One rendering: the text, and the ids the pipeline feeds the model.

    For mistral-common, and a `chat_format` that returns ids, `text` is the text the ids spell (`from_ids`)."""

    text: str
    ids: list[int]
    engine: str
    bos_added: bool = False  # the tokenizer put BOS in front of the rendered text
    spans: tuple[tuple[int, int], ...] = ()  # `{% generation %}` spans: character offsets into `text`
    from_ids: bool = False  # built as ids, not text: compare it by the text its ids spell

    def __post_init__(self) -> None:
        if self.engine == MISTRAL:
            object.__setattr__(self, "from_ids", True)


def add_special_default(spec: SideSpec, side: str) -> bool:
    """`chat_add_special_tokens`, defaulting to what each pipeline does: the serving chat path tokenizes the
    rendered prompt with add_special_tokens off (vLLM) or on (llama-server); training encodes it like any other text."""
    if spec.chat_add_special_tokens is not None:
        return spec.chat_add_special_tokens
    if spec.source == "llama.cpp":
        return True  # llama-server tokenizes the rendered prompt with add_special on, whichever side it is
    return side == "training"


def surface_text(tok: Tokenizer, ids: list[int]) -> str:
    """The text a list of ids spells (control tokens as their strings, SentencePiece's ▁ as a space)."""
    return b"".join(tok.surface(i) or b"" for i in ids).decode("utf-8", errors="replace")


def _chat_utils() -> Any:
    from tokaudit.quiet import import_transformers

    import_transformers()
    from transformers.utils import chat_template_utils

    return chat_template_utils


class TemplateReadError(Exception):
    """A `chat_template` file that cannot be read; each caller words it (`path`, and the OS's `reason`)."""

    def __init__(self, path: str, reason: Exception) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class TemplateChoice:
    """What a side's `chat_template` setting selects, read but not compiled."""

    kind: str  # "file", "tokenizer" (the side's own), "mistral-common" or "python" (`chat_format`)
    explicit: bool  # set in the config, not defaulted
    named: dict[str, str]  # Jinja text by name: a file is {"default": text}; {} for mistral-common, python, none

    @property
    def engine(self) -> str:
        return self.kind if self.kind in (MISTRAL, PYTHON) else "jinja"


def choose_template(tok: Tokenizer, spec: SideSpec) -> TemplateChoice:
    """The one reading of a side's `chat_template` (template-, mask- and vocab-check). Raises TemplateReadError
    for a file it cannot read; a tokenizer that ships no template is `named == {}`, for the caller to judge."""
    if spec.chat_format:  # config.py refuses it beside chat_template
        return TemplateChoice(PYTHON, True, {})
    value = spec.chat_template or TOKENIZER  # unset: the tokenizer's own, as a server uses by default
    explicit = bool(spec.chat_template)
    if value == MISTRAL or (value == TOKENIZER and tok.source == MISTRAL):
        return TemplateChoice(MISTRAL, explicit, {})
    if value == TOKENIZER:
        return TemplateChoice(TOKENIZER, explicit, tok.chat_templates())
    try:
        source = Path(value).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateReadError(value, exc) from exc
    return TemplateChoice("file", explicit, {"default": source})


def load_template(tok: Tokenizer, spec: SideSpec, key: str) -> Template:
    """Resolve and compile a side's chat template. `key` prefixes errors (`cfg.yaml: training.chat_template`)."""
    try:
        choice = choose_template(tok, spec)
    except TemplateReadError as exc:
        raise ConfigError(f"{key}: cannot read {exc.path}: {exc.reason}") from exc.reason
    if choice.kind == PYTHON:
        return load_formatter(spec, key.removesuffix("chat_template") + "chat_format")
    if isinstance(tok, ChatServer):
        return _server_template(tok, spec, choice, key)
    if choice.kind == MISTRAL:
        if tok.source != MISTRAL:
            raise ConfigError(f"{key}: `mistral-common` needs `source: mistral-common` on this side")
        return Template(MISTRAL, origin="mistral-common encode_chat_completion")
    named = choice.named
    if choice.kind == "file":
        value = str(spec.chat_template)
        _compile(named["default"], value, key)
        return Template("jinja", named["default"], value)
    origin = f"{spec.path} chat_template"
    if not named:
        how = "tokenizer" if choice.explicit else "not set, and the tokenizer"
        raise ConfigError(
            f"{key}: {how} ({spec.path}) has no chat_template of its own; "
            "set a Jinja file, `tokenizer` or `mistral-common`"
        )
    for name, src in named.items():
        _compile(src, origin if len(named) == 1 else f"{origin} {name!r}", key)
    if list(named) == ["default"]:
        return Template("jinja", named["default"], origin)
    return Template("jinja", "", origin, named)


def _server_template(tok: Tokenizer, spec: SideSpec, choice: TemplateChoice, key: str) -> Template:
    """A server side: a Jinja file is handed to the server as its `--chat-template`; otherwise the server
    resolves its own (the tokenizer's template, a processor's, its fallbacks, or mistral-common)."""
    if choice.kind == MISTRAL:
        raise ConfigError(f"{key}: `mistral-common` is not a template a server takes; set `tokenizer_mode: mistral`")
    if choice.kind == "file":
        value = str(spec.chat_template)
        _compile(choice.named["default"], value, key)
        return Template(SERVER, choice.named["default"], value, key=key)
    return Template(SERVER, "", f"{spec.path}: {tok.source}'s own template resolution", choice.named, key=key)


def load_formatter(spec: SideSpec, key: str) -> Template:
    """Import a side's `chat_format` function (the config's folder first on sys.path); ConfigError naming `key`."""
    ref = str(spec.chat_format)
    try:
        _, fn = import_attribute(ref, spec.config_dir)
    except UserCodeError as exc:
        raise ConfigError(f"{key}: {ref}: {exc}") from exc
    if not callable(fn):
        raise ConfigError(
            f"{key}: {ref}: a {type(fn).__name__}, not a function (messages, add_generation_prompt) -> str | list[int]"
        )
    return Template(PYTHON, origin=ref, formatter=fn, key=key)


def format_chat(template: Template, messages: list[dict[str, Any]], gen: bool) -> str | list[int]:
    """Call a `chat_format` function as the data builder does: the text it renders, or the ids it builds."""
    import copy

    assert template.formatter is not None
    try:
        got = template.formatter(copy.deepcopy(messages), gen)
    except Exception as exc:  # the formatter's refusal of this conversation, like a template's raise_exception
        raise RenderError(one_line(exc)) from exc
    if isinstance(got, str):
        return got
    ids = as_ids(got)
    if ids is None:
        raise ConfigError(f"{template.key}: {template.origin}: returned {shown(got)}; expected a str or a list of ints")
    return ids


def _compile(source: str, origin: str, key: str) -> None:
    import jinja2

    try:
        _chat_utils()._compile_jinja_template(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{key}: {origin}:{exc.lineno}: template syntax error: {exc.message}") from None


def render(
    tok: Tokenizer,
    spec: SideSpec,
    messages: list[dict[str, Any]],
    add_generation_prompt: bool = False,
    *,
    tools: list[dict[str, Any]] | None = None,
    side: str = "serving",
    template: Template | None = None,
) -> Rendered:
    """Render `messages` with the side's chat template and tokenize the result as that side's pipeline does.

    `side` ("training" or "serving") picks the default of `chat_add_special_tokens`. mistral-common has no
    generation prompt: a conversation that ends with a user turn is already a prompt."""
    template = template or load_template(tok, spec, f"{side}.chat_template")
    if template.engine == SERVER:
        return _served(tok, messages, add_generation_prompt, tools, template)
    if template.engine == MISTRAL:
        ids = _mistral_ids(tok, messages, tools, side)
        return Rendered(surface_text(tok, ids), ids, MISTRAL)
    spans: tuple[tuple[int, int], ...] = ()
    if template.engine == PYTHON:
        got = format_chat(template, messages, add_generation_prompt)
        if not isinstance(got, str):  # the formatter built the ids itself
            return Rendered(surface_text(tok, got), got, PYTHON, from_ids=True)
        text = got
    else:
        text, spans = render_text(tok, template, messages, add_generation_prompt, tools)
    add_special = add_special_default(spec, side)
    ids = tok.encode_rendered(text, add_special)
    bos_added = add_special and tok.bos_id is not None and tok.bos_eos_defaults()[0]
    return Rendered(text, ids, template.engine, bos_added, spans)


def _served(
    tok: Tokenizer, messages: list[dict[str, Any]], gen: bool, tools: list[dict[str, Any]] | None, template: Template
) -> Rendered:
    """The server's own chat path: its text and ids as they are; the text its ids spell where it builds no text."""
    if not isinstance(tok, ChatServer):  # the server side's template lent to a side that is no server
        if not template.default_source and not template.named:
            raise ConfigError(f"{template.key}: the server renders this template itself; set a Jinja file")
        jinja = Template("jinja", template.source, template.origin, template.named, key=template.key)
        text, spans = render_text(tok, jinja, messages, gen, tools)
        return Rendered(
            text, tok.encode_rendered(text, add_special_default(tok.spec, "training")), "jinja", spans=spans
        )
    try:
        got = tok.serve_chat(messages, gen, tools, template.source or None)
    except Refused as exc:
        raise RenderError(str(exc)) from exc
    text = got.text if got.text is not None else surface_text(tok, got.ids)
    bos_added = got.add_special_tokens and tok.bos_id is not None and got.ids[:1] == [tok.bos_id]
    return Rendered(text, got.ids, SERVER, bos_added, from_ids=got.text is None)


def _pick(template: Template, tools: list[dict[str, Any]] | None) -> str:
    if not template.named:
        return template.source
    if tools and "tool_use" in template.named:
        return template.named["tool_use"]
    if "default" in template.named:
        return template.named["default"]
    raise RenderError(f"{template.origin} has named templates {sorted(template.named)} and no `default`")


def render_text(
    tok: Tokenizer,
    template: Template,
    messages: list[dict[str, Any]],
    gen: bool = False,
    tools: list[dict[str, Any]] | None = None,
    variables: dict[str, Any] | None = None,
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Render a Jinja template to text (no tokenizing), with `{% generation %}` spans.

    `variables` replaces the special-token strings the template sees (default: the tokenizer's). A `chat_format`
    function renders its own text (one that builds ids gives the text they spell), with no spans."""
    import copy

    import jinja2

    if template.engine == PYTHON:
        got = format_chat(template, messages, gen)
        return (got if isinstance(got, str) else surface_text(tok, got)), ()
    if template.engine == SERVER:
        return _served(tok, messages, gen, tools, template).text, ()

    utils = _chat_utils()
    source = _pick(template, tools)
    from tokaudit.sources.capabilities import TemplateRenderer

    if isinstance(tok, TemplateRenderer):  # the side runs in another interpreter: its transformers renders
        return tok.render_template(messages, source, gen, tools, variables)
    # apply_chat_template's own message normalisation, where the installed transformers has one (5.x).
    normalize = getattr(utils, "_normalize_chat_messages", None)
    chat = normalize(messages) if normalize else copy.deepcopy(messages)
    try:
        texts, spans = _render_jinja(
            utils, chat, tools, source, gen, tok.template_vars() if variables is None else variables
        )
    except jinja2.TemplateSyntaxError as exc:  # compiled before, so only a named template can get here
        raise RenderError(f"line {exc.lineno}: template syntax error: {exc.message}") from exc
    except Exception as exc:  # the template's refusal (raise_exception), a sandbox violation, a type error
        if type(exc) is jinja2.TemplateError:
            raise RenderError(str(exc)) from exc
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc
    return texts[0], tuple(tuple(s) for s in (spans[0] if spans else ()))  # type: ignore[misc]


def _render_jinja(
    utils: Any, chat: list[dict[str, Any]], tools: Any, source: str, gen: bool, variables: dict[str, Any]
) -> tuple[list[str], list[Any] | None]:
    markers = bool(_GENERATION.search(source))
    if hasattr(utils, "render_jinja_template"):  # transformers >= 4.50
        texts, spans = utils.render_jinja_template(
            conversations=[chat],
            tools=tools,
            chat_template=source,
            add_generation_prompt=gen,
            return_assistant_tokens_mask=markers,
            **variables,
        )
        return texts, spans
    # Older releases: the same compiled sandbox, driven the way their apply_chat_template drives it.
    compiled = utils._compile_jinja_template(source)
    if markers:
        text, indices = utils._render_with_assistant_indices(compiled, chat, tools, None, gen, **variables)
        return [text], [indices]
    return [compiled.render(messages=chat, tools=tools, documents=None, add_generation_prompt=gen, **variables)], None


def _mistral_ids(
    tok: Tokenizer, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, side: str
) -> list[int]:
    if not isinstance(tok, ChatEncoder):  # a template loaded for the other side
        raise ConfigError(f"{side}.chat_template: `mistral-common` needs `source: mistral-common` on this side")
    try:
        return tok.encode_chat(messages, tools)
    except Refused as exc:
        raise RenderError(str(exc)) from exc
