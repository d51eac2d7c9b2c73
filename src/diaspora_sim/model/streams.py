"""Named random streams derived from one seed, for reproducibility and common random numbers.

Every draw a rule makes is ``u = draw(key, row)``: a uniform on [0, 1) for one agent row,
where ``key`` belongs to one (seed, stream name, month). The draw is a counter-based random
number: SplitMix64's output function (Steele, Lea and Flood 2014) applied to the key plus the
row times the golden-ratio increment, so row ``i`` of a stream is the ``i``-th output of a
SplitMix64 generator seeded with the key (a generator that passes the BigCrush test battery).
Keys come from NumPy's ``SeedSequence`` of (seed, CRC32 of the name, month), so streams are
statistically independent.

Because a draw depends only on (seed, stream, month, row), and rows keep their place (sorted by
departure month), agent ``i`` gets the same number in every scenario run with the same seed,
however the scenarios' policies differ: common random numbers, for paired scenario comparisons
with low variance. A rule computes draws only for the rows it concerns (inside the compiled
kernels, without building arrays), and no draw depends on how many draws other rules made.
"""

from __future__ import annotations

import zlib

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)
_TO_UNIT = np.float32(2.0**-24)


@njit(cache=True)
def draw(key: np.uint64, row: int) -> np.float32:
    """The uniform on [0, 1) of agent `row` in the stream with `key` (24 random bits, float32)."""
    z = key + np.uint64(row + 1) * _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float32(z >> _S40) * _TO_UNIT


@njit(cache=True)
def _draws(key: np.uint64, rows: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows), np.float32)
    for k in range(len(rows)):
        out[k] = draw(key, rows[k])
    return out


class Streams:
    """Independent, reproducible random streams, one per purpose and month."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def generator(self, name: str, month: int = -1) -> np.random.Generator:
        """A NumPy generator for stream `name` and `month` (-1: not tied to a month), for draws
        that are not one per agent row (the population's attributes).
        """
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self._entropy(name, month))))

    def key(self, name: str, month: int) -> np.uint64:
        """The key of stream `name` in `month`, for `draw(key, row)` in compiled kernels."""
        return np.random.SeedSequence(self._entropy(name, month)).generate_state(1, np.uint64)[0]

    def draws(self, name: str, month: int, rows: np.ndarray) -> np.ndarray:
        """The uniforms of agent `rows` in stream `name` and `month` (float32)."""
        return _draws(self.key(name, month), np.asarray(rows, np.int64))

    def uniform(self, name: str, month: int, n: int) -> np.ndarray:
        """The uniforms of agent rows 0 .. n-1: element i belongs to agent row i."""
        return self.draws(name, month, np.arange(n))

    def _entropy(self, name: str, month: int) -> list[int]:
        return [self.seed, zlib.crc32(name.encode()), month + 1]
