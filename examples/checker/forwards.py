"""The given forward passes of the catalogue (cs231n contract), and the
inputs each kind is checked on."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader import DIMS, random_array

N, D, H, C = DIMS["N"], DIMS["D"], DIMS["H"], DIMS["C"]


def linear_forward(x, w, b):
    """out = x @ w + b. x (N, D), w (D, H), b (H,) -> out (N, H)."""
    return x @ w + b, (x, w, b)


def relu_forward(x):
    return np.maximum(x, 0), (x,)


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x), (x, alpha)


def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, (out,)


def sigmoid_forward_keep_x(x):
    """A sigmoid whose cache keeps x as well (students then misuse it)."""
    out = 1.0 / (1.0 + np.exp(-x))
    return out, (x, out)


def tanh_forward(x):
    out = np.tanh(x)
    return out, (x, out)


def softmax_loss_forward(scores, y):
    """Mean cross-entropy of softmax(scores) (N, C) with labels y (N,)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = scores.shape[0]
    loss = -np.log(probs[np.arange(n), y]).mean()
    return loss, (probs, y)


def softmax_loss_forward_keep_scores(scores, y):
    """The same loss, caching the logits instead of the probabilities."""
    loss, (_, y) = softmax_loss_forward(scores, y)
    return loss, (scores, y)


def sum_of_squares_forward(pred, y):
    """loss = sum((pred - y)**2), seed 003's loss."""
    return np.square(pred - y).sum(), (pred, y)


def mse_forward(pred, y):
    """loss = mean over samples of sum over outputs of (pred - y)**2."""
    return np.square(pred - y).sum() / pred.shape[0], (pred, y)


def bce_forward(p, y):
    """Mean binary cross-entropy of probabilities p (N,) against labels y (N,)."""
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss, (p, y)


def l2_forward(w, reg=0.1):
    """loss = 0.5 * reg * sum(w**2)."""
    return 0.5 * reg * np.sum(w * w), (w, reg)


def inputs(
    kind: str, rng: np.random.Generator, dtype: type = np.float64, scale: float = 1.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(differentiated inputs, constants) for a kind of layer or loss."""

    def arr(*shape, kinks=()):
        return random_array(shape, rng, scale=scale, kinks=kinks, dtype=dtype)

    if kind == "linear":
        return {"x": arr(N, D), "w": arr(D, H), "b": arr(H)}, {}
    if kind in ("relu", "leaky_relu"):
        return {"x": arr(N, H, kinks=(0.0,))}, ({"alpha": 0.1} if kind == "leaky_relu" else {})
    if kind in ("sigmoid", "tanh"):
        return {"x": arr(N, H)}, {}
    if kind == "softmax_cross_entropy":
        return {"scores": arr(N, C)}, {"y": rng.integers(0, C, size=N)}
    if kind in ("sum_of_squares", "mse"):
        return {"pred": arr(N, C)}, {"y": arr(N, C)}
    if kind == "binary_cross_entropy":
        p = rng.uniform(0.1, 0.9, size=N + 2).astype(dtype)
        return {"p": p}, {"y": (rng.uniform(size=N + 2) > 0.5).astype(dtype)}
    if kind == "l2":
        return {"w": arr(D, H)}, {"reg": 0.1}
    raise KeyError(kind)


FORWARDS = {
    "linear": linear_forward,
    "relu": relu_forward,
    "leaky_relu": leaky_relu_forward,
    "sigmoid": sigmoid_forward,
    "tanh": tanh_forward,
    "softmax_cross_entropy": softmax_loss_forward,
    "sum_of_squares": sum_of_squares_forward,
    "mse": mse_forward,
    "binary_cross_entropy": bce_forward,
    "l2": l2_forward,
}
LOSSES = {"softmax_cross_entropy", "sum_of_squares", "mse", "binary_cross_entropy", "l2"}
