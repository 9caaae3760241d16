"""Every finding code: its severity, category, title and default hint. Nothing else invents a code.

docs/codes.md documents exactly these (a test holds the two equal). A check makes a finding with
`finding(code, message, ...)`, which takes severity and category from here; a check may pass a
category only for a code whose registered category is None (it classifies each finding itself),
and a hint only where the default needs the finding's own names in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokaudit.findings import Finding, Severity


@dataclass(frozen=True)
class Code:
    """One finding code as documented in docs/codes.md."""

    code: str
    severity: Severity
    #: None where the check classifies each finding (TA110 and TA501 carry the diff category)
    category: str | None
    title: str
    hint: str | None = None


CODES: dict[str, Code] = {
    "TA001": Code("TA001", Severity.WARNING, "config", "a `revision` is a branch or tag, not a 40-hex commit"),
    "TA101": Code(
        "TA101",
        Severity.ERROR,
        "special-token",
        "a special/added token's text is a control token on one side and plain text on the other",
    ),
    "TA102": Code(
        "TA102",
        Severity.ERROR,
        "bos-eos",
        "BOS (or EOS, or a post-processor token like `[CLS]`) is added by one side only",
    ),
    "TA103": Code("TA103", Severity.ERROR, "truncation", "one side cuts or pads the sample to a fixed length"),
    "TA104": Code("TA104", Severity.ERROR, "id-mapping", "the same token bytes get a different id"),
    "TA105": Code("TA105", Severity.ERROR, "normalization", "the two sides' normalizers produce different text"),
    "TA106": Code("TA106", Severity.ERROR, "whitespace", "prefix space or whitespace runs are tokenized differently"),
    "TA107": Code("TA107", Severity.ERROR, "segmentation", "same bytes, different token boundaries"),
    "TA108": Code(
        "TA108",
        Severity.ERROR,
        "unknown",
        "one side falls back to `<unk>` or byte tokens where the other has a vocabulary token",
    ),
    "TA110": Code(
        "TA110",
        Severity.ERROR,
        None,
        "one side's library refuses the sample (e.g. tiktoken's `encode` on `<|endoftext|>`), the other encodes it",
    ),
    "TA501": Code(
        "TA501",
        Severity.ERROR,
        None,
        "`--against LOCK`: a side's tokens for a sample moved since the snapshot; names the library versions then and now",
    ),
    "TA502": Code(
        "TA502",
        Severity.WARNING,
        "resolution",
        "`--against LOCK`: a side now loads another backend class than at snapshot time (e.g. `LlamaTokenizerFast` → `LlamaTokenizer`)",
    ),
    "TA201": Code(
        "TA201",
        Severity.ERROR,
        "vocab-size",
        "a side has ids at or above the model's embedding rows (`model.vocab_size`, or `vocab_size` in `model.config`)",
    ),
    "TA202": Code(
        "TA202",
        Severity.INFO,
        "vocab-size",
        "the model has embedding rows beyond a side's ids (padding to a multiple is normal); with the count",
    ),
    "TA203": Code(
        "TA203",
        Severity.ERROR,
        "special-token",
        "bos / eos / pad / unk / end-of-turn token has another string or id on the two sides",
    ),
    "TA204": Code(
        "TA204",
        Severity.ERROR,
        "special-token",
        "a special or added token has another id on the other side (one finding each for the first 10, then one for the rest)",
    ),
    "TA205": Code(
        "TA205",
        Severity.ERROR,
        "special-token",
        "a special or added token exists on one side only: the other tokenizes its text as ordinary text",
    ),
    "TA206": Code(
        "TA206",
        Severity.ERROR,
        "added-token",
        "the same added token has another `special`, `lstrip`, `rstrip`, `normalized` or `single_word` flag (flags are compared where both libraries keep them)",
    ),
    "TA207": Code(
        "TA207",
        Severity.ERROR,
        "special-token",
        "two different special strings have one id on a side (e.g. a pad string that is not in the vocabulary)",
    ),
    "TA208": Code(
        "TA208",
        Severity.WARNING,
        "special-token",
        "one side's id space has holes the other's has not and the specials were renumbered around them (a conversion packed them)",
    ),
    "TA209": Code(
        "TA209",
        Severity.WARNING,
        "special-token",
        "pad is the eos token: a loss mask that drops padding drops every EOS, and the model may not learn to stop",
    ),
    "TA210": Code(
        "TA210",
        Severity.ERROR,
        "generation-config",
        "serving's `generation_config.json` `eos_token_id` does not include the token that ends an assistant turn (training's template, else serving's)",
    ),
    "TA211": Code(
        "TA211",
        Severity.ERROR,
        "vocab",
        "ids that are regular tokens on both sides stand for other bytes (first few shown, all counted)",
    ),
    "TA212": Code("TA212", Severity.ERROR, "vocab", "vocabulary pieces (as bytes) that exist on one side only"),
    "TA213": Code(
        "TA213", Severity.ERROR, "vocab", "bytes that several ids share, with another set of ids on the other side"
    ),
    "TA214": Code(
        "TA214",
        Severity.WARNING,
        "round-trip",
        "ids both vocabularies agree on decode, alone, to other text with each library's own decoder (byte fallback, prefix-space stripping, clean-up)",
    ),
    "TA215": Code(
        "TA215",
        Severity.WARNING,
        "regex",
        "a pre-tokenizer regex uses a construct that means one thing in tiktoken (fancy-regex) and another in tokenizers (Oniguruma, Ruby syntax); see below",
    ),
    "TA216": Code(
        "TA216",
        Severity.WARNING,
        "truncation",
        "tokenizer.json stores truncation / padding and a side loads it with the tokenizers library, which applies it to every encode (transformers does not); with the length and model_max_length",
    ),
    "TA217": Code(
        "TA217",
        Severity.INFO,
        "resolution",
        "AutoTokenizer resolves an `hf` / `hf-slow` side to another class depending on whether mistral-common is installed",
    ),
    "TA218": Code(
        "TA218",
        Severity.WARNING,
        "resolution",
        "vLLM's `--tokenizer-mode auto` would serve the model with mistral-common (the folder ships `tekken.json` or `tokenizer.model.v*` and mistral-common is installed), not the transformers tokenizer audited as serving",
    ),
    "TA301": Code(
        "TA301",
        Severity.ERROR,
        "template-text",
        "the two sides render a conversation to different text (and different ids)",
    ),
    "TA302": Code(
        "TA302",
        Severity.ERROR,
        "template-tokens",
        "same rendered text, different ids: the sides tokenize the rendering differently",
    ),
    "TA303": Code(
        "TA303", Severity.INFO, "template-text", "the texts differ but the ids are the same (harmless for the model)"
    ),
    "TA304": Code(
        "TA304",
        Severity.ERROR,
        "double-bos",
        "a side's rendering starts with the BOS string and its tokenizer adds BOS too (once per side)",
    ),
    "TA305": Code(
        "TA305",
        Severity.ERROR,
        "generation-prompt",
        "the serving prompt (messages + generation prompt) is not a text prefix of the training rendering of the turn it prompts",
    ),
    "TA306": Code(
        "TA306",
        Severity.WARNING,
        "generation-prompt",
        "the serving prompt is a text prefix but not a token prefix: the answer's first characters merge with the prompt's last token",
    ),
    "TA307": Code(
        "TA307",
        Severity.ERROR,
        "injection",
        "a control string in message content (`</s>`, `[/INST]`, `<|im_end|>` ...) becomes a control token on one side and stays text on the other",
    ),
    "TA308": Code(
        "TA308", Severity.INFO, "injection", "both sides turn a control string in message content into a control token"
    ),
    "TA309": Code(
        "TA309",
        Severity.ERROR,
        "template-error",
        "one side's template refuses a conversation (`raise_exception`, a sandbox violation, mistral-common's validation) that the other renders; carries the template's own message",
    ),
    "TA401": Code(
        "TA401",
        Severity.ERROR,
        "mask-trained-wrongly",
        "tokens the pipeline trains on that the ground truth masks (the first one located)",
    ),
    "TA402": Code("TA402", Severity.ERROR, "mask-masked-wrongly", "tokens of an assistant reply the pipeline masks"),
    "TA403": Code(
        "TA403",
        Severity.ERROR,
        "sample-lost",
        "every label masked although the assistant writes tokens: the sample is silently dropped (FastChat's `tokenization mismatch`)",
    ),
    "TA404": Code(
        "TA404",
        Severity.WARNING,
        "truncation",
        "`max_length` (or a record shorter than the serving tokenization) cuts an assistant span or drops it",
    ),
    "TA405": Code(
        "TA405",
        Severity.WARNING,
        "boundary-merge",
        "a token straddles an assistant span's edge with more than whitespace outside it",
    ),
    "TA406": Code(
        "TA406",
        Severity.ERROR,
        "tokenization-skew",
        "the input_ids are not the serving tokenization of the messages; labels not compared",
    ),
    "TA407": Code(
        "TA407",
        Severity.ERROR,
        "malformed",
        "a dataset line is not a usable record (not JSON, a key missing, non-integer ids, lengths differ)",
    ),
    "TA408": Code(
        "TA408",
        Severity.ERROR,
        "label-value",
        "the mask is right but trained labels are other ids than input_ids (pre-shifted labels)",
    ),
}


def finding(
    code: str,
    message: str,
    *,
    sample: str | None = None,
    where: str | None = None,
    category: str | None = None,
    hint: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Finding:
    """The one way to make a Finding. `sample` is a corpus location (file:line, builtin:case,
    conversation); `where` names what a non-sample finding is about (a token, a side, a file, a key)."""
    spec = CODES[code]
    if spec.category is not None and category not in (None, spec.category):
        raise ValueError(f"{code} is registered with category {spec.category!r}, not {category!r}")
    if spec.category is None and category is None:
        raise ValueError(f"{code} needs a category from the check that makes it")
    return Finding(
        code=code,
        severity=spec.severity,
        message=message,
        sample=sample,
        where=where,
        category=spec.category or category,
        hint=hint if hint is not None else spec.hint,
        detail=detail or {},
    )
