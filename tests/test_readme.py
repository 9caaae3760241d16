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


def test_the_quick_start_shows_init_then_check() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```sh\n(.+?)\n```", quick, re.S) if "tokaudit init" in b]
    assert blocks, "the quick start has no `tokaudit init` block"
    lines = [line.split("#")[0].split() for line in blocks[0].splitlines()]
    assert lines[0][:2] == ["tokaudit", "init"] and "-o" not in lines[0]  # writes the default tokaudit.yaml
    assert lines[1] == ["tokaudit", "check", "tokaudit.yaml"]
