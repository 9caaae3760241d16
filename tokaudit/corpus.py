"""Corpus readers (.txt, .jsonl) and the built-in edge-case corpus that runs with every diff."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tokaudit.config import CorpusEntry, Settings
from tokaudit.errors import InputError
from tokaudit.findings import Skipped


@dataclass(frozen=True)
class Sample:
    """A text to encode and where it came from (file:line or builtin:<case>)."""

    text: str
    where: str


def collect_samples(settings: Settings, specials: Iterable[str], builtin: bool) -> tuple[list[Sample], list[Skipped]]:
    """Every configured corpus entry, then (when `builtin`) the edge cases with both sides' `specials`.
    Nothing to compare is an InputError."""
    samples: list[Sample] = []
    skipped: list[Skipped] = []
    for i, entry in enumerate(settings.corpus):
        got, skip = read_entry(entry, i, settings.config_path)
        samples += got
        skipped += skip
    if builtin:
        samples += builtin_samples(specials)
    if not samples:
        raise InputError(
            f"{settings.config_path}: nothing to compare: no corpus is configured and the built-in "
            "corpus is off (add `corpus:` or drop --no-builtin)"
        )
    return samples, skipped


def read_entry(entry: CorpusEntry, index: int, cfg: Path | None) -> tuple[list[Sample], list[Skipped]]:
    """Read one corpus entry. An entry that yields no samples at all is an InputError."""
    path = Path(entry.path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{_key(cfg, index)}: cannot read {path}: {exc.strerror}") from exc
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    if jsonl and not entry.field:
        raise InputError(f"{_key(cfg, index)}.field: a .jsonl corpus needs `field` (the text key)")
    samples: list[Sample] = []
    skipped: list[Skipped] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, line in enumerate(lines, start=1):
        if entry.limit is not None and len(samples) >= entry.limit:
            break
        where = f"{path.name}:{n}"
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(where, f"invalid UTF-8 at byte {exc.start}"))
            continue
        if not text.strip() and jsonl:
            continue
        if jsonl:
            got = _field(text, entry.field or "", where, skipped)
            if got is not None:
                samples.append(Sample(got, where))
        elif text:
            samples.append(Sample(text, where))
    if not samples:
        why = f"; {len(skipped)} line(s) skipped, first: {skipped[0].where}: {skipped[0].reason}" if skipped else ""
        raise InputError(f"{_key(cfg, index)}: {path} yielded no samples{why}")
    return samples, skipped


def _field(line: str, field: str, where: str, skipped: list[Skipped]) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        skipped.append(Skipped(where, f"not JSON: {exc.msg}"))
        return None
    if not isinstance(record, dict) or field not in record:
        skipped.append(Skipped(where, f"no field {field!r}"))
        return None
    value = record[field]
    if not isinstance(value, str):
        skipped.append(Skipped(where, f"field {field!r} is {type(value).__name__}, not a string"))
        return None
    return value


def _key(cfg: Path | None, index: int) -> str:
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
