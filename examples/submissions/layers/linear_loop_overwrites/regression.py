"""Seed 003: two-layer ReLU regression net without biases, trained on the sum of squares.

h = x @ w1,  h_relu = max(h, 0),  y_pred = h_relu @ w2,  loss = sum((y_pred - y)**2)
"""

from __future__ import annotations

import numpy as np

from .losses import sum_squares_loss


def make_regression_data(
    N: int = 64, D_in: int = 1000, D_out: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and targets as in seed 003. Returns x (N, D_in), y (N, D_out)."""
    rng = np.random.RandomState(seed)
    return rng.randn(N, D_in), rng.randn(N, D_out)


def init_regression_weights(
    D_in: int = 1000, H: int = 100, D_out: int = 10, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled standard-normal weights as in seed 003. Returns w1 (D_in, H), w2 (H, D_out)."""
    rng = np.random.RandomState(seed)
    return rng.randn(D_in, H), rng.randn(H, D_out)


def two_layer_regression_forward(
    x: np.ndarray, w1: np.ndarray, w2: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Forward pass y_pred = max(x @ w1, 0) @ w2.

    x: (N, D_in), w1: (D_in, H), w2: (H, D_out).
    Returns y_pred (N, D_out) and cache (x, h (N, H), h_relu (N, H), w2).
    """
    h = x @ w1
    h_relu = np.maximum(h, 0.0)
    y_pred = h_relu @ w2
    return y_pred, (x, h, h_relu, w2)


def two_layer_regression_backward(
    dy_pred: np.ndarray, cache: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Backward pass of y_pred = max(x @ w1, 0) @ w2.

    Task 1.15 (4 points).
    dy_pred: (N, D_out) upstream gradient, e.g. 2 * (y_pred - y).
    cache: (x (N, D_in), h (N, H), h_relu (N, H), w2 (H, D_out)).
    Returns dw1 (D_in, H), dw2 (H, D_out).
    """
    x, h, h_relu, w2 = cache
    grad_w2 = h_relu.T.dot(dy_pred)
    grad_h_relu = dy_pred.dot(w2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    return grad_w1, grad_w2


def train_regression(
    N: int = 64,
    D_in: int = 1000,
    H: int = 100,
    D_out: int = 10,
    learning_rate: float = 1e-6,
    steps: int = 500,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Seed 003's training loop: plain gradient descent on the sum of squares.

    Returns w1 (D_in, H), w2 (H, D_out) and the loss before each step (length steps).
    """
    x, y = make_regression_data(N, D_in, D_out, seed)
    w1, w2 = init_regression_weights(D_in, H, D_out, seed + 1)
    losses = []
    for _ in range(steps):
        y_pred, cache = two_layer_regression_forward(x, w1, w2)
        loss, dy_pred = sum_squares_loss(y_pred, y)
        losses.append(loss)
        dw1, dw2 = two_layer_regression_backward(dy_pred, cache)
        w1 -= learning_rate * dw1
        w2 -= learning_rate * dw2
    return w1, w2, losses
