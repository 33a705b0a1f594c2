"""Whole-network gradients: a two-layer ReLU + softmax + L2 net (seed 000's
shape) checked through ``check_function``, with the network-level mistakes."""

from __future__ import annotations

import numpy as np

from grader import CheckResult, check_function, random_array

from .registry import Entry

N, D, H, C = 6, 5, 7, 4
REG = 0.1


def data(seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {
        "W1": random_array((D, H), rng, 0.5),
        "b1": random_array((H,), rng, 0.1),
        "W2": random_array((H, C), rng, 0.5),
        "b2": random_array((C,), rng, 0.1),
    }
    return params, rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def loss(p, X, y):
    hidden = np.maximum(0, X @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -log_probs[np.arange(len(y)), y].mean()
    return data_loss + 0.5 * REG * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))


def gradients(p, X, y, *, reg_factor=1.0, divide_by_n=True, mask_without_bias=False):
    """Backprop as seed 000, with knobs for the classic mistakes."""
    hidden = np.maximum(0, X @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = probs.copy()
    dscores[np.arange(len(y)), y] -= 1
    if divide_by_n:
        dscores /= len(y)
    dW2 = hidden.T @ dscores + reg_factor * REG * p["W2"]
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ p["W2"].T
    if mask_without_bias:
        dhidden[X @ p["W1"] <= 0] = 0
    else:
        dhidden[hidden <= 0] = 0
    dW1 = X.T @ dhidden + reg_factor * REG * p["W1"]
    db1 = dhidden.sum(axis=0)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def net_right(p, X, y):
    return gradients(p, X, y)


def net_reg_missing(p, X, y):
    return gradients(p, X, y, reg_factor=0.0)


def net_reg_doubled(p, X, y):
    return gradients(p, X, y, reg_factor=2.0)


def net_reg_halved(p, X, y):
    return gradients(p, X, y, reg_factor=0.5)


def net_missing_n(p, X, y):
    return gradients(p, X, y, divide_by_n=False)


def net_relu_mask_without_bias(p, X, y):
    return gradients(p, X, y, mask_without_bias=True)


ENTRIES = [
    Entry("net_right", "network", net_right, None),
    Entry("net_reg_missing", "network", net_reg_missing, "reg_missing"),
    Entry("net_reg_doubled", "network", net_reg_doubled, "reg_doubled"),
    Entry("net_reg_halved", "network", net_reg_halved, "reg_halved"),
    Entry("net_missing_n", "network", net_missing_n, "missing_1_over_n"),
    Entry("net_relu_mask_without_bias", "network", net_relu_mask_without_bias, "unrecognised"),
]


def check(entry: Entry, seed: int) -> CheckResult:
    params, X, y = data(seed)
    return check_function(
        lambda p: loss(p, X, y),
        lambda p: entry.backward(p, X, y),
        params,
        reg={"W1": REG * params["W1"], "W2": REG * params["W2"]},
        batch=N,
        name=entry.name,
        seed=seed,
    )
