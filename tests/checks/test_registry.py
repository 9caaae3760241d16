"""Every registered check runs through the runner, and `check` picks the checks a config has inputs for."""

from __future__ import annotations

from tests.conftest import FIXTURES, MISTRAL_HF, MISTRAL_SP, side
from tokaudit.checks.registry import CHECKS, checks_for
from tokaudit.config import load_config


def test_every_registered_check_is_a_cli_command() -> None:
    from tokaudit.cli import app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    assert set(CHECKS) <= commands and "check" in commands and "snapshot" in commands


def test_checks_for_follows_the_inputs(cfg) -> None:  # type: ignore[no-untyped-def]
    base = {"training": side("sentencepiece", MISTRAL_SP), "serving": side("hf", MISTRAL_HF)}
    assert checks_for(load_config(cfg(base))) == ["diff", "vocab-check"]
    chat = {**base, "conversations": str(FIXTURES / "chats" / "mistral.jsonl")}
    assert checks_for(load_config(cfg(chat))) == ["diff", "vocab-check", "template-check"]
    mask = {**chat, "mask": {"strategy": "fastchat"}}
    assert checks_for(load_config(cfg(mask))) == ["diff", "vocab-check", "template-check", "mask-check"]
    loads = {**mask, "load_check": {"threads": 2}}
    assert checks_for(load_config(cfg(loads))) == [n for n in CHECKS if n != "rollout-check"]
    dump = FIXTURES / "rollouts" / "qwen3-tools.jsonl"
    rollouts = {**loads, "rollouts": {"path": str(dump), "turns": "turns"}}
    assert checks_for(load_config(cfg(rollouts))) == list(CHECKS)
