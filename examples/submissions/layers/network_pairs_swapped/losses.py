"""Losses. Each one is a given forward ``loss, cache = *_forward(...)``, a task
``grad = *_backward(cache)`` and a convenience ``loss, grad = *(...)`` calling both.
"""

from __future__ import annotations

import numpy as np


def softmax_loss_forward(
    scores: np.ndarray, y: np.ndarray
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Mean softmax cross-entropy, -1/N sum_n log softmax(scores_n)[y_n].

    scores: (N, C) logits, y: (N,) integer labels in [0, C).
    Returns the loss and cache (probs (N, C), y (N,)).
    """
    # Subtracting the row max leaves softmax unchanged and keeps exp from overflowing.
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    return float(loss), (np.exp(log_probs), y)


def softmax_loss_backward(cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Gradient of the mean softmax cross-entropy with respect to the scores.

    Task 1.6 (4 points).
    cache: (probs (N, C), y (N,)). Returns dscores (N, C).
    """
    probs, y = cache
    N = probs.shape[0]
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return dscores


def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy: scores (N, C), y (N,) -> (loss, dscores (N, C))."""
    loss, cache = softmax_loss_forward(scores, y)
    return loss, softmax_loss_backward(cache)


def sum_squares_loss_forward(
    pred: np.ndarray, y: np.ndarray
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Sum of squares, np.square(pred - y).sum() (seed 003: no 1/2, no mean).

    pred, y: (N, D). Returns the loss and cache (pred, y).
    """
    return float(np.square(pred - y).sum()), (pred, y)


def sum_squares_loss_backward(cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Gradient of the sum of squares with respect to pred.

    Task 1.7 (2 points).
    cache: (pred (N, D), y (N, D)). Returns dpred (N, D).
    """
    pred, y = cache
    return 2 * (pred - y)


def sum_squares_loss(pred: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Sum of squares: pred, y (N, D) -> (loss, dpred (N, D))."""
    loss, cache = sum_squares_loss_forward(pred, y)
    return loss, sum_squares_loss_backward(cache)


def mse_loss_forward(
    pred: np.ndarray, y: np.ndarray
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Mean squared error over every element, np.mean(np.square(pred - y)).

    pred, y: same shape, e.g. (N, D). Returns the loss and cache (pred, y).
    """
    return float(np.mean(np.square(pred - y))), (pred, y)


def mse_loss_backward(cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Gradient of the mean squared error with respect to pred.

    Task 1.8 (2 points).
    cache: (pred, y), same shape. Returns dpred, same shape as pred.
    """
    pred, y = cache
    return 2 * (pred - y) / pred.size


def mse_loss(pred: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error: pred, y (same shape) -> (loss, dpred)."""
    loss, cache = mse_loss_forward(pred, y)
    return loss, mse_loss_backward(cache)


def bce_loss_forward(
    p: np.ndarray, y: np.ndarray, eps: float = 1e-12
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Binary cross-entropy on sigmoid outputs, mean over the N rows.

    loss = -1/N sum(y log p + (1 - y) log(1 - p)), with p clipped to
    [eps, 1 - eps] so that log stays finite when a sigmoid saturates.
    p: (N,) or (N, 1) probabilities, y: same shape, values in {0, 1}.
    Returns the loss and cache (clipped p, y).
    """
    p = np.clip(p, eps, 1.0 - eps)
    n = p.shape[0]
    loss = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).sum() / n
    return float(loss), (p, y)


def bce_loss_backward(cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Gradient of the binary cross-entropy with respect to p.

    Task 1.9 (3 points).
    cache: (clipped p, y), shape (N,) or (N, 1). Returns dp, same shape.
    Evaluated at the clipped p, so it is exact wherever eps < p < 1 - eps.
    """
    p, y = cache
    N = p.shape[0]
    return (-y / p + (1 - y) / (1 - p)) / N


def bce_loss(p: np.ndarray, y: np.ndarray, eps: float = 1e-12) -> tuple[float, np.ndarray]:
    """Binary cross-entropy: p, y (N,) or (N, 1) -> (loss, dp)."""
    loss, cache = bce_loss_forward(p, y, eps)
    return loss, bce_loss_backward(cache)


def l2_forward(w: np.ndarray, reg: float) -> tuple[float, tuple[np.ndarray, float]]:
    """L2 regularization 0.5 * reg * sum(w**2).

    w: any shape. Returns the loss and cache (w, reg).
    """
    return float(0.5 * reg * np.sum(w**2)), (w, reg)


def l2_backward(cache: tuple[np.ndarray, float]) -> np.ndarray:
    """Gradient of 0.5 * reg * sum(w**2) with respect to w.

    Task 1.10 (2 points).
    cache: (w, reg). Returns dw, same shape as w.
    """
    w, reg = cache
    return reg * w


def l2_regularization(w: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """L2 regularization: w (any shape) -> (0.5 * reg * sum(w**2), dw)."""
    loss, cache = l2_forward(w, reg)
    return loss, l2_backward(cache)
