"""vocab-check on a side read from a GGUF (`gguf`, `llama.cpp`): what its metadata says the tokenizer is.

TA219 the embedding tensor's rows against the vocabulary, TA220 the pre-tokenizer llama.cpp picked,
TA221 the BOS / EOS flags against what the other side adds. The summary reports each GGUF's metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokaudit.checks.vocab.view import View
from tokaudit.codes import finding
from tokaudit.findings import Finding
from tokaudit.sources.capabilities import GgufBacked, GgufFacts

#: the pre-tokenizer names that mean "no known one": llama.cpp then splits with GPT-2's regex
FALLBACK_PRE = (None, "default")


def gguf_findings(views: list[View]) -> tuple[list[Finding], dict[str, Any]]:
    findings: list[Finding] = []
    summary: dict[str, Any] = {}
    for view, other in ((views[0], views[1]), (views[1], views[0])):
        if not isinstance(view.tok, GgufBacked):
            continue
        facts = view.tok.gguf_facts()
        summary[f"{view.name}_gguf"] = _summary(facts)
        findings += _rows(view, facts) + _pre(view, facts) + _flags(view, other, facts)
    return findings, summary


def _summary(facts: GgufFacts) -> dict[str, Any]:
    unset = "unset"
    return {
        "file": Path(facts.path).name,
        "architecture": facts.architecture,
        "tokenizer": facts.model,
        "pre": facts.pre if facts.pre is not None else "missing",
        "tokens": facts.tokens,
        "embedding_rows": facts.embedding_rows if facts.embedding_rows is not None else "none (vocab-only file)",
        "add_bos_token": facts.add_bos if facts.add_bos is not None else unset,
        "add_eos_token": facts.add_eos if facts.add_eos is not None else unset,
        "bos_id": facts.bos_id if facts.bos_id is not None else unset,
        "eos_id": facts.eos_id if facts.eos_id is not None else unset,
        "pad_id": facts.pad_id if facts.pad_id is not None else unset,
    }


def _rows(view: View, facts: GgufFacts) -> list[Finding]:
    rows = facts.embedding_rows
    if rows is None or rows >= facts.tokens:
        return []
    return [
        finding(
            "TA219",
            f"{Path(facts.path).name} lists {facts.tokens} tokens but its token_embd.weight has {rows} rows: "
            f"ids {rows}..{facts.tokens - 1} have no embedding",
            where=view.name,
            detail={"side": view.name, "file": facts.path, "tokens": facts.tokens, "embedding_rows": rows},
        )
    ]


def _pre(view: View, facts: GgufFacts) -> list[Finding]:
    if facts.model != "gpt2" or facts.pre not in FALLBACK_PRE:
        return []
    said = "missing" if facts.pre is None else f"'{facts.pre}'"
    return [
        finding(
            "TA220",
            f"{Path(facts.path).name} is a BPE vocabulary whose tokenizer.ggml.pre is {said}: llama.cpp splits "
            "text with the GPT-2 fallback regex, not the model's own",
            where=view.name,
            detail={"side": view.name, "file": facts.path, "pre": facts.pre, "tokenizer": facts.model},
        )
    ]


def _flags(view: View, other: View, facts: GgufFacts) -> list[Finding]:
    out = []
    adds = dict(zip(("bos", "eos"), other.tok.bos_eos_defaults()))
    for role, flag in (("bos", facts.add_bos), ("eos", facts.add_eos)):
        if flag is None or flag == adds[role]:
            continue  # an unset flag leaves it to llama.cpp's per-vocabulary default: nothing to compare
        tid = facts.bos_id if role == "bos" else facts.eos_id
        token = f" ({view.tok.piece(tid)!r}, id {tid})" if tid is not None else ""
        asks, does = ("asks for", "adds none") if flag else ("says not to add", "adds one")
        out.append(
            finding(
                "TA221",
                f"{Path(facts.path).name} {asks} {role.upper()}{token} (tokenizer.ggml.add_{role}_token = "
                f"{str(flag).lower()}); {other.name} {does}",
                where=view.name,
                detail={"side": view.name, "file": facts.path, "role": role, "flag": flag, "other_adds": adds[role]},
            )
        )
    return out
