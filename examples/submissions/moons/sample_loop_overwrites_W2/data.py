"""Seed 002: the two-moons data set, and a three-class set for the exercise."""

from __future__ import annotations

import numpy as np
import sklearn.datasets


def make_moons_data(
    n_samples: int = 200, noise: float = 0.20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Same points as the seed's ``np.random.seed(0); make_moons(200, noise=0.20)``.

    A private RandomState(seed) draws exactly what the seeded global state would,
    without touching it. Returns X (n_samples, 2), y (n_samples,) in {0, 1}.
    """
    X, y = sklearn.datasets.make_moons(
        n_samples, noise=noise, random_state=np.random.RandomState(seed)
    )
    return X, y


def make_three_class_data(
    n_samples: int = 300, noise: float = 0.20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two moons plus a third class: a blob below them, for the three-class exercise.

    Returns X (n_samples, 2), y (n_samples,) in {0, 1, 2}; the blob takes a third of the points.
    """
    rng = np.random.RandomState(seed)
    n_blob = n_samples // 3
    X_moons, y_moons = sklearn.datasets.make_moons(
        n_samples - n_blob, noise=noise, random_state=rng
    )
    X_blob = rng.randn(n_blob, 2) * 0.3 + np.array([0.5, -1.5])
    X = np.vstack([X_moons, X_blob])
    y = np.concatenate([y_moons, np.full(n_blob, 2)])
    return X, y
