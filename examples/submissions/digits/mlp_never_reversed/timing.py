"""Seed 004's aside: one matrix product for the whole batch beats a loop over samples."""

from __future__ import annotations

import timeit

import numpy as np


def time_per_sample_vs_batch(
    n_instances: int = 1000,
    n_inputs: int = 5000,
    n_outputs: int = 10,
    number: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """Time ``[W.dot(x) for x in X]`` against ``X.dot(W.T)`` with W (n_outputs, n_inputs),
    X (n_instances, n_inputs) uniform in [0, 1).

    Returns seconds for `number` runs of each ("per_sample_s", "batch_s"), their
    ratio ("speedup") and the largest difference between the two results ("max_abs_diff").
    """
    rng = np.random.RandomState(seed)
    W = rng.rand(n_outputs, n_inputs)
    X = rng.rand(n_instances, n_inputs)
    per_sample = timeit.timeit(lambda: [W.dot(x) for x in X], number=number)
    batch = timeit.timeit(lambda: X.dot(W.T), number=number)
    diff = np.abs(np.array([W.dot(x) for x in X]) - X.dot(W.T)).max()
    return {
        "per_sample_s": per_sample,
        "batch_s": batch,
        "speedup": per_sample / batch,
        "max_abs_diff": float(diff),
    }
