"""A test-only tokenizer class (loaded through `auto_map` + `trust_remote_code`) that, like the stack in
issue 13, hands some loads something else than the fast tokenizer the others get.

Every load in every thread and process takes the next number from FLAKY_LOADS_DIR (an empty folder the
test makes; `os.mkdir` of "0", "1", ... is atomic, so no two loads get the same number). The loads whose
number is in FLAKY_AT (comma-separated, default "2") get what FLAKY_DOES says:

  python  the Python `BertTokenizer` (the default)
  raise   NotImplementedError, as the half-working backend raised in production
  other   `PreTrainedTokenizerFast`: fast, but another class
  ids     this class with one more token, so some texts get other ids

With FLAKY_LOADS_DIR unset every load is the plain fast tokenizer.
"""

from __future__ import annotations

import os
from typing import Any

import transformers

#: the fast (Rust `tokenizers`) class and its Python twin, under transformers 4 and 5
FAST = getattr(transformers, "BertTokenizerFast", None) or transformers.BertTokenizer
PYTHON = getattr(transformers, "BertTokenizerLegacy", None) or transformers.BertTokenizer


def _number() -> int | None:
    folder = os.environ.get("FLAKY_LOADS_DIR")
    if not folder:
        return None
    n = 0
    while True:
        try:
            os.mkdir(os.path.join(folder, str(n)))
            return n
        except FileExistsError:
            n += 1


class FlakyBertTokenizer(FAST):  # type: ignore[misc,valid-type]
    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> Any:
        n = _number()
        if n is None or str(n) not in os.environ.get("FLAKY_AT", "2").split(","):
            return super().from_pretrained(*args, **kwargs)
        does = os.environ.get("FLAKY_DOES", "python")
        kwargs.pop("trust_remote_code", None)
        if does == "python":
            return PYTHON.from_pretrained(*args, **kwargs)
        if does == "raise":
            raise NotImplementedError(f"load {n} came back half-initialised")
        if does == "other":
            return transformers.PreTrainedTokenizerFast.from_pretrained(*args, **kwargs)
        tok = super().from_pretrained(*args, **kwargs)
        tok.add_tokens(["brown fox"])
        return tok
