"""tokaudit: catch training-serving tokenizer skew before it silently costs a training run."""

from __future__ import annotations

__version__ = "0.1.0"
