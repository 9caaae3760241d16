"""`gguf`: the tokenizer transformers builds from a GGUF's metadata, as
`AutoTokenizer.from_pretrained(dir, gguf_file=...)` and vLLM's GGUF serving get it.

The metadata is read with the `gguf` package (transformers 5's own reader imports torch) and handed to
transformers' converter, so the vocabulary, merges, pre-tokenizer and special tokens are what the
installed transformers makes of the file. The result is wrapped in transformers' fast tokenizer class,
which adds BOS/EOS as the converted `add_bos_token` / `add_eos_token` say.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokaudit.errors import SourceError
from tokaudit.sources.capabilities import GgufFacts
from tokaudit.sources.gguf_file import GgufFile, read_gguf
from tokaudit.sources.hf import HFTokenizer, _one_line

#: 5.x: where the converter and its metadata reader live; 4.x keeps the converter in integrations.ggml
_MAPPING_5X = "transformers.integrations.gguf.gguf_tokenizer_mapping"
_READER_5X = "transformers.integrations.gguf.reader"
#: 4.x's load_gguf_checkpoint renames these architectures before picking a converter
_ARCH_4X = {"qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe", "gemma3": "gemma3_text"}


@contextmanager
def _reader_from(file: GgufFile) -> Any:
    """transformers 5's `get_gguf_tokenizer` reads the file with its own reader, which imports torch.
    For the call, its reader module is one that answers from the metadata the gguf package read, so
    transformers' own rules (which flags default how, which ids name which tokens) still decide."""
    shim = types.ModuleType(_READER_5X)
    shim.read_gguf_metadata = lambda path, string_arrays=(): (dict(file.metadata), tuple(file.tensors))  # type: ignore[attr-defined]
    saved = sys.modules.get(_READER_5X)
    sys.modules[_READER_5X] = shim
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop(_READER_5X, None)
        else:
            sys.modules[_READER_5X] = saved


def _convert_5x(file: GgufFile) -> tuple[Any, dict[str, Any], str | None]:
    mapping = importlib.import_module(_MAPPING_5X)
    with _reader_from(file):
        architecture, tokenizer_dict, config = mapping.get_gguf_tokenizer(file.path)
    backend, extra = mapping.convert_gguf_tokenizer(architecture, tokenizer_dict)
    # 5.x's config names every special token itself: the generic fast class is what its loader builds on
    return backend, {**config, **extra}, None


def _convert_4x(file: GgufFile) -> tuple[Any, dict[str, Any], str | None]:
    # What 4.x's load_gguf_checkpoint does for the tokenizer, without the torch it insists on.
    ggml = importlib.import_module("transformers.integrations.ggml")
    groups: dict[str, dict[str, Any]] = {"tokenizer": {}, "tokenizer_config": {}}
    for group, renames in ggml.GGUF_TOKENIZER_MAPPING.items():
        for key, name in renames.items():
            if f"tokenizer.{key}" in file.metadata:
                groups[group][name] = file.metadata[f"tokenizer.{key}"]
    architecture = _ARCH_4X.get(file.architecture, file.architecture)
    if architecture not in ggml.GGUF_TO_FAST_CONVERTERS:
        known = ", ".join(sorted(ggml.GGUF_TO_FAST_CONVERTERS))
        raise ValueError(f"no GGUF tokenizer converter for architecture {architecture!r} (it has: {known})")
    backend, extra = ggml.convert_gguf_tokenizer(architecture, groups["tokenizer"])
    # 4.x names no special tokens for some types (gpt2): the model type's fast class brings its defaults
    return backend, {**groups["tokenizer_config"], **extra}, architecture


def _fast_class(tf: Any, model_type: str | None) -> Any:
    """The fast class AutoTokenizer maps `model_type` to, or transformers' generic fast class."""
    if model_type is not None:
        auto = importlib.import_module("transformers.models.auto.tokenization_auto")
        names = auto.TOKENIZER_MAPPING_NAMES.get(model_type) or (None, None)
        found = auto.tokenizer_class_from_name(names[1]) if names[1] else None
        if found is not None:
            return found
    return tf.PreTrainedTokenizerFast


class GGUFTokenizer(HFTokenizer):
    """transformers' GGUF-to-tokenizers conversion, in transformers' fast tokenizer class."""

    source = "gguf"
    # Not AutoTokenizer's choice of class, and not reloadable from a folder: opt out of those two
    # capabilities the hf source has (a protocol method set to None is "not implemented").
    resolution = None  # type: ignore[assignment]
    reload = None  # type: ignore[assignment]

    def _load(self) -> Any:
        path = self.spec.path or ""
        self.file = read_gguf(path)
        convert = _convert_5x if importlib.util.find_spec(_MAPPING_5X.rsplit(".", 1)[0]) else _convert_4x
        try:
            backend, kwargs, model_type = convert(self.file)
            # Only what a tokenizer's __init__ takes: 4.x's config also carries model_type and the raw ids.
            wanted = {"bos_token", "eos_token", "unk_token", "pad_token", "add_bos_token", "add_eos_token"}
            wanted |= {"chat_template", "add_prefix_space", "clean_up_tokenization_spaces", "legacy"}
            init = {k: v for k, v in kwargs.items() if k in wanted and v is not None}
            # the class refuses what the converter passed through (a chat_template that is not a string)
            return _fast_class(self.tf, model_type)(tokenizer_object=backend, **init)
        except Exception as exc:  # the converter's refusal: an unknown tokenizer type or architecture
            raise SourceError(
                f"{path}: transformers {self.tf.__version__} cannot build a tokenizer from this GGUF "
                f"(tokenizer.ggml.model {self.file.tokenizer('model')!r}, architecture {self.file.architecture!r}): "
                f"{_one_line(exc)}",
                key="path",
            ) from exc

    def gguf_facts(self) -> GgufFacts:
        return self.file.facts()

    def files_dir(self) -> Path | None:
        return None  # one file, no folder of tokenizer files

    def backend(self) -> str:
        return f"{type(self.tok).__name__} from GGUF ({self.file.tokenizer('model')}, pre={self.file.tokenizer('pre')})"
