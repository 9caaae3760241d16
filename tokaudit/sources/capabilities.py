"""What only some libraries can do, as small optional protocols next to the Tokenizer every source is.

A check asks `isinstance(side, AssistantMasker)` and calls the method; it never reaches into the
library object a source wraps. A source gains a capability by defining the method: no registration,
no base class. Nothing here imports a library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Messages = list[dict[str, Any]]


class Refused(Exception):
    """The library refused the input; str(exc) is `<the library's exception class>: <its message>`."""


@dataclass(frozen=True)
class Resolution:
    """The class a library's loader picked for a side, as transformers' AutoTokenizer does."""

    library: str  # "transformers"
    version: str  # the installed library's version
    cls: str  # the class the loader returned (`LlamaTokenizerFast`, `MistralCommonBackend`)
    backend: str  # "tokenizers (Rust)", "Python" or "mistral-common"
    fast: bool  # the Rust `tokenizers` backend
    legacy: bool | None  # `tokenizer.legacy` (FastChat reads it); None where the class has no such attribute
    #: a server's tokenizer mode as it resolved it (vLLM: `auto` -> `hf` or `mistral`); None for a plain loader
    mode: str | None = None


@dataclass(frozen=True)
class LoadRecord:
    """One fresh load of a side (load-check): what the loader handed back and what it made of the texts."""

    via: str  # "thread" or "process"
    number: int  # 1..N among the loads of its kind
    asked_fast: bool  # the side asks for the fast (Rust `tokenizers`) backend
    cls: str | None = None  # None when the load raised
    backend: str | None = None  # as Resolution.backend
    #: `<exception class>: <message>` when the load raised (or the process running it died)
    error: str | None = None
    #: encode_all of the texts, in order: ids, or the message of the exception one text raised
    ids: tuple[list[int] | str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.via} {self.number}"


@runtime_checkable
class ResolutionReporter(Protocol):
    """A source whose library chooses the tokenizer class at load time (vocab-check TA217, FastChat's legacy)."""

    def resolution(self) -> Resolution:
        """What the loader resolved, read from the loaded object."""
        ...


@runtime_checkable
class Reloadable(Protocol):
    """A source that can load its side afresh many times at once, as workers of a pipeline do (load-check)."""

    def reload(self, texts: list[str], threads: int, processes: int) -> list[LoadRecord]:
        """Load the side `threads` times concurrently in threads and `processes` times in new processes, each
        from its own copy of the files and its own cache, and encode `texts` with each. A load that fails is
        a record with `error`, never an exception."""
        ...


@runtime_checkable
class AssistantMasker(Protocol):
    """A source whose library renders a chat and marks the assistant's tokens itself (mask-check `generation`)."""

    def assistant_mask(self, messages: Messages, chat_template: str) -> tuple[list[int], list[bool]]:
        """The ids of `messages` rendered with `chat_template` and tokenized by the library's own chat call, and
        per id whether it lies in a `{% generation %}` block. Raises Refused when the library refuses."""
        ...


@runtime_checkable
class ChatEncoder(Protocol):
    """A source whose library turns a conversation into ids itself, with no Jinja template (mistral-common)."""

    def encode_chat(self, messages: Messages, tools: Messages | None = None) -> list[int]:
        """The ids the library's chat encoder builds for `messages` (a conversation that ends with the assistant
        is training data, one that ends with the user a prompt). Raises Refused when the library refuses."""
        ...


@dataclass(frozen=True)
class ServedChat:
    """A chat request as a server's own chat path turned it into the prompt the model sees."""

    ids: list[int]
    text: str | None  # the rendered prompt; None where the server builds ids without text (mistral-common)
    content_format: str | None  # how the server hands message content to the template: "string" or "openai"
    add_special_tokens: bool  # the server's tokenizer added BOS/EOS around the rendered text


@runtime_checkable
class ChatServer(Protocol):
    """A source that is a server's own chat path (`vllm`): it resolves the template, rewrites the messages,
    renders and tokenizes, as a chat completions request does."""

    def serve_chat(
        self,
        messages: Messages,
        add_generation_prompt: bool,
        tools: Messages | None = None,
        chat_template: str | None = None,
    ) -> ServedChat:
        """The prompt for `messages`; `chat_template` is the server's `--chat-template` text (None: its own
        resolution). Raises Refused when the server refuses the request."""
        ...


@runtime_checkable
class StoredTokens(Protocol):
    """A side whose ids were produced earlier and stored with each sample (`source: dataset`): the
    shards read them with the text, and nothing encodes."""

    def stored_fields(self) -> tuple[str, str]:
        """(text field, ids field) of the records."""
        ...

    def lend(self, other: Any) -> None:
        """Show pieces and bytes for the stored ids with the other side's vocabulary."""
        ...


@dataclass(frozen=True)
class GgufFacts:
    """What a GGUF's metadata says about its tokenizer, as llama.cpp reads it (None: the key is absent)."""

    path: str
    architecture: str  # general.architecture
    model: str  # tokenizer.ggml.model: llama (SentencePiece), gpt2 (byte-level BPE), bert, t5, ...
    pre: str | None  # tokenizer.ggml.pre: the pre-tokenizer llama.cpp picked at conversion
    tokens: int  # entries in tokenizer.ggml.tokens
    embedding_rows: int | None  # rows of token_embd.weight from the tensor table; None in a vocab-only file
    bos_id: int | None
    eos_id: int | None
    pad_id: int | None
    add_bos: bool | None  # tokenizer.ggml.add_bos_token
    add_eos: bool | None
    chat_template: str | None  # tokenizer.chat_template
    vocab_size: int | None  # <architecture>.vocab_size, where the converter wrote it


@runtime_checkable
class GgufBacked(Protocol):
    """A side read from a GGUF file (`gguf`, `llama.cpp`): vocab-check reads its metadata."""

    def gguf_facts(self) -> GgufFacts:
        """The file's tokenizer metadata (no tensor data is read)."""
        ...


#: what a tokenizers-library pipeline is taken apart into (diff's ablation), in pipeline order. `post_processor`
#: carries the call's add_special_tokens and any BOS/EOS added outside the pipeline; `added_tokens` their flags and
#: whether special strings in text are parsed; `truncation` the truncation and padding blocks.
COMPONENTS = ("normalizer", "pre_tokenizer", "model", "post_processor", "decoder", "added_tokens", "truncation")


class NoPipeline(Exception):
    """A side cannot give its pipeline here (a conversion failed, a component does not serialise); str(exc) says why."""


class Assembly(Protocol):
    """A tokenizers pipeline taken apart into COMPONENTS, with the call the side makes: diff rebuilds it with
    components taken from another side's and encodes again, without touching the library."""

    #: what the pipeline is: "LlamaTokenizer.backend_tokenizer (transformers 5.24.0)"
    origin: str
    #: every encode this assembly has made (the ablation's cost, counted)
    encodes: int

    def parts(self) -> dict[str, Any]:
        """Each component as a JSON value (compare with ==; show with json.dumps)."""
        ...

    def library_parts(self) -> dict[str, Any]:
        """For a conversion: components as the converted library itself runs them (tiktoken's own regex split,
        its own special-token ids), to put into the conversion; {} for a side that is a pipeline."""
        ...

    def encode(self, text: str, swaps: dict[str, Any] | None = None) -> list[int]:
        """The ids of `text` from this pipeline with the components in `swaps` replaced, called as the side calls
        it. Raises NoPipeline when the rebuilt pipeline cannot be built."""
        ...


@runtime_checkable
class Pipeline(Protocol):
    """A side that encodes with a tokenizers-library pipeline (`hf` fast, `tokenizers`, `gguf`)."""

    def pipeline(self) -> Assembly:
        """The pipeline the side encodes with and how it calls it. Raises NoPipeline."""
        ...


@runtime_checkable
class Converted(Protocol):
    """A side whose library is no tokenizers pipeline (`tiktoken`, `sentencepiece`, tekken in `mistral-common`),
    whose file transformers converts into one."""

    def conversion(self) -> Assembly:
        """transformers' own conversion of the side's file, called as the side calls its library. Raises NoPipeline."""
        ...


@runtime_checkable
class TemplateRenderer(Protocol):
    """A side whose chat templates render in its own environment (a side with `python:`, run by a worker in
    another interpreter): that environment's transformers renders the Jinja text, as its pipeline would. Not a
    library's capability, so not in CAPABILITIES."""

    def render_template(
        self,
        messages: Messages,
        source: str,
        add_generation_prompt: bool,
        tools: Messages | None,
        variables: dict[str, Any] | None,
    ) -> tuple[str, tuple[tuple[int, int], ...]]:
        """`chat.render_text` of the Jinja `source` there: the text and its `{% generation %}` spans."""
        ...


#: every capability, by name (tests loop over it)
CAPABILITIES: dict[str, type] = {
    "AssistantMasker": AssistantMasker,
    "ChatEncoder": ChatEncoder,
    "ChatServer": ChatServer,
    "Converted": Converted,
    "GgufBacked": GgufBacked,
    "Pipeline": Pipeline,
    "Reloadable": Reloadable,
    "ResolutionReporter": ResolutionReporter,
    "StoredTokens": StoredTokens,
}
