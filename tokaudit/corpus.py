"""Corpus entries (read through tokaudit.readers) and the built-in edge-case corpus that runs with every diff."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from tokaudit.config import CorpusEntry
from tokaudit.errors import InputError
from tokaudit.findings import Skipped
from tokaudit.readers import Sample, texts


def read_entry(entry: CorpusEntry, index: int, cfg: Path | None) -> tuple[list[Sample], list[Skipped]]:
    """Read one corpus entry whole (small inputs: snapshots, tests). No samples at all is an InputError."""
    samples: list[Sample] = []
    skipped: list[Skipped] = []
    for item in texts(Path(entry.path), entry.field, entry_key(cfg, index), entry.limit):
        (samples if isinstance(item, Sample) else skipped).append(item)  # type: ignore[arg-type]
    if not samples:
        raise InputError(no_samples(cfg, index, Path(entry.path), len(skipped), skipped[:1]))
    return samples, skipped


def no_samples(cfg: Path | None, index: int, path: Path, skipped: int, first: list[Skipped]) -> str:
    """The one line for a corpus entry that gave nothing to compare."""
    why = f"; {skipped} line(s) skipped, first: {first[0].where}: {first[0].reason}" if first else ""
    return f"{entry_key(cfg, index)}: {path} yielded no samples{why}"


def entry_key(cfg: Path | None, index: int) -> str:
    return f"{cfg}: corpus[{index}]" if cfg else f"corpus[{index}]"


# -- the built-in edge-case corpus ---------------------------------------------------------------
_NFD_CAFE = unicodedata.normalize("NFD", "café crème brûlée")

BUILTIN_CASES: dict[str, str] = {
    "plain": "The quick brown fox jumps over the lazy dog.",
    "leading-space": " leading space",
    "leading-spaces": "   three leading spaces",
    "trailing-space": "trailing space ",
    "trailing-spaces": "trailing spaces   ",
    "space-runs": "two  spaces, three   spaces, eight        spaces",
    "only-spaces": "     ",
    "tabs": "col1\tcol2\t\tcol4",
    "newlines": "line one\nline two\n\nline four",
    "crlf": "windows line\r\nnext line\r\n",
    "leading-newline": "\nstarts with a newline",
    "mixed-whitespace": " \t \n mixed \u00a0 whitespace\u2003here",
    "nfc": unicodedata.normalize("NFC", "café crème brûlée"),
    "nfd": _NFD_CAFE,
    "nfkc-variants": "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ﹟ ㍻ ⅷ ½ x² H₂O",
    "ligatures": "ﬁnance ﬂow ﬀ ﬃ ﬄ ﬆ",
    "combining-marks": "e\u0301 a\u0308 n\u0303 Z\u0351\u0352\u0353algo",
    "zero-width": "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060join",
    "emoji": "👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷",
    "cjk": "日本語のテキストと中文文本和한국어 텍스트",
    "rtl": "مرحبا بالعالم שלום עולם \u202eRTL override\u202c",
    "digits": "1234567890 12,345.67 3.14159 -0.5e-10 007 2026-11-24",
    "long-number": "123456789012345678901234567890",
    "code": "def f(x):\n    return {'a': [1, 2]}  # comment\n\tif x != None: pass",
    "markup": '<div class="a">&amp; <b>bold</b></div> **md** `code`',
    "url": "https://example.com/path?q=1&r=two#frag user@example.org",
    "long-repeat": "a" * 300,
    "long-repeat-space": "ab " * 100,
    "long-repeat-newline": "\n" * 50,
    "punctuation": "Hello!!! What?! ...and... —dash– «quotes» “smart” ‘single’",
    "contractions": "I'm can't we'll they've she'd it's O'Neil",
    "control-chars": "bell\x07 null\x00 escape\x1b[0m del\x7f",
    "accents-upper": "ÉCOLE ÀÇÔ Ǆ ǅ ß ẞ İ ı",
    "math": "∀x∈ℝ: x² ≥ 0 ⇒ √x ∑∫∂ ≠ ≈",
    "private-use": "\ue000\uf8ff private use",
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𓀀",
}


def builtin_samples(specials: Iterable[str] = ()) -> list[Sample]:
    """The edge cases, plus every special or added token string of both sides inside ordinary text."""
    samples = [Sample(text, f"builtin:{name}") for name, text in BUILTIN_CASES.items()]
    for s in sorted(set(specials)):
        if s.strip():
            samples.append(Sample(f"Before {s} after, and{s}glued.", f"builtin:special {s}"))
    return samples
