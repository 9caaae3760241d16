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


@runtime_checkable
class ResolutionReporter(Protocol):
    """A source whose library chooses the tokenizer class at load time (vocab-check TA217, FastChat's legacy)."""

    def resolution(self) -> Resolution:
        """What the loader resolved, read from the loaded object."""
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


#: every capability, by name (tests loop over it)
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


CAPABILITIES: dict[str, type] = {
    "AssistantMasker": AssistantMasker,
    "ChatEncoder": ChatEncoder,
    "ResolutionReporter": ResolutionReporter,
    "StoredTokens": StoredTokens,
}
