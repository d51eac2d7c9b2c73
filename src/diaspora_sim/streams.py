"""Named random streams derived from one seed, for reproducibility and common random numbers.

Every draw a rule makes comes from ``Streams.uniform(name, month, n)``: a fresh generator keyed
by (seed, stream name, month) that yields one number per agent row. Because rows keep their
place (sorted by departure month) and each (rule, month) has its own stream, agent ``i`` gets
the same number in every scenario run with the same seed, however the scenarios' policies
differ: common random numbers, for paired scenario comparisons with low variance. The draw
does not depend on how many draws other rules made, so changing one rule does not reshuffle
the others.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """Independent, reproducible random streams, one per purpose and month."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._month = None  # the month whose draws are cached (rules may ask for a stream twice)
        self._cache: dict[str, np.ndarray] = {}

    def generator(self, name: str, month: int = -1) -> np.random.Generator:
        """The generator of stream `name` for `month` (-1: not tied to a month)."""
        key = [self.seed, zlib.crc32(name.encode()), month + 1]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))

    def uniform(self, name: str, month: int, n: int) -> np.ndarray:
        """`n` uniforms on [0, 1): element i belongs to agent row i (read-only)."""
        if month != self._month:
            self._month, self._cache = month, {}
        draws = self._cache.get(name)
        if draws is None or len(draws) < n:
            draws = self.generator(name, month).random(n, dtype=np.float32)
            draws.flags.writeable = False
            self._cache[name] = draws
        return draws[:n]
