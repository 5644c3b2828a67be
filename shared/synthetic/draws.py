"""Random draws addressed by (seed, stream, holder, item) rather than drawn in sequence.

A counter-based generator (SplitMix64's finaliser over the address) gives holder n the same
facts whether a million holders are generated at once, in chunks, or holder n alone (as the
registry seed does): no sequence to replay, nothing shared between chunks.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))  # type: ignore[no-any-return]  # numpy's operators are typed loosely


class Draws:
    def __init__(self, seed: int):
        self.seed = seed

    def uniform(self, stream: str, holders: np.ndarray, item: np.ndarray | int = 0) -> np.ndarray:
        """One number in [0, 1) per holder (and item index), the same on every run."""
        key = np.uint64((zlib.crc32(stream.encode()) << 32) ^ (self.seed & 0xFFFFFFFF))
        h = np.asarray(holders).astype(np.uint64)
        j = np.asarray(item).astype(np.uint64)
        x = _mix(h * _GOLDEN + key) ^ (j * np.uint64(0xD1B54A32D192ED03))
        return (_mix(x) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def choice(
        self, stream: str, holders: np.ndarray, weights: Sequence[float] | np.ndarray, item: np.ndarray | int = 0
    ) -> np.ndarray:
        """An index into `weights` per holder, drawn with those relative weights."""
        w = np.asarray(weights, dtype=float)
        cum = np.cumsum(w) / w.sum()
        return np.minimum(np.searchsorted(cum, self.uniform(stream, holders, item), side="right"), len(w) - 1)

    def integers(self, stream: str, holders: np.ndarray, lo: int, hi: int, item: np.ndarray | int = 0) -> np.ndarray:
        """An integer in [lo, hi] per holder."""
        return lo + np.floor(self.uniform(stream, holders, item) * (hi - lo + 1)).astype(np.int64)  # type: ignore[no-any-return]

    def normal(self, stream: str, holders: np.ndarray, item: np.ndarray | int = 0) -> np.ndarray:
        """A standard normal per holder (Box–Muller over two addressed uniforms)."""
        u1 = 1.0 - self.uniform(stream + ":r", holders, item)  # in (0, 1]: the log is finite
        u2 = self.uniform(stream + ":t", holders, item)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)

    def exponential(self, stream: str, holders: np.ndarray, mean: float, item: np.ndarray | int = 0) -> np.ndarray:
        return -mean * np.log(1.0 - self.uniform(stream, holders, item))
