"""Whole-column draws: numpy arrays of uniform floats, turned into the values a builder needs
for all its rows at once (a Python call per row and value was most of the generator's time).

Only ``Generator.random`` is drawn (uniform doubles, PCG64): every other value is derived from
them here, the way FastRandom derives its integers (``int(u * n)``), so the output depends on
no numpy sampling routine but the plainest one. numpy is pinned (pyproject.toml): the same seed
gives the same arrays.
"""

import hashlib
import math

import numpy as np


def column_rng(seed_text: str) -> np.random.Generator:
    """A numpy stream seeded from text (as Output.rng's streams are): sha256 of the text."""
    return np.random.Generator(np.random.PCG64(int.from_bytes(hashlib.sha256(seed_text.encode()).digest(), "little")))


def below(rng: np.random.Generator, n, size: int) -> np.ndarray:
    """Integers in [0, n) (n a number or an array of them, one per draw): int(u * n)."""
    return (rng.random(size) * n).astype(np.int64)


def poisson_counts(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """Poisson draws by the inverse of the distribution function (the means here are small)."""
    ks = np.arange(int(mean * 4 + 30))
    log_pmf = ks * math.log(mean) - mean - np.array([math.lgamma(k + 1) for k in ks])
    cdf = np.cumsum(np.exp(log_pmf))
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int64)


def distinct_picks(rng: np.random.Generator, pool: int, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """counts[i] distinct items of range(pool) for each row i, in random order: (row of each pick,
    the pick), rows in order. The first counts[i] places of a random permutation per row."""
    rows = len(counts)
    order = np.argsort(rng.random((rows, pool), dtype=np.float32), axis=1, kind="stable")
    keep = np.arange(pool)[None, :] < counts[:, None]
    row_of = np.broadcast_to(np.arange(rows)[:, None], (rows, pool))
    return row_of[keep], order[keep]


_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]


def clock(seconds: int) -> str:
    """HH:MM:SS of a second of the day."""
    return _CLOCK[seconds]
