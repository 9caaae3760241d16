"""vocab-check: what the files around the tokenizer say. Model config.json, generation_config.json,
pre-tokenizer regexes and truncation / padding stored in tokenizer.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tokaudit.checks.vocab.view import View, show_role
from tokaudit.codes import finding
from tokaudit.config import Settings
from tokaudit.errors import InputError
from tokaudit.findings import Finding, Skipped
from tokaudit.sources.base import FileLimits


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def model_rows(settings: Settings) -> tuple[int, str] | None:
    """The number of embedding rows: model.vocab_size, or vocab_size in the model's config.json."""
    model = settings.model
    if model is None or (model.vocab_size is None and model.config is None):
        return None
    from_file = None
    if model.config is not None:
        data = read_json(model.config)
        key, value = "vocab_size", data.get("vocab_size")
        if value is None and isinstance(data.get("text_config"), dict):  # multimodal configs nest it
            key, value = "text_config.vocab_size", data["text_config"].get("vocab_size")
        if value is None:
            raise InputError(f"{model.config}: vocab_size: key is missing (the number of embedding rows)")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InputError(f"{model.config}: {key}: not a positive integer (got {value!r})")
        from_file = (value, f"{model.config.name} {key}")
    if model.vocab_size is not None:
        if from_file is not None and from_file[0] != model.vocab_size:
            raise InputError(
                f"{settings.config_path}: model.vocab_size: {model.vocab_size} disagrees with "
                f"{model.config}: vocab_size {from_file[0]} (give one of them)"
            )
        return model.vocab_size, "model.vocab_size"
    return from_file


def generation_config(training: View, serving: View) -> tuple[list[Finding], list[Skipped]]:
    """TA210: serving's generation_config.json must stop on the token that ends an assistant turn."""
    folder = serving.tok.files_dir()
    path = folder / "generation_config.json" if folder else None
    if path is None or not path.is_file():
        return [], []
    data = read_json(path)
    raw = data.get("eos_token_id")
    if raw is None:
        return [], [Skipped(str(path), "sets no eos_token_id: the model config's is used")]
    ids = [raw] if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InputError(f"{path}: eos_token_id: expected an integer or a list of integers (got {raw!r})")
    source = training if "eot" in training.roles else serving
    if "eot" not in source.roles:
        return [], [Skipped(str(path), "no chat template on either side: the end-of-turn token is unknown")]
    eot = source.roles["eot"]
    if eot is None or eot[1] is None:
        return [], [Skipped(str(path), f"the {source.name} chat template ends a turn with no special token")]
    if eot[1] in ids:
        return [], []
    made = finding(
        "TA210",
        f"{path.name} stops on eos_token_id {raw} but the {source.name} chat template ends an "
        f"assistant turn with {show_role(eot)}: generation will not stop where training taught the model to",
        where=str(path),
        fill={"id": str(eot[1])},
        detail={"file": str(path), "eos_token_id": raw, "end_of_turn": list(eot), "from": source.notes.get("eot")},
    )
    return [made], []


# Constructs whose meaning differs between tiktoken's engine (fancy-regex) and the tokenizers
# library's (Oniguruma, Ruby syntax). Checked on patterns as written: see docs/codes.md TA215.
MEANINGS = {
    "{n,m}+": "possessive in tiktoken; in tokenizers it repeats the whole {n,m} one or more times "
    "(\\p{N}{1,3}+ matches a run of any length there)",
    "$": "end of the text in tiktoken, end of every line in tokenizers",
    "^": "start of the text in tiktoken, start of every line in tokenizers",
    "(?m)": "multi-line anchors in tiktoken, dot matches newline in tokenizers",
    "(?s)": "dot matches newline in tiktoken, not valid in tokenizers",
}
_REPEAT = re.compile(r"\{\d+(?:,\d*)?\}")
_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-[a-zA-Z]*)?[:)]")


def constructs(pattern: str) -> list[str]:
    """The MEANINGS keys a regex uses outside character classes, in order of first use."""
    found: list[str] = []
    i, depth = 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if depth:
            depth += 1 if ch == "[" else -1 if ch == "]" else 0
            i += 1
            continue
        if ch == "[":
            depth, i = 1, i + 1
            i += 1 if pattern[i : i + 1] == "^" else 0
            i += 1 if pattern[i : i + 1] == "]" else 0  # a leading ] is a literal
            continue
        repeat = _REPEAT.match(pattern, i) if ch == "{" else None
        flags = _FLAGS.match(pattern, i) if ch == "(" else None
        if repeat and pattern[repeat.end() : repeat.end() + 1] == "+":
            found.append("{n,m}+")
        # \s++$ / \s*+$ : the run has taken every newline, so either meaning of $ leaves the same match
        elif ch == "$" and not pattern[:i].endswith(("\\s++", "\\s*+")):
            found.append("$")
        elif ch == "^":
            found.append("^")
        elif flags:
            found += [f"(?{f})" for f in "ms" if f in flags.group(1)]
        i = repeat.end() if repeat else i + 1
    return list(dict.fromkeys(found))


def regex_findings(views: list[View]) -> list[Finding]:
    """TA215, once per pattern: a tokenizers pattern always; a tiktoken one when the other side runs tokenizers."""
    engines = {e for v in views for _, e in v.reader.split_patterns()}
    by_pattern: dict[str, list[str]] = {}
    for v in views:
        for pattern, engine in v.reader.split_patterns():
            if engine == "tokenizers" or "tokenizers" in engines:
                by_pattern.setdefault(pattern, []).append(f"{v.name} ({engine})")
    out = []
    for pattern, where in by_pattern.items():
        used = constructs(pattern)
        if not used:
            continue
        out.append(
            finding(
                "TA215",
                f"the pre-tokenizer regex on {' and '.join(where)} uses {', '.join(used)}, which "
                f"{'mean' if len(used) > 1 else 'means'} something else in tiktoken and in tokenizers",
                where=", ".join(used),
                detail={"pattern": pattern, "sides": where, "constructs": {c: MEANINGS[c] for c in used}},
            )
        )
    return out


def truncation_findings(views: list[View]) -> list[Finding]:
    """TA216: truncation / padding in tokenizer.json that a side applies through the raw tokenizers library."""
    files: dict[str, tuple[FileLimits, list[str]]] = {}
    for v in views:
        limits = v.reader.file_limits()
        if limits is not None:
            files.setdefault(limits.file, (limits, []))[1].append(v.name)
    out = []
    for file, (limits, names) in files.items():
        applying = [v.name for v in views if v.name in names and v.reader.source == "tokenizers"]
        if not applying:
            continue  # transformers resets both on every call: nothing is applied
        parts = []
        if limits.truncation:
            parts.append(f"truncation at {limits.truncation.get('max_length')} tokens")
        if limits.padding:
            length = limits.padding.get("length")
            parts.append(f"padding to {length} tokens" if length else "padding to the longest in a batch")
        max_len = limits.model_max_length
        against = f"model_max_length is {max_len}" if max_len is not None else "tokenizer_config.json sets no limit"
        out.append(
            finding(
                "TA216",
                f"{Path(file).name} stores {' and '.join(parts)} ({against}): the tokenizers library "
                f"applies it to every encode on {' and '.join(applying)}, transformers does not",
                where=file,
                detail={
                    "file": file,
                    "truncation": limits.truncation,
                    "padding": limits.padding,
                    "model_max_length": max_len,
                    "applied_by": applying,
                },
            )
        )
    return out
