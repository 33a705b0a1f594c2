"""Seed 000: the spiral data and the two-layer ReLU softmax net with its hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest

from reference.spiral.data import make_spiral
from reference.spiral.net import accuracy, predict, train


def test_spiral_data_shapes_and_radius() -> None:
    X, y = make_spiral(seed=0)
    assert X.shape == (300, 2) and y.dtype == np.uint8
    assert np.bincount(y).tolist() == [100, 100, 100]
    np.testing.assert_allclose(np.linalg.norm(X[:100], axis=1), np.linspace(0, 1, 100))


def test_spiral_net_reaches_98_percent() -> None:
    X, y = make_spiral(seed=0)
    params, history = train(X, y)  # h=100, step 1.0, reg 1e-3, 10000 iterations
    assert history[0] == pytest.approx(np.log(3), abs=1e-3)  # tiny weights: uniform softmax
    assert history[-1] < 0.3
    assert accuracy(params, X, y) >= 0.98
    assert predict(params, X).shape == (300,)
