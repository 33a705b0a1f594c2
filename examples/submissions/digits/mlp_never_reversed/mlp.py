"""Seed 001's homework: an MLP for handwritten digits with a choosable loss
("softmax" cross-entropy or "mse"), depth (list of hidden sizes) and hidden
activation ("sigmoid", "tanh", "relu"). Data: sklearn's bundled 8x8 digits.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import sklearn.datasets

Cache = tuple[Any, ...]


def load_digits_split(
    test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1797 8x8 digits, pixels scaled to [0, 1], split by a seeded permutation.

    Returns X_train (n_train, 64), y_train (n_train,), X_test (n_test, 64), y_test (n_test,).
    """
    digits = sklearn.datasets.load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.RandomState(seed).permutation(len(X))
    n_test = round(test_fraction * len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """out = x @ W + b; x: (N, D), W: (D, H), b: (H,). Returns out (N, H), cache (x, W)."""
    return x @ W + b, (x, W)


def linear_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of out = x @ W + b.

    Task 4.6 (3 points).
    dout: (N, H). cache: (x (N, D), W (D, H)). Returns dx (N, D), dW (D, H), db (H,).
    """
    x, W = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dW, db


def activation_forward(z: np.ndarray, kind: str) -> tuple[np.ndarray, tuple[str, np.ndarray]]:
    """a = f(z) for kind "sigmoid", "tanh" or "relu"; z: any shape. Returns a, cache (kind, a)."""
    if kind == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
    elif kind == "tanh":
        a = np.tanh(z)
    elif kind == "relu":
        a = np.maximum(0.0, z)
    else:
        raise ValueError(f"unknown activation {kind!r}")
    return a, (kind, a)


def activation_backward(da: np.ndarray, cache: tuple[str, np.ndarray]) -> np.ndarray:
    """Backward pass of a = f(z), written with the output a.

    Task 4.7 (3 points).
    da: upstream gradient, same shape as a. cache: (kind, a).
    Returns dz, same shape (ReLU: 0 where a == 0).
    """
    kind, a = cache
    if kind == "sigmoid":
        return da * a * (1 - a)
    if kind == "tanh":
        return da * (1 - a**2)
    if kind == "relu":
        return da * (a > 0)
    raise ValueError(f"unknown activation {kind!r}")


def softmax_ce_forward(scores: np.ndarray, y: np.ndarray) -> tuple[float, Cache]:
    """Mean softmax cross-entropy; scores: (N, C), y: (N,). Returns loss, cache (probs, y)."""
    shifted = scores - scores.max(axis=1, keepdims=True)  # avoids overflow in exp
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()
    return float(loss), (np.exp(log_probs), y)


def softmax_ce_backward(cache: Cache) -> np.ndarray:
    """Gradient of the mean softmax cross-entropy with respect to the scores.

    Task 4.4 (3 points).
    cache: (probs (N, C), y (N,)). Returns dscores (N, C).
    """
    probs, y = cache
    N = probs.shape[0]
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return dscores


def mse_forward(scores: np.ndarray, y: np.ndarray) -> tuple[float, Cache]:
    """0.5 * sum((scores - one_hot(y))**2) / N on the raw scores.

    scores: (N, C), y: (N,). Returns loss, cache (scores, one_hot (N, C)).
    """
    one_hot = np.eye(scores.shape[1])[y]
    return float(0.5 * np.sum((scores - one_hot) ** 2) / len(y)), (scores, one_hot)


def mse_backward(cache: Cache) -> np.ndarray:
    """Gradient of 0.5 * sum((scores - one_hot)**2) / N with respect to the scores.

    Task 4.5 (2 points).
    cache: (scores (N, C), one_hot (N, C)). Returns dscores (N, C).
    """
    scores, one_hot = cache
    return (scores - one_hot) / scores.shape[0]


LOSSES = {"softmax": (softmax_ce_forward, softmax_ce_backward), "mse": (mse_forward, mse_backward)}


class MLP:
    """Linear -> activation, repeated per hidden size, then a linear output layer.

    W[i]: (sizes[i], sizes[i+1]), b[i]: (sizes[i+1],) for sizes = [n_in, *hidden, n_classes].
    """

    def __init__(
        self, sizes: list[int], activation: str = "relu", loss: str = "softmax", seed: int = 0
    ) -> None:
        rng = np.random.RandomState(seed)
        gain = 2.0 if activation == "relu" else 1.0  # He init for ReLU, LeCun otherwise
        self.W = [rng.randn(m, n) * np.sqrt(gain / m) for m, n in pairwise(sizes)]
        self.b = [np.zeros(n) for n in sizes[1:]]
        self.activation = activation
        self.loss_forward, self.loss_backward = LOSSES[loss]

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[Cache]]:
        """X: (N, n_in) -> scores (N, n_classes) and one cache per layer
        (linear cache, activation cache) for hidden layers, linear cache for the last.
        """
        caches: list[Cache] = []
        out = X
        for W, b in zip(self.W[:-1], self.b[:-1], strict=True):
            z, lin_cache = linear_forward(out, W, b)
            out, act_cache = activation_forward(z, self.activation)
            caches.append((lin_cache, act_cache))
        scores, lin_cache = linear_forward(out, self.W[-1], self.b[-1])
        caches.append((lin_cache,))
        return scores, caches

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Loss of the whole net; X: (N, n_in), y: (N,)."""
        scores, _ = self.forward(X)
        return self.loss_forward(scores, y)[0]

    def backward(self, dscores, caches):
        grads_W, grads_b = [], []
        upstream = dscores
        for layer_cache in reversed(caches):
            if len(layer_cache) == 2:
                lin, act = layer_cache
                upstream = activation_backward(upstream, act)
            else:
                (lin,) = layer_cache
            upstream, gW, gb = linear_backward(upstream, lin)
            grads_W.append(gW)
            grads_b.append(gb)
        return grads_W, grads_b

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """X: (N, n_in), y: (N,) -> (loss, dW list, db list)."""
        scores, caches = self.forward(X)
        loss, loss_cache = self.loss_forward(scores, y)
        dW, db = self.backward(self.loss_backward(loss_cache), caches)
        return loss, dW, db

    def predict(self, X: np.ndarray) -> np.ndarray:
        """X: (N, n_in) -> labels (N,)."""
        return np.argmax(self.forward(X)[0], axis=1)


def accuracy(net: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of X (N, n_in) predicted as y (N,)."""
    return float(np.mean(net.predict(X) == y))


def train_mlp(
    X: np.ndarray,
    y: np.ndarray,
    hidden_sizes: list[int] | None = None,
    activation: str = "relu",
    loss: str = "softmax",
    epochs: int = 100,
    batch_size: int = 32,
    lr: float = 0.1,
    seed: int = 0,
) -> tuple[MLP, list[float]]:
    """Minibatch SGD with a seeded shuffle every epoch; X: (N, 64), y: (N,) in 0..9.

    hidden_sizes defaults to [64]. Returns the net and the mean minibatch loss of each epoch.
    """
    sizes = [X.shape[1], *(hidden_sizes if hidden_sizes is not None else [64]), int(y.max()) + 1]
    net = MLP(sizes, activation, loss, seed)
    rng = np.random.RandomState(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        epoch_losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            batch_loss, dW, db = net.loss_and_grads(X[idx], y[idx])
            for i in range(len(net.W)):
                net.W[i] -= lr * dW[i]
                net.b[i] -= lr * db[i]
            epoch_losses.append(batch_loss)
        history.append(float(np.mean(epoch_losses)))
    return net, history
