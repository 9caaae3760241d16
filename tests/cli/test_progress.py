"""A long run draws a progress bar on stderr when stderr is a terminal, and never otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import MISTRAL_HF, MISTRAL_SP, side

EXE = Path(sys.executable).parent / "tokaudit"


def _config(cfg, tmp_path: Path):  # type: ignore[no-untyped-def]
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"    return value_{k}\n" for k in range(60_000)), encoding="utf-8")
    return cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(corpus)],
            "builtin_corpus": False,
        }
    )


def _stderr_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the console script with stderr on a pseudo-terminal; stdout goes to /dev/null."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    with open(os.devnull, "w") as null:
        proc = subprocess.Popen([str(EXE), *args], stdout=null, stderr=follower, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower closed: the process is done
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return proc.wait(), out.decode("utf-8", errors="replace")


def test_a_terminal_gets_a_progress_bar(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, err = _stderr_on_a_terminal("diff", str(_config(cfg, tmp_path)), "--workers", "1", "--format", "json")
    assert code == 1
    assert "checking" in err and "samples" in err and "ETA" in err


def test_quiet_and_a_pipe_get_none(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = str(_config(cfg, tmp_path))
    code, err = _stderr_on_a_terminal("diff", config, "--workers", "1", "--format", "json", "--quiet")
    assert code == 1 and "checking" not in err
    done = subprocess.run(
        [str(EXE), "diff", config, "--workers", "1", "--format", "json"], capture_output=True, text=True
    )
    assert done.returncode == 1 and "checking" not in done.stderr and "ETA" not in done.stderr
