"""A reproducible uniform sample of a stream whose length is not known in advance."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def sample_stream(items: Iterable[T], n: int, seed: int) -> list[T]:
    """`n` items drawn uniformly from `items` (all of them, in order, when there are at most `n`),
    returned in stream order. The same items, `n` and `seed` always give the same sample; memory is
    O(n) (reservoir sampling, Algorithm R, with `random.Random(seed)`)."""
    if n <= 0:
        return []
    rng = random.Random(seed)
    reservoir: list[tuple[int, T]] = []
    for i, item in enumerate(items):
        if i < n:
            reservoir.append((i, item))
        else:
            j = rng.randrange(i + 1)
            if j < n:
                reservoir[j] = (i, item)
    reservoir.sort(key=lambda pair: pair[0])
    return [item for _, item in reservoir]
