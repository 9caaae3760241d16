"""Zstandard streams decoded in bounded chunks, with a cut-off file noticed at its end.

`zstandard`'s stream_reader bounds each read, but ends quietly when the input stops inside a frame;
its decompressobj notices that, but returns a whole frame's output at once (a 5 kB frame of repeated
lines can hold 50 MB). So the reader decodes with stream_reader and follows the frame layout (RFC
8878: frame headers, block headers, checksums, skippable frames) of the bytes it hands over, which
costs a few header bytes per 128 kB block.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from tokaudit.readers.base import one_line

_MAGIC = 0xFD2FB528
_SKIPPABLE = range(0x184D2A50, 0x184D2A60)
_NEED = {"magic": 4, "descriptor": 1, "block": 3, "checksum": 4, "skippable": 4}


class ZstdCorrupt(Exception):
    """The zstd data cannot be decoded, or ends inside a frame."""


class _FrameWalker:
    """A pass-through reader that tracks where in the zstd frame layout its bytes end."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._state = "magic"
        self._need = 4
        self._head = b""
        self._skip = 0
        self._after = "magic"
        self._checksum = False

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._feed(data)
        return data

    @property
    def between_frames(self) -> bool:
        return self._state == "magic" and not self._head and not self._skip

    def _feed(self, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            if self._skip:
                take = min(self._skip, len(data) - pos)
                self._skip -= take
                pos += take
                if not self._skip:
                    self._goto(self._after)
                continue
            take = min(self._need - len(self._head), len(data) - pos)
            self._head += data[pos : pos + take]
            pos += take
            if len(self._head) == self._need:
                head, self._head = self._head, b""
                self._header(head)

    def _goto(self, state: str, need: int | None = None) -> None:
        self._state, self._need = state, need if need is not None else _NEED[state]

    def _payload(self, size: int, then: str) -> None:
        self._after = then
        self._skip = size
        if not size:
            self._goto(then)

    def _header(self, head: bytes) -> None:
        value = int.from_bytes(head, "little")
        if self._state == "magic":
            if value == _MAGIC:
                self._goto("descriptor")
            elif value in _SKIPPABLE:
                self._goto("skippable")
            else:
                raise ZstdCorrupt("not zstd data (unknown frame magic number)")
        elif self._state == "descriptor":
            single = value >> 5 & 1
            self._checksum = bool(value >> 2 & 1)
            rest = (0 if single else 1) + (0, 1, 2, 4)[value & 3] + (single, 2, 4, 8)[value >> 6]
            if rest:
                self._goto("rest", rest)
            else:
                self._goto("block")
        elif self._state == "rest":
            self._goto("block")
        elif self._state == "block":
            kind, size = value >> 1 & 3, value >> 3
            if kind == 3:
                raise ZstdCorrupt("corrupt block header")
            end = "checksum" if self._checksum else "magic"
            self._payload(1 if kind == 1 else size, end if value & 1 else "block")
        elif self._state == "checksum":
            self._goto("magic")
        else:  # the size of a skippable frame
            self._payload(value, "magic")


def zstd_chunks(raw: BinaryIO, size: int) -> Iterator[bytes]:
    """The decoded bytes of `raw`, at most `size` at a time; ZstdCorrupt when it is not whole zstd."""
    import zstandard

    walker = _FrameWalker(raw)
    source = cast(IO[bytes], walker)  # stream_reader only calls read()
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_size=size, read_across_frames=True)
    while True:
        try:
            chunk = reader.read(size)
        except zstandard.ZstdError as exc:
            raise ZstdCorrupt(one_line(exc)) from exc
        if not chunk:
            break
        yield chunk
    if not walker.between_frames:
        raise ZstdCorrupt("the data ends inside a frame (a truncated file?)")
