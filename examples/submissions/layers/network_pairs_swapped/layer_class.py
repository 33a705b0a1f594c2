"""Seed 004: a ``Layer`` class, W of shape (outputs, inputs), composed into a network.

The activation derivative ``gd`` is written in terms of the layer output Y:
gd(Y) = g'(A) where Y = g(A), so backprop needs only the stored X and Y.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, elementwise; a: any shape."""
    return 1.0 / (1.0 + np.exp(-a))


def identity(a: np.ndarray) -> np.ndarray:
    """Linear activation g(A) = A; a: any shape."""
    return a


def sigmoid_gd(y: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at A, written with its output Y = sigmoid(A).

    Task 1.11 (2 points).
    y: any shape. Returns g'(A), same shape.
    """
    return y * (1 - y)


def tanh_gd(y: np.ndarray) -> np.ndarray:
    """Derivative of tanh at A, written with its output Y = tanh(A).

    Task 1.12 (2 points).
    y: any shape. Returns g'(A), same shape.
    """
    return 1 - y**2


def identity_gd(y: np.ndarray) -> np.ndarray:
    """Derivative of the linear activation: ones; y: any shape."""
    return np.ones_like(y)


ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "sigmoid": (sigmoid, sigmoid_gd),
    "tanh": (np.tanh, tanh_gd),
    "linear": (identity, identity_gd),
}


class Layer:
    """Fully connected layer Y = g(X @ W.T + b).

    W: (n_outputs, n_inputs), b: (n_outputs,). After forward, X and Y are kept
    for backprop.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str = "sigmoid",
        rng: np.random.RandomState | None = None,
    ) -> None:
        rng = rng if rng is not None else np.random.RandomState(0)
        self.W = rng.randn(n_outputs, n_inputs) / np.sqrt(n_inputs)
        self.b = np.zeros(n_outputs)
        self.g, self.gd = ACTIVATIONS[activation]
        self.X = np.empty((0, n_inputs))
        self.Y = np.empty((0, n_outputs))

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (num_instances, n_inputs) -> Y: (num_instances, n_outputs)."""
        A = X @ self.W.T + self.b
        self.X, self.Y = X, self.g(A)
        return self.Y

    def backprop(self, dEdY: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Backward pass through g and the affine map, using the stored X and Y.

        Task 1.13 (4 points).
        dEdY: (num_instances, n_outputs).
        Returns dEdX (num_instances, n_inputs), dEdW (n_outputs, n_inputs),
        dEdb (n_outputs,), the last two summed over instances.
        """
        deltas = dEdY * self.gd(self.Y)
        dEdX = deltas @ self.W
        dEdW = deltas.T @ self.X
        dEdb = deltas.sum(axis=0)
        return dEdX, dEdW, dEdb


def half_mse(Y: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
    """E = sum((Y - T)**2) / (2 * n_samples * n_outputs) and dE/dY (seed 004's error).

    Y, T: (n_samples, n_outputs). Returns (E, dEdY (n_samples, n_outputs)).
    """
    n_samples, n_outputs = Y.shape
    error = (Y - T) / (n_samples * n_outputs)
    return float(0.5 * np.sum((Y - T) ** 2) / (n_samples * n_outputs)), error


class Network:
    """A stack of ``Layer``s; each layer's Y is the next layer's X."""

    def __init__(self, sizes: list[int], activations: list[str], seed: int = 0) -> None:
        """sizes: [n_inputs, hidden..., n_outputs]; activations: one name per layer."""
        rng = np.random.RandomState(seed)
        self.layers = [
            Layer(n_in, n_out, act, rng)
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations, strict=True)
        ]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (n, sizes[0]) -> Y: (n, sizes[-1])."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backprop(self, dEdY):
        result = []
        g = dEdY
        for L in self.layers[::-1]:
            g, gw, gb = L.backprop(g)
            result = [(gb, gw)] + result  # noqa: RUF005  (a student's style)
        return result

    def train_step(self, X: np.ndarray, T: np.ndarray, lr: float) -> float:
        """One full-batch gradient step on half_mse; X: (n, in), T: (n, out). Returns E."""
        E, dEdY = half_mse(self.forward(X), T)
        for layer, (dEdW, dEdb) in zip(self.layers, self.backprop(dEdY), strict=True):
            layer.W -= lr * dEdW
            layer.b -= lr * dEdb
        return E


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])
OR_T = np.array([[0.0], [1.0], [1.0], [1.0]])


def train_logic(
    T: np.ndarray, hidden: int = 4, epochs: int = 5000, lr: float = 10.0, seed: int = 0
) -> tuple[Network, list[float]]:
    """Train a 2-hidden-1 tanh/sigmoid network on XOR_X with targets T (4, 1).

    Returns the network and the loss of every epoch.
    """
    net = Network([2, hidden, 1], ["tanh", "sigmoid"], seed)
    losses = [net.train_step(XOR_X, T, lr) for _ in range(epochs)]
    return net, losses
