"""Test inputs that make gradient checks decisive.

Distinct dimensions (N=3, D=5, H=7, C=4) so a transposed gradient cannot have
the right shape by accident; values kept a margin away from kinks (ReLU's 0)
and from ties, so a finite difference never straddles a corner.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.gradcheck.result import Array

DIMS = {"N": 3, "D": 5, "H": 7, "C": 4}


def away_from(x: Array, points: Sequence[float] = (0.0,), margin: float = 0.05) -> Array:
    """Push every entry at least ``margin`` (relative to x's scale) away
    from each point in ``points``, keeping its side."""
    x = np.array(x, dtype=np.float64, copy=True)
    scale = float(np.sqrt(np.mean(np.square(x)))) or 1.0
    gap = margin * scale
    for point in points:
        offset = x - point
        near = np.abs(offset) < gap
        side = np.where(offset >= 0, 1.0, -1.0)
        x[near] = point + side[near] * gap
    return x


def random_array(
    shape: Sequence[int],
    rng: np.random.Generator,
    scale: float = 1.0,
    kinks: Sequence[float] = (),
    margin: float = 0.05,
    dtype: type = np.float64,
) -> Array:
    """Gaussian entries of the given scale, kept ``margin`` away from ``kinks``."""
    x = rng.standard_normal(tuple(shape)) * scale
    if kinks:
        x = away_from(x, kinks, margin)
    return np.asarray(x, dtype=dtype)
