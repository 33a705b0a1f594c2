"""A two-task assignment used to test batch grading."""

from __future__ import annotations

import numpy as np


def linear_forward(
    x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """out = x @ w. x (N, D), w (D, H) -> out (N, H), cache (x, w)."""
    return x @ w, (x, w)


def linear_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Backward pass of out = x @ w.

    Task 1.1 (3 points).
    dout (N, H), cache (x (N, D), w (D, H)). Returns dx (N, D), dw (D, H).
    """
    # BEGIN SOLUTION
    x, w = cache
    return dout @ w.T, x.T @ dout
    # END SOLUTION


def square_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = x**2 elementwise; cache x."""
    return x**2, x


def square_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of out = x**2.

    Task 1.2 (2 points).
    dout and cache x of the same shape. Returns dx.
    """
    # BEGIN SOLUTION
    return 2 * cache * dout
    # END SOLUTION
