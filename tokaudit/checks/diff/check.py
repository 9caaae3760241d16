"""`diff`: encode every sample with both sides and explain each sample whose ids differ."""

from __future__ import annotations

from collections import Counter

from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff.divergence import CATEGORIES, Side, explain
from tokaudit.config import Settings
from tokaudit.corpus import Sample, collect_samples
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Severity, Skipped
from tokaudit.options import Options
from tokaudit.sources.base import Sides

CODES = dict(zip(CATEGORIES, ("TA101", "TA102", "TA103", "TA104", "TA105", "TA106", "TA107", "TA108")))
ENCODE_ERROR = "TA110"

HINTS = {
    "special-token": "one side parses special-token strings in text and the other does not: align "
    "`special_text` (and split_special_tokens / allowed_special) so user text cannot become control tokens",
    "bos-eos": "BOS/EOS is added by one side only: compare add_bos/add_eos (add_special_tokens) and the "
    "tokenizer.json post-processor",
    "truncation": "one side cuts or pads the text to a fixed length: look for `truncation` / `padding` blocks "
    "in tokenizer.json (the tokenizers library applies them, transformers resets them) or a max_length",
    "id-mapping": "same token text, different id: the vocabulary or the special-token ids moved in a "
    "conversion; run `tokaudit vocab-check`",
    "normalization": "the sides normalize text differently (NFC/NFKC, lowercasing, accent stripping): "
    "compare the normalizers",
    "whitespace": "prefix space or whitespace runs handled differently: compare add_prefix_space / "
    "add_dummy_prefix, legacy, and the pre-tokenizer",
    "segmentation": "same text, different token boundaries: the pre-tokenizer regex or the merges differ",
    "unknown": "one side has no token for this text and falls back to <unk> or bytes: the vocabularies differ "
    "or byte_fallback is off on one side",
}
CHUNK = 4096


DiffResult = CheckResult


def run(settings: Settings, sides: Sides, options: Options) -> DiffResult:
    """Compare both sides on every sample. Zero samples compared is an InputError."""
    samples, skipped = collect_samples(settings, sides.specials(), options.use_builtin(settings.builtin_corpus))
    result = DiffResult(skipped=list(skipped))
    compared = differing = tokens = affected = 0
    per_category: Counter[str] = Counter()
    for start in range(0, len(samples), CHUNK):
        chunk = samples[start : start + CHUNK]
        texts = [s.text for s in chunk]
        train = sides.training.encode_all(texts)
        serve = sides.serving.encode_all(texts)
        for sample, a, b in zip(chunk, train, serve):
            if isinstance(a, str) or isinstance(b, str):
                if isinstance(a, str) and isinstance(b, str):
                    result.skipped.append(Skipped(sample.where, f"both sides refused it: {a}"))
                    continue
                compared += 1
                differing += 1
                finding = _encode_error(sample, a, b)
                result.findings.append(finding)
                per_category[finding.category or "unknown"] += 1
                continue
            compared += 1
            tokens += len(b)
            if a == b:
                continue
            differing += 1
            div = explain(
                sample.text,
                Side("training", sides.training, a, text_in=sample.text),
                Side("serving", sides.serving, b, text_in=sample.text),
            )
            affected += div.affected
            per_category[div.category] += 1
            result.findings.append(
                Finding(
                    code=CODES[div.category],
                    severity=Severity.ERROR,
                    category=div.category,
                    message=div.message,
                    sample=sample.where,
                    hint=HINTS[div.category],
                    detail={"text": sample.text if len(sample.text) <= 400 else sample.text[:400] + "…", **div.detail},
                )
            )
    if compared == 0:
        raise InputError(
            f"{settings.config_path}: no sample could be compared ({len(result.skipped)} skipped; "
            f"first: {result.skipped[0].where}: {result.skipped[0].reason})"
            if result.skipped
            else f"{settings.config_path}: no sample could be compared"
        )
    result.summary = {
        "samples_compared": compared,
        "samples_differing": differing,
        "samples_skipped": len(result.skipped),
        "tokens": tokens,
        "tokens_affected": affected,
        "share_tokens_affected": round(affected / tokens, 6) if tokens else 0.0,
        "by_category": {c: per_category[c] for c in CATEGORIES if per_category[c]},
    }
    return result


def _encode_error(sample: Sample, a: list[int] | str, b: list[int] | str) -> Finding:
    failed, ok = ("training", "serving") if isinstance(a, str) else ("serving", "training")
    error = str(a if isinstance(a, str) else b)
    special = "special" in error.lower()
    return Finding(
        code=ENCODE_ERROR,
        severity=Severity.ERROR,
        category="special-token" if special else "unknown",
        message=f"{failed} refuses this sample ({error}); {ok} encodes it",
        sample=sample.where,
        hint="a sample one pipeline rejects and the other accepts: align `special_text` on both sides",
        detail={"text": sample.text[:400], "error": error, "failed": failed},
    )
