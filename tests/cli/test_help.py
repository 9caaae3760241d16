"""`--help` reads as a person writes the command: no bracketed metavars, examples never wrapped."""

from __future__ import annotations

import pytest

from tests.conftest import invoke

COMMANDS = [
    "diff",
    "vocab-check",
    "template-check",
    "mask-check",
    "load-check",
    "rollout-check",
    "check",
    "snapshot",
    "bump",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_usage_and_examples(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Usage: tokaudit {command} [OPTIONS] CONFIG\n" in result.output
    assert "{" not in result.output.split("\n", 1)[0]
    examples = result.output.split("Examples:", 1)[1].strip().splitlines()
    assert examples and all(line.strip().startswith(("tokaudit ", "pip ", "RAY_ADDRESS=")) for line in examples)
