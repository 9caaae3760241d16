"""A tokenizer that misbehaves for real on a marker text, otherwise the faithful tokenizers-library wrapper.

`action`: a signal name (`SIGKILL`, what the out-of-memory killer sends; `SIGSEGV`) its process sends
itself, or `stall`: write `flag` and sleep, so a test knows the run is mid-way and can interrupt it.
`flag`: with a signal, the first process to meet the marker creates the file and dies and later ones
encode normally (a shard whose retry succeeds); without `flag` every process that meets the marker dies.
"""

from __future__ import annotations

import os
import signal
import time

from tests.pipelines.faithful import Faithful


class Faulty(Faithful):
    def __init__(self, path: str, marker: str, flag: str | None = None, action: str = "SIGKILL") -> None:
        super().__init__(path)
        self.marker, self.flag, self.action = marker, flag, action

    def _meet(self, texts: list[str]) -> None:
        if not any(self.marker in t for t in texts):
            return
        if self.action == "stall":
            assert self.flag is not None
            with open(self.flag, "w", encoding="utf-8") as fh:
                fh.write(str(os.getpid()))
            time.sleep(120)
            return
        if self.flag is not None:
            try:
                with open(self.flag, "x", encoding="utf-8") as fh:  # atomic: exactly one process dies
                    fh.write(str(os.getpid()))
            except FileExistsError:
                return
        os.kill(os.getpid(), signal.Signals[self.action])

    def encode(self, text: str) -> list[int]:
        self._meet([text])
        return super().encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        self._meet(texts)
        return super().encode_batch(texts)


def build(path: str, marker: str, flag: str | None = None, action: str = "SIGKILL") -> Faulty:
    return Faulty(path, marker, flag, action)
