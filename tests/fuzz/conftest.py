"""Property-based fuzzing: Hypothesis profiles and the one property every fuzz test checks.

Every input gives a report (exit 0 or 1) or exactly one `error: ...` line on stderr with exit 2: never a
traceback, never a hang. The `ci` profile (the default) is derandomized with a bounded example count, so
the suite runs the same examples every time; `TOKAUDIT_FUZZ=long` (scripts/fuzz.sh) draws many more,
with a fresh seed each run. docs/fuzzing.md says what each test draws.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

#: the health checks a file-writing, tokenizer-loading test trips without being wrong
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
#: `long`: this many times each test's `ci` example count (scripts/fuzz.sh)
SCALE = int(os.environ.get("TOKAUDIT_FUZZ_SCALE", "25"))
settings.register_profile(
    "ci",
    derandomize=True,  # the same examples on every run and machine: a CI failure reproduces anywhere
    database=None,
    deadline=timedelta(seconds=30),  # an example that returns this late fails, even if it does return
    suppress_health_check=_SLOW,
    print_blob=True,
)
settings.register_profile(
    "long", derandomize=False, deadline=timedelta(seconds=60), suppress_health_check=_SLOW, print_blob=True
)
PROFILE = os.environ.get("TOKAUDIT_FUZZ", "ci")
settings.load_profile(PROFILE)

#: a hang is an example that runs longer than this (the deadline only judges an example once it returns)
HANG_SECONDS = int(os.environ.get("TOKAUDIT_FUZZ_HANG", "60"))


def budget(ci: int) -> int:
    """A test's example count: `ci` in the suite, SCALE times as many in the long profile."""
    return ci if PROFILE == "ci" else ci * SCALE


class Hang(BaseException):
    """An example ran past HANG_SECONDS (a BaseException, so no `except Exception` in the code under test hides it)."""


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail the example (with where it was stuck in the traceback) if it runs past `seconds`."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def cli(*args: Any) -> Any:
    """Run the real CLI in this process (tokenizers stay in memory between examples) and hold it to the
    property: exit 0 or 1 with a report, or exit 2 with exactly one `error:` line. Returns the result."""
    from typer.testing import CliRunner

    from tokaudit.cli import app

    with no_hang(), _command_once(), _sides_once():
        result = CliRunner().invoke(app, [str(a) for a in args])
    assert_outcome(result.exit_code, result.stderr, result.exception)
    assert result.exit_code == 2 or result.stdout.strip(), "exit 0 or 1 without a report"
    from hypothesis import event
    from hypothesis.control import currently_in_test_context

    # --hypothesis-show-statistics shows how the examples ended: a fuzzer that only ever hits one error is blind
    if currently_in_test_context():
        event(f"exit {result.exit_code}" + (f": {_gist(result.stderr)}" if result.exit_code == 2 else ""))
    return result


_COMMANDS: dict[int, Any] = {}


@contextmanager
def _command_once() -> Iterator[None]:
    """Typer rebuilds the click command from the app's signatures on every invoke (a quarter of a second);
    for fuzzing, build it once (only inside this call, so no other test sees the cache)."""
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is None:
        yield
        return

    def cached(app: Any) -> Any:
        if id(app) not in _COMMANDS:
            _COMMANDS[id(app)] = build(app)
        return _COMMANDS[id(app)]

    typer.testing._get_command = cached
    try:
        yield
    finally:
        typer.testing._get_command = build


_SIDES: dict[str, Any] = {}


@contextmanager
def _sides_once() -> Iterator[None]:
    """An `hf` side loads once per fuzz run and spec (a second each for Mistral 7B): the inputs under test
    are the files and records, not the loading. Only inside this call, so no other test sees the cache."""
    from tokaudit.sources import sides

    load = sides.load_side

    def cached(spec: Any, *args: Any, **kwargs: Any) -> Any:
        if spec.source != "hf":
            return load(spec, *args, **kwargs)
        key = spec.model_dump_json()
        if key not in _SIDES:
            _SIDES[key] = load(spec, *args, **kwargs)
        return _SIDES[key]

    sides.load_side = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        sides.load_side = load  # type: ignore[assignment]


def _gist(stderr: str) -> str:
    """An error line without its paths and values, to count kinds of error."""
    import re

    return re.sub(r"(/\S+|'[^']*'|\d+)", "_", stderr.strip())[:90]


def assert_outcome(code: int, stderr: str, exception: BaseException | None = None) -> None:
    if exception is not None and not isinstance(exception, SystemExit):
        raise exception  # a traceback: the bug itself, with its stack
    assert "Traceback" not in stderr, stderr
    assert code in (0, 1, 2), f"exit {code}: {stderr}"
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {stderr!r}"


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder for one example (pytest's tmp_path is one folder for all of a test's examples)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tokaudit-fuzz-") as folder:
        yield Path(folder)
