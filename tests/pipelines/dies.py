"""A tokenizer whose process dies for real on a marker text: a SIGKILL of its own process, what the
out-of-memory killer does to a worker mid-shard. Otherwise the faithful tokenizers-library wrapper.

`flag`: a file; the first process to meet the marker creates it and dies, later ones encode normally
(a shard whose retry succeeds). Without `flag` every process that meets the marker dies.
"""

from __future__ import annotations

import os
import signal

from tests.pipelines.faithful import Faithful


class Dies(Faithful):
    def __init__(self, path: str, marker: str, flag: str | None = None, signal: str = "SIGKILL") -> None:
        super().__init__(path)
        self.marker, self.flag, self.signal = marker, flag, signal

    def _meet(self, texts: list[str]) -> None:
        if not any(self.marker in t for t in texts):
            return
        if self.flag is not None:
            try:
                with open(self.flag, "x", encoding="utf-8") as fh:  # atomic: one process only dies
                    fh.write(str(os.getpid()))
            except FileExistsError:
                return
        os.kill(os.getpid(), signal.Signals[self.signal])

    def encode(self, text: str) -> list[int]:
        self._meet([text])
        return super().encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        self._meet(texts)
        return super().encode_batch(texts)


def build(path: str, marker: str, flag: str | None = None, signal: str = "SIGKILL") -> Dies:
    return Dies(path, marker, flag, signal)
