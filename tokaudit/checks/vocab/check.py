"""`vocab-check`: vocabulary, special tokens and model shape agree on both sides. Needs no corpus.

The parts, in the order they run (codes in docs/codes.md):
  vocab_view         read each side once through its library's batch APIs
  vocab_compare      TA201-202 size against the model, TA211-213 id -> bytes, TA214 decode round trip
  vocab_specials     TA203-209 roles, added tokens, shared ids, renumbered specials, pad == eos
  vocab_files        TA210 generation_config.json, TA215 regex portability, TA216 truncation / padding
  vocab_resolution   TA217-218 which tokenizer AutoTokenizer and vLLM really load
  vocab_gguf         TA219-221 a GGUF side's embedding rows, pre-tokenizer and BOS / EOS flags
  vocab_exports      TA230-234 the folders as a server loads them: class name, template files, base vs export
"""

from __future__ import annotations

from tokaudit.checks.base import CheckResult
from tokaudit.checks.vocab import compare as vocab_compare
from tokaudit.checks.vocab import exports as vocab_exports
from tokaudit.checks.vocab import files as vocab_files
from tokaudit.checks.vocab import gguf as vocab_gguf
from tokaudit.checks.vocab import specials as vocab_specials
from tokaudit.checks.vocab.resolution import resolution
from tokaudit.checks.vocab.view import ROLE_NAMES, View, read_view, show_role
from tokaudit.config import Settings
from tokaudit.errors import InputError
from tokaudit.options import Options
from tokaudit.sources.base import Sides


def run(settings: Settings, sides: Sides, options: Options) -> CheckResult:
    """Compare both sides' vocabularies, special tokens and files. Raises InputError on unusable input."""
    result = CheckResult()
    rows = vocab_files.model_rows(settings)  # a bad config.json fails before any heavy work
    views = [read_view(name, tok, result.skipped) for name, tok in sides.items()]
    training, serving = views
    for v in views:
        if v.size == 0:
            raise InputError(f"{settings.config_path}: {v.name}: the tokenizer has an empty vocabulary")
    findings = result.findings
    if rows is not None:
        findings += vocab_compare.size_findings(views, *rows)
    findings += vocab_specials.compare_roles(training, serving)
    added, moved = vocab_specials.compare_added(training, serving)
    findings += added
    findings += vocab_specials.shared_ids(views)
    findings += vocab_specials.holes(training, serving, moved)
    findings += vocab_specials.pad_is_eos(views)
    generation, skipped = vocab_files.generation_config(training, serving)
    findings += generation
    result.skipped += skipped
    compared, stats = vocab_compare.compare_vocab(training, serving)
    findings += compared
    trip, trip_stats = vocab_compare.round_trip(training, serving, stats.same_ids)
    findings += trip
    findings += vocab_files.regex_findings(views)
    findings += vocab_files.truncation_findings(views)
    resolved, found = resolution(views)
    findings += found
    in_gguf, gguf_summary = vocab_gguf.gguf_findings(views)
    findings += in_gguf
    findings += vocab_exports.export_findings(training, serving)
    result.summary = {
        **{f"{v.name}_ids": v.size for v in views},
        **({"embedding_rows": rows[0]} if rows else {}),
        "ids_compared": stats.compared,
        "ids_differing": stats.differing,
        **trip_stats,
        "special_tokens_compared": len(set(training.added) | set(serving.added)),
        "special_tokens_moved": len(moved),
        "roles": _roles(views),
        **resolved,
        **gguf_summary,
    }
    return result


def _roles(views: list[View]) -> dict[str, str]:
    """role -> 'training X / serving Y' for the summary; unknown where a side has no such notion."""
    out = {}
    for role, label in ROLE_NAMES.items():
        shown = [f"{v.name} {show_role(v.roles[role]) if role in v.roles else 'unknown'}" for v in views]
        out[label] = " / ".join(shown)
    return out
