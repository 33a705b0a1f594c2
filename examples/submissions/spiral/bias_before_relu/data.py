"""Seed 000: the spiral data set (K arms, N points each)."""

from __future__ import annotations

import numpy as np


def make_spiral(
    N: int = 100, D: int = 2, K: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """K noisy spiral arms of N points. Returns X (N*K, D), y (N*K,) uint8 labels.

    Arm j has radius r in linspace(0, 1, N) and angle t in linspace(4j, 4(j+1), N)
    plus N(0, 0.2**2) noise; the point is (r sin t, r cos t). D must be 2.
    """
    rng = np.random.RandomState(seed)
    X = np.zeros((N * K, D))
    y = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y
