"""Seed 001: a 3-4-1 sigmoid network on the OR truth table, trained with a
per-sample backward loop, and its vectorized twin.

Inputs have a constant third column of ones (the seed's bias trick); the loss of
one sample is 0.5 (a2 - y)^2 and a batch's loss is the mean over its samples.
"""

from __future__ import annotations

import numpy as np

OR_X = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
OR_Y = np.array([[0.0], [1.0], [1.0], [1.0]])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise; x: any shape."""
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_prime(x: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at the pre-activation x.

    Task 4.1 (2 points).
    x: any shape. Returns sigmoid'(x), same shape.
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def get_weights(shape: int | tuple[int, ...]) -> np.ndarray:
    """N(0, 0.001^2) weights from a fresh seed 0 on every call, as in the seed.

    Quirk kept: every call restarts the stream, so b1 equals the first row of W1, etc.
    """
    return np.random.RandomState(seed=0).normal(loc=0.0, scale=0.001, size=shape)


class Network:
    """z1 = x W1 + b1, a1 = sigmoid(z1), z2 = a1 W2 + b2, a2 = sigmoid(z2).

    W1 (3, 4), b1 (4,), W2 (4, 1), b2 (1,). backward fills grads_W1, grads_b1,
    grads_W2, grads_b2 (same shapes) with the gradient of the mean batch loss.
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.W1 = get_weights((3, 4))
        self.b1 = get_weights(4)
        self.W2 = get_weights((4, 1))
        self.b2 = get_weights(1)
        self.lr = lr
        self.grads_W1 = np.zeros_like(self.W1)
        self.grads_b1 = np.zeros_like(self.b1)
        self.grads_W2 = np.zeros_like(self.W2)
        self.grads_b2 = np.zeros_like(self.b2)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, 3) -> a2: (N, 1)."""
        a1 = sigmoid(X @ self.W1 + self.b1)
        return sigmoid(a1 @ self.W2 + self.b2)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean over the N samples of 0.5 (a2 - y)^2; X: (N, 3), y: (N, 1)."""
        return float(0.5 * np.sum((self.forward(X) - y) ** 2) / len(X))

    def backward(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, float]:
        """Per-sample backpropagation, as in the seed: ``for x, y in zip(X_batch, y_batch)``,
        accumulate each sample's gradients, then divide by the batch size.

        Task 4.2 (5 points).
        X_batch: (N, 3), y_batch: (N, 1). Sets grads_W1 (3, 4), grads_b1 (4,),
        grads_W2 (4, 1), grads_b2 (1,) to the gradient of ``loss``; does not update
        the weights. Returns (batch_loss, batch_acc), both means over the batch; a
        sample counts as correct when (a2 > 0.5) equals y.
        """
        batch_size = 0
        batch_loss = 0.0
        batch_acc = 0.0
        self.grads_W2 = np.zeros_like(self.W2)
        self.grads_b2 = np.zeros_like(self.b2)
        self.grads_W1 = np.zeros_like(self.W1)
        self.grads_b1 = np.zeros_like(self.b1)
        for x, y in zip(X_batch, y_batch, strict=True):
            z1 = np.matmul(x, self.W1) + self.b1
            a1 = sigmoid(z1)
            z2 = np.matmul(a1, self.W2) + self.b2
            a2 = sigmoid(z2)
            loss = 0.5 * np.sum((a2 - y) ** 2)
            delta_L = (a2 - y) * sigmoid_prime(z2)
            delta_l = np.matmul(self.W2, delta_L) * sigmoid_prime(z1)
            self.grads_W2 += np.outer(a1, delta_L)
            self.grads_b2 += delta_L
            self.grads_W1 += np.outer(x, delta_l)
            self.grads_b1 += delta_l
            batch_size += 1
            batch_loss += loss
            batch_acc += 1 if y[0] == (1 if a2[0] > 0.5 else 0) else 0
        self.grads_W2 /= batch_size
        self.grads_b2 /= batch_size
        self.grads_W1 /= batch_size
        self.grads_b1 /= batch_size
        return batch_loss / batch_size, batch_acc / batch_size

    def backward_vectorized(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, float]:
        """Same contract and results as ``backward``, with matrix operations over the
        whole batch instead of a Python loop.

        Task 4.3 (4 points).
        X_batch: (N, 3), y_batch: (N, 1). Sets grads_W1 (3, 4), grads_b1 (4,),
        grads_W2 (4, 1), grads_b2 (1,). Returns (batch_loss, batch_acc).
        """
        n = X_batch.shape[0]
        z1 = X_batch @ self.W1 + self.b1
        a1 = sigmoid(z1)
        z2 = a1 @ self.W2 + self.b2
        a2 = sigmoid(z2)
        delta_L = (a2 - y_batch) * sigmoid_prime(z2)
        delta_l = (delta_L @ self.W2.T) * sigmoid_prime(z1)
        self.grads_W2 = a1.T @ delta_L / n
        self.grads_b2 = delta_L.sum(axis=0) / n
        self.grads_W1 = X_batch.T @ delta_l / n
        self.grads_b1 = delta_l.sum(axis=0) / n
        batch_loss = 0.5 * np.sum((a2 - y_batch) ** 2) / n
        batch_acc = np.mean((a2 > 0.5) == y_batch)
        return batch_loss, batch_acc

    def update(self) -> None:
        """Gradient step with the stored grads."""
        self.W2 -= self.lr * self.grads_W2
        self.b2 -= self.lr * self.grads_b2
        self.W1 -= self.lr * self.grads_W1
        self.b1 -= self.lr * self.grads_b1

    def train_step(
        self, X_batch: np.ndarray, y_batch: np.ndarray, verbose: bool = False
    ) -> tuple[float, float]:
        """backward, print like the seed if verbose, update. Returns (batch_loss, batch_acc)."""
        batch_loss, batch_acc = self.backward(X_batch, y_batch)
        if verbose:
            print(f"loss:{batch_loss} batch_acc:{batch_acc} batch_size:{len(X_batch)} lr:{self.lr}")
        self.update()
        return batch_loss, batch_acc


def train_or(
    lr: float = 10.0, steps: int = 100, verbose: bool = False
) -> tuple[Network, list[float]]:
    """The seed's main: Network(lr=10), 100 full-batch steps on OR. Returns the net, the losses."""
    net = Network(lr=lr)
    losses = [net.train_step(OR_X, OR_Y, verbose)[0] for _ in range(steps)]
    return net, losses
