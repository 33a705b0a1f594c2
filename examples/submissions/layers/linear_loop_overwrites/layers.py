"""Layers with the cs231n contract:
``out, cache = f_forward(...)`` and ``dx, ... = f_backward(dout, cache)``.

Forward passes are given; every backward pass is a task.
"""

from __future__ import annotations

import numpy as np


def linear_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Linear layer out = x @ w + b.

    x: (N, D), w: (D, H), b: (H,). Returns out (N, H) and cache (x, w, b).
    """
    out = x @ w + b
    return out, (x, w, b)


def linear_backward(dY, cache):
    X, W, b = cache
    dX = dY @ W.T
    dW = np.zeros(W.shape)
    dB = np.zeros(b.shape)
    for n in range(X.shape[0]):
        dW = np.outer(X[n], dY[n])
        dB += dY[n]
    return dX, dW, dB


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ReLU out = max(0, x), elementwise.

    x: any shape. Returns out (same shape) and cache x.
    """
    return np.maximum(0.0, x), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of ReLU.

    Task 1.2 (2 points).
    dout: upstream gradient, same shape as x. cache: x.
    Returns dx, same shape as x (the gradient at x == 0 is taken as 0).
    """
    x = cache
    dx = dout * (x > 0)
    return dx


def leaky_relu_forward(
    x: np.ndarray, alpha: float = 0.01
) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """Leaky ReLU out = x if x > 0 else alpha * x, elementwise.

    x: any shape. Returns out (same shape) and cache (x, alpha).
    """
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """Backward pass of leaky ReLU.

    Task 1.3 (2 points).
    dout: upstream gradient, same shape as x. cache: (x, alpha).
    Returns dx, same shape as x (slope alpha at x == 0).
    """
    x, alpha = cache
    dx = dout.copy()
    dx[x <= 0] *= alpha
    return dx


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic sigmoid out = 1 / (1 + exp(-x)), elementwise.

    x: any shape. Returns out (same shape) and cache out.
    """
    # Two branches so that exp never overflows for large |x|.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of the sigmoid, written with its output s: ds/dx = s (1 - s).

    Task 1.4 (2 points).
    dout: upstream gradient, same shape as x. cache: out s.
    Returns dx, same shape as x.
    """
    s = cache
    return dout * s * (1 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hyperbolic tangent, elementwise.

    x: any shape. Returns out (same shape) and cache out.
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of tanh, written with its output t: dt/dx = 1 - t**2.

    Task 1.5 (2 points).
    dout: upstream gradient, same shape as x. cache: out t.
    Returns dx, same shape as x.
    """
    t = cache
    return dout * (1 - t**2)
