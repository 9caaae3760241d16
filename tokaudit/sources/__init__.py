"""Tokenizer sources, one per library. The registry is a plain dict; the CLI's choices come from it.

The modules only import their library when a tokenizer is loaded, so listing them is cheap.
"""

from __future__ import annotations

from tokaudit.config import SideSpec
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.hf import HFSlowTokenizer, HFTokenizer
from tokaudit.sources.hf_tokenizers import TokenizersTokenizer
from tokaudit.sources.mistral import MistralCommonTokenizer
from tokaudit.sources.spm import SentencePieceTokenizer
from tokaudit.sources.tiktoken_bpe import TiktokenTokenizer

SOURCES: dict[str, type[Tokenizer]] = {
    "hf": HFTokenizer,
    "hf-slow": HFSlowTokenizer,
    "tokenizers": TokenizersTokenizer,
    "sentencepiece": SentencePieceTokenizer,
    "tiktoken": TiktokenTokenizer,
    "mistral-common": MistralCommonTokenizer,
}


def load_side(spec: SideSpec) -> Tokenizer:
    """Load one side's tokenizer with its own library (raises SourceError)."""
    return SOURCES[spec.source](spec)


__all__ = ["SOURCES", "Tokenizer", "load_side"]
