"""What the benchmark scripts share: the scratch folder, config writing, timing a whole process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / ".data"  # generated corpora and configs (git-ignored)


def write_config(name: str, spec: dict[str, Any]) -> Path:
    """Write a tokaudit config into DATA and return its path."""
    import yaml

    DATA.mkdir(exist_ok=True)
    path = DATA / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def timed(cmd: list[str], ok: tuple[int, ...]) -> float:
    """Wall time of one process; exits with its stderr when it fails (exit code not in `ok`)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed
