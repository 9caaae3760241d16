"""The source registry: config name -> the class that loads it, as "module:Class".

Kept as import paths with no imports of its own, so config.py can validate a source name without
importing the sources (each of which imports config.SideSpec) and a run only imports the sources
it uses. A new source is one module plus one line here.
"""

from __future__ import annotations

import importlib
from typing import Any

SOURCES: dict[str, str] = {
    "hf": "tokaudit.sources.hf:HFTokenizer",
    "hf-slow": "tokaudit.sources.hf:HFSlowTokenizer",
    "tokenizers": "tokaudit.sources.hf_tokenizers:TokenizersTokenizer",
    "sentencepiece": "tokaudit.sources.spm:SentencePieceTokenizer",
    "tiktoken": "tokaudit.sources.tiktoken_bpe:TiktokenTokenizer",
    "mistral-common": "tokaudit.sources.mistral:MistralCommonTokenizer",
    "python": "tokaudit.sources.python_code:PythonTokenizer",
    "dataset": "tokaudit.sources.dataset:DatasetTokens",
    "gguf": "tokaudit.sources.gguf_hf:GGUFTokenizer",
    "llama.cpp": "tokaudit.sources.llama_cpp:LlamaCppTokenizer",
    "vllm": "tokaudit.sources.vllm:VllmTokenizer",
}


def source_class(name: str) -> Any:
    """The Tokenizer subclass registered under `name` (KeyError for an unknown name)."""
    module, _, attr = SOURCES[name].partition(":")
    return getattr(importlib.import_module(module), attr)
