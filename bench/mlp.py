"""The benchmark network: a 784-128-10 ReLU MLP with softmax cross-entropy and
L2, batch 64, float64, with a right backward and the classic wrong ones."""

from __future__ import annotations

import numpy as np

N, D, H, C = 64, 784, 128, 10
REG = 1e-3


def problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (N, D))  # pixel-like inputs
    y = rng.integers(0, C, N)
    params = {
        "W1": rng.standard_normal((D, H)) * np.sqrt(2.0 / D),
        "b1": rng.standard_normal(H) * 0.01,
        "W2": rng.standard_normal((H, C)) * np.sqrt(2.0 / H),
        "b2": rng.standard_normal(C) * 0.01,
    }
    return params, X, y


def loss(p, X, y):
    hidden = np.maximum(0, X @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data = -log_probs[np.arange(len(y)), y].mean()
    return data + 0.5 * REG * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))


def backward(p, X, y, mistake=None):
    z = X @ p["W1"] + p["b1"]
    hidden = np.maximum(0, z)
    scores = hidden @ p["W2"] + p["b2"]
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = probs.copy()
    if mistake != "softmax_no_onehot":
        dscores[np.arange(len(y)), y] -= 1
    if mistake != "missing_1_over_n":
        dscores /= len(y)
    reg = {"reg_missing": 0.0, "reg_doubled": 2.0}.get(mistake or "", 1.0)
    dW2 = hidden.T @ dscores + reg * REG * p["W2"]
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ p["W2"].T
    mask = (X @ p["W1"] <= 0) if mistake == "relu_mask_without_bias" else (z <= 0)
    dhidden[mask] = 0
    dW1 = X.T @ dhidden + reg * REG * p["W1"]
    db1 = dhidden.sum(axis=0)
    if mistake == "transposed":
        dW1 = dW1.T.copy()
    if mistake == "sign_flip":
        dW1 = -dW1
    if mistake == "bias_wrong_axis":
        db1 = dhidden.sum(axis=1)
    if mistake == "one_element":
        dW1[400, 7] += 1e-2
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    if mistake == "scaled_1.0005":  # e.g. a float32 softmax or an off-by-epsilon constant
        grads = {k: 1.0005 * v for k, v in grads.items()}
    if mistake == "one_element_1e-4":
        grads["dW2"][3, 4] += 1e-4
    return grads


MISTAKES = [
    "transposed",
    "sign_flip",
    "missing_1_over_n",
    "reg_missing",
    "reg_doubled",
    "relu_mask_without_bias",
    "bias_wrong_axis",
    "softmax_no_onehot",
    "one_element",
]
SUBTLE = ["scaled_1.0005", "one_element_1e-4"]
