"""The pre-commit hooks other repositories use call real tokaudit commands."""

from __future__ import annotations

import shlex

import yaml

from tests.conftest import ROOT
from tokaudit.cli import app


def test_hooks_are_valid_and_call_existing_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {h["id"] for h in hooks} == {"tokaudit-check", "tokaudit-snapshot-gate"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        argv = shlex.split(hook["entry"])
        assert argv[0] == "tokaudit" and argv[1] in commands
        assert hook["pass_filenames"] is False  # tokaudit takes a config, not the changed files
