"""Every check gives the same findings with its sides in a worker (`python:`) as in this process.

The worker runs this very interpreter (sys.executable), so any difference is the transport's: a capability
lost on the way (isinstance), a per-token read that came back different, an Assembly used by handle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS_TXT, FIXTURES, MISTRAL_HF, MISTRAL_SP, invoke, side, write_config

TEMPLATES = FIXTURES / "templates"
CHATS = FIXTURES / "chats"

#: FastChat's Vicuna format on SentencePiece (training) and the fast tokenizer (serving), with a corpus:
#: `check` runs diff (with the ablation: a Converted side and a Pipeline side), vocab-check, template-check
#: and mask-check on it
FASTCHAT = {
    "training": side(
        "sentencepiece",
        MISTRAL_SP,
        add_bos=True,
        special_text="parse",
        chat_template=str(TEMPLATES / "fastchat-vicuna.jinja"),
    ),
    "serving": side(
        "hf", MISTRAL_HF, chat_template=str(TEMPLATES / "fastchat-vicuna.jinja"), chat_add_special_tokens=True
    ),
    "corpus": [str(CORPUS_TXT)],
    "conversations": str(CHATS / "mask-fastchat.jsonl"),
    "mask": {"strategy": "fastchat", "max_length": 4096},
}
#: mistral-common's chat encoder (ChatEncoder) against a Jinja template rendered there
INSTRUCT = {
    "training": side("mistral-common", MISTRAL_SP, chat_template="mistral-common"),
    "serving": side("hf", MISTRAL_HF, chat_template=str(TEMPLATES / "mistral-instruct.jinja")),
    "conversations": str(CHATS / "mistral.jsonl"),
}
#: transformers' own assistant masks (AssistantMasker), across the boundary, with cuts to find
GENERATION = {
    "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
    "serving": side("hf", MISTRAL_HF, chat_template=str(TEMPLATES / "mistral-instruct-generation.jinja")),
    "conversations": str(CHATS / "mask-dataset.jsonl"),
    "mask": {"strategy": "generation", "max_length": 24},  # cuts: TA404
}

#: a rollout dump (rollout-check: decode_all / encode_rendered_all and the Jinja rendering in the worker)
QWEN3 = {"source": "hf", "path": str(FIXTURES / "qwen2-hf"), "chat_template": str(TEMPLATES / "Qwen-Qwen3-0.6B.jinja")}
ROLLOUTS = {
    "training": QWEN3,
    "serving": dict(QWEN3),
    "rollouts": {
        "path": str(FIXTURES / "rollouts" / "qwen3-tools.jsonl"),
        "messages": "messages",
        "turns": "turns",
        "tools": "tools",
    },
}


def remote(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, **{n: {**config[n], "python": sys.executable} for n in ("training", "serving")}}


def run(tmp_path: Path, name: str, config: dict[str, Any], *args: str) -> tuple[int, dict[str, Any]]:
    path = write_config(tmp_path, config, f"{name}.yaml")
    result = invoke(*args[:1], path, *args[1:], "--format", "json", "--examples", "1000")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    header = report["header"]
    sides = {n: {k: v for k, v in s.items() if k != "python"} for n, s in header["sides"].items()}
    return {**report, "header": {**header, "config": None, "sides": sides}}


@pytest.mark.parametrize(
    ("name", "config", "command"),
    [
        ("fastchat", FASTCHAT, "check"),
        ("instruct", INSTRUCT, "template-check"),
        ("generation", GENERATION, "mask-check"),
        ("rollouts", ROLLOUTS, "rollout-check"),
    ],
)
def test_each_check_finds_the_same_across_the_boundary(
    tmp_path: Path, name: str, config: dict[str, Any], command: str
) -> None:
    here_code, here = run(tmp_path, f"{name}-here", config, command)
    there_code, there = run(tmp_path, f"{name}-there", remote(config), command)
    assert there_code == here_code
    assert here["findings"], "the config finds nothing: the comparison would prove little"
    assert comparable(there) == comparable(here)
    for n in ("training", "serving"):
        assert there["header"]["sides"][n]["python"]["path"] == sys.executable
        assert "python" not in here["header"]["sides"][n]
    if command == "check":
        assert set(there["summary"]["checks"]) >= {"diff", "vocab-check", "template-check", "mask-check"}
        components = [f["detail"].get("component") for f in there["findings"] if f["code"].startswith("TA1")]
        assert any(components), "diff's ablation ran on Assemblies held by the workers"


def test_snapshot_records_the_same_ids_and_the_interpreter(tmp_path: Path) -> None:
    locks = {}
    for name, config in (("here", FASTCHAT), ("there", remote(FASTCHAT))):
        lock = tmp_path / f"{name}.lock.json"
        path = write_config(tmp_path, config, f"{name}.yaml")
        result = invoke("snapshot", path, "-o", lock)
        assert result.exit_code == 0, result.output
        locks[name] = json.loads(lock.read_text(encoding="utf-8"))
    here, there = locks["here"], locks["there"]
    assert there["samples"] and there["samples"] == here["samples"] and there["ids"] == here["ids"]
    for n in ("training", "serving"):
        recorded = there["sides"][n].pop("python")
        assert recorded["path"] == sys.executable and recorded["packages"]["transformers"]
        assert there["sides"][n] == here["sides"][n]
