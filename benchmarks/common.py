"""What the benchmark scripts share: the scratch folder, the mixed corpus, config writing, timing
(and measuring) a whole process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / ".data"  # generated corpora and configs (git-ignored)
FIX = Path(__file__).resolve().parent.parent / "fixtures"

WORDS = (
    "the model was trained on web text code and books tokenizer serving training pipeline loss "
    "gradient token boundary vocabulary merges prefix space whitespace normalization unicode "
    "research engineering data quality evaluation benchmark results improve accuracy"
).split()
EXTRA = [
    "東京は日本の首都です。人口は約1400万人です。",
    "Привет, мир! Это тест токенизатора.",
    "مرحبا بكم في اختبار المحلل اللغوي",
    "Emoji run: 🚀🔥💯 and skin tones 👋🏻👋🏿",
    "def f(x: int) -> int:\n    return x ** 2  # square",
    "Prices rose 3.75% in Q3 2024, from $1,299.99 to $1,348.71.",
    "Café, naïve, façade, résumé — words with diacritics.",
]


def make_corpus(mb: float) -> Path:
    """A deterministic mixed corpus of about `mb` megabytes, one sample (~1 KB) per line: prose,
    numbers, CJK, Cyrillic, Arabic, emoji, code and lines of the shipped mixed corpus."""
    DATA.mkdir(exist_ok=True)
    out = DATA / f"corpus-{mb:g}mb.txt"
    if out.exists():
        return out
    rng = random.Random(0)
    shipped = [line for line in (FIX / "corpus/mixed.txt").read_text(encoding="utf-8").splitlines() if line]
    target = int(mb * 1_000_000)
    size = 0
    with out.open("w", encoding="utf-8") as fh:
        while size < target:
            parts: list[str] = []
            while sum(len(p) for p in parts) < 900:
                roll = rng.random()
                if roll < 0.75:
                    n = rng.randint(6, 20)
                    parts.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
                elif roll < 0.85:
                    parts.append(str(rng.randint(0, 10**9)) + "." + str(rng.randint(0, 999)))
                elif roll < 0.95:
                    parts.append(rng.choice(EXTRA).replace("\n", " "))
                else:
                    parts.append(rng.choice(shipped))
            line = " ".join(parts)
            fh.write(line + "\n")
            size += len(line.encode("utf-8")) + 1
    return out


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


@dataclass(frozen=True)
class Measured:
    """One whole process: wall seconds, CPU seconds (user + sys, its waited-for children included),
    peak RSS in bytes (of the largest process in its tree), and what it printed to stdout."""

    wall: float
    cpu: float
    rss: int
    stdout: str


def measure(cmd: list[str], ok: tuple[int, ...]) -> Measured:
    """`timed`, plus the process's own rusage (os.wait4 reports this child alone, not earlier ones)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            err.seek(0)
            tail = err.read()[-2000:].decode("utf-8", errors="replace")
            sys.exit(f"{' '.join(cmd[:4])} ... exited {code}:\n{tail}")
        out.seek(0)
        # ru_maxrss is in KiB on Linux
        return Measured(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.read().decode())
