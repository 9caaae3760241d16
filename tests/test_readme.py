"""The README's first two commands are the ones CI and a new user run."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    demo, test = _commands()[:2]
    assert "tokaudit diff configs/" in demo
    assert test == "./scripts/test.sh" and "pytest" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_demo_config_exists() -> None:
    demo = _commands()[0]
    config = re.search(r"tokaudit diff (\S+)", demo)
    assert config and (ROOT / config.group(1)).is_file()
