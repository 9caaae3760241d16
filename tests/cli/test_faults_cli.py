"""A worker that dies for real (SIGKILL, what the out-of-memory killer sends) mid-run: its shard is retried
once in a fresh worker and the report is the undisturbed run's; a shard that kills every worker ends the
run with one line naming it and the signal, exit 2, no traceback. For `--workers 2` and `--engine ray`.

The killer is the tokenizer itself (tests/pipelines/faulty.py, a `source: python` side): on a marker line
it sends its own process SIGKILL, the first time only (a flag file) or every time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_SP, ROOT, side, write_config

EXE = Path(sys.executable).parent / "tokaudit"
MARKER = "KILL-THE-WORKER"
#: the shard the marker is in: the third corpus file, all of it (one shard, bytes from 0)
POISONED = "c2.txt"


def _corpus(folder: Path) -> list[str]:
    """Four small files, so four shards (one per file) and two workers really share them."""
    names = []
    for n in range(4):
        lines = [f"    return value_{k}" if k % 3 else f"plain words {k}" for k in range(150)]
        if n == 2:
            lines[70] = f"the {MARKER} line"
        path = folder / f"c{n}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        names.append(str(path))
    return names


def _config(folder: Path, flag: Path | None, name: str, action: str = "SIGKILL") -> Path:
    args: dict[str, Any] = {"path": str(MISTRAL_HF), "marker": MARKER, "action": action}
    if flag is not None:
        args["flag"] = str(flag)
    data = {
        "training": {"source": "python", "object": "tests.pipelines.faulty:build", "args": args},
        "serving": side("sentencepiece", MISTRAL_SP, add_bos=True),  # whitespace findings: a report worth comparing
        "corpus": _corpus(folder),
        "builtin_corpus": False,
    }
    return write_config(folder, data, name)


def _pythonpath() -> str:
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def _diff(config: Path, *flags: str) -> tuple[int, dict[str, Any], str]:
    # --engine ray: a local Ray started by tokaudit itself; the repo on the path so the config's
    # `tests.pipelines.faulty` imports (in tokaudit, its worker processes and Ray's)
    env = {**os.environ, "RAY_ADDRESS": "", "PYTHONPATH": _pythonpath()}
    done = subprocess.run(
        [str(EXE), "diff", str(config), "--format", "json", "--quiet", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=config.parent,
    )
    report = json.loads(done.stdout) if done.stdout.startswith("{") else {}
    return done.returncode, report, done.stderr


@pytest.fixture(scope="module")
def once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """A config whose marker kills the first worker that meets it, and the report of an undisturbed run
    of that very config (the flag already set: nobody dies)."""
    folder = tmp_path_factory.mktemp("once")
    flag = folder / "died"
    config = _config(folder, flag, "once.yaml")
    flag.write_text("nobody", encoding="utf-8")
    code, report, err = _diff(config, "--workers", "2")
    assert code == 1, err
    assert report["summary"]["samples_compared"] == 600 and report["findings"]
    flag.unlink()
    return config, flag, report


@pytest.fixture(scope="module")
def always(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _config(tmp_path_factory.mktemp("always"), None, "always.yaml")


def _killed_for_real(flag: Path) -> None:
    # the flag holds the pid of the worker that killed itself: it is gone, and it was not tokaudit's own
    pid = int(flag.read_text(encoding="utf-8"))
    assert not Path(f"/proc/{pid}").exists()


ENGINES = {
    "workers": ["--workers", "2"],
    "ray": ["--engine", "ray", "--workers", "2"],
}


def _engine(name: str) -> list[str]:
    if name == "ray":
        pytest.importorskip("ray", reason="the `ray` extra (scripts/test.sh installs it in .venv)")
    return ENGINES[name]


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_worker_killed_mid_shard_is_retried_and_the_report_is_the_undisturbed_one(once, engine: str) -> None:
    config, flag, undisturbed = once
    flag.unlink(missing_ok=True)
    code, report, err = _diff(config, *_engine(engine))
    assert flag.exists(), "the marker never killed a worker"
    _killed_for_real(flag)
    assert code == 1, err
    assert "Traceback" not in err
    assert report["summary"] == undisturbed["summary"]
    assert report["findings"] == undisturbed["findings"]
    assert report == undisturbed


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_shard_that_kills_every_worker_is_one_line_and_exit_2(always: Path, engine: str) -> None:
    code, report, err = _diff(always, *_engine(engine))
    assert code == 2, err
    assert report == {}
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in err
    assert f"{POISONED} bytes 0-" in line and "corpus[2]" in line  # the shard: config key, file, byte range
    assert "--workers" in line and "--sample" in line  # the hint
    if engine == "workers":
        assert "killed by SIGKILL" in line  # the signal, from the dead process's exit code
    else:
        assert "a Ray actor died" in line  # Ray does not say which signal


def test_a_segfault_in_a_worker_is_named_by_its_signal(tmp_path: Path) -> None:
    config = _config(tmp_path, None, "segv.yaml", action="SIGSEGV")
    code, _, err = _diff(config, "--workers", "2")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "killed by SIGSEGV" in err and POISONED in err
