"""Writes are all-or-nothing: a run interrupted mid-way (SIGINT, SIGKILL, sent to the real `tokaudit`
process) leaves an existing report, baseline and lock byte-identical and no `.tokaudit-*` temporary; Ctrl-C
is one line and exit 130. A write that fails (a file size limit, for real) keeps the old file too.

The run is stopped at a known point: the training side (tests/pipelines/faulty.py, `action: stall`)
writes a flag file when it meets a marker line, then sleeps; the test waits for the flag.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_SP, ROOT, side, write_config

EXE = Path(sys.executable).parent / "tokaudit"
MARKER = "STALL-HERE"
OLD = '{"an existing file": "that an interrupted run must leave as it is"}\n'

#: how each kind of file is written: the command and flags that name it
WRITERS = {
    "report": lambda out: ["diff", "--format", "json", "-o", str(out)],
    "baseline": lambda out: ["diff", "--write-baseline", str(out)],
    "lock": lambda out: ["snapshot", "-o", str(out)],
}


def _config(folder: Path, flag: Path, *more: Path) -> Path:
    corpus = folder / "corpus.txt"
    lines = [f"    return value_{k}" for k in range(50)]
    lines[25] = f"the {MARKER} line"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    training = {
        "source": "python",
        "object": "tests.pipelines.faulty:build",
        "args": {"path": str(MISTRAL_HF), "marker": MARKER, "flag": str(flag), "action": "stall"},
    }
    data = {
        "training": training,
        "serving": side("sentencepiece", MISTRAL_SP, add_bos=True),
        "corpus": [str(corpus), *map(str, more)],
        "builtin_corpus": False,
    }
    return write_config(folder, data)


def _interrupt(config: Path, flag: Path, args: list[str], sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start `tokaudit args`, wait until it is mid-run (the flag), send `sig`, return how it ended."""
    folder = config.parent
    proc = subprocess.Popen(
        [str(EXE), args[0], str(config), *args[1:]],
        cwd=folder,
        # the repo on the path, so the config's `tests.pipelines.faulty` imports from the config's folder
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        while not flag.exists() or not flag.read_text(encoding="utf-8"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the marker"
            time.sleep(0.1)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tokaudit-"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("kind", list(WRITERS))
def test_an_interrupted_run_leaves_an_existing_file_byte_identical(
    tmp_path: Path, kind: str, sig: signal.Signals
) -> None:
    target = tmp_path / f"{kind}.json"
    target.write_text(OLD, encoding="utf-8")
    before = target.read_bytes()
    flag = tmp_path / "mid-run"
    done = _interrupt(_config(tmp_path, flag), flag, WRITERS[kind](target), sig)
    assert target.read_bytes() == before
    assert _temporaries(tmp_path) == []
    if sig == signal.SIGKILL:
        assert done.returncode == -signal.SIGKILL
        return
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["error: interrupted"]
    assert done.stdout == ""


def test_ctrl_c_with_worker_processes_is_one_line_and_stops_the_workers(tmp_path: Path) -> None:
    # two corpus files, so two shards and two workers; the stalled one is a worker, not tokaudit itself
    other = tmp_path / "other.txt"
    other.write_text("plain words\n" * 50, encoding="utf-8")
    flag = tmp_path / "mid-run"
    config = _config(tmp_path, flag, other)
    target = tmp_path / "report.json"
    target.write_text(OLD, encoding="utf-8")
    done = _interrupt(config, flag, ["diff", "--workers", "2", "-o", str(target)], signal.SIGINT)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["error: interrupted"]  # no worker's traceback either
    worker = int(flag.read_text(encoding="utf-8"))
    assert not Path(f"/proc/{worker}").exists()  # stopped, not left sleeping
    assert target.read_text(encoding="utf-8") == OLD and _temporaries(tmp_path) == []


def test_a_write_that_fails_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    """A real failed write: the file size limit (RLIMIT_FSIZE) makes the kernel refuse it mid-way."""
    target = tmp_path / "report.json"
    target.write_text(OLD, encoding="utf-8")
    code = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from tokaudit.errors import TokauditError\n"
        "from tokaudit.output import write_file\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    write_file('x' * 100_000, Path(sys.argv[1]))\n"
        "except TokauditError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{target}: cannot write: File too large")
    assert target.read_text(encoding="utf-8") == OLD
    assert _temporaries(tmp_path) == []
    assert os.listdir(tmp_path) == ["report.json"]
