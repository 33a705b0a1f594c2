"""Seed 002: a three-layer net (2 inputs, nn_hdim tanh units, softmax outputs).

    z1 = X W1 + b1,  a1 = tanh(z1),  z2 = a1 W2 + b2,  probs = softmax(z2)

The seed trains on the *summed* cross-entropy plus reg_lambda/2 (|W1|^2 + |W2|^2)
(that is what its gradients differentiate) but prints that total divided by N.
Every floating-point operation below is in the seed's order: with the fixed
learning rate the run oscillates around iteration 2000, and a different
rounding there leads to different printed losses.
"""

from __future__ import annotations

import numpy as np

Model = dict[str, np.ndarray]

EPSILON = 0.01  # learning rate
REG_LAMBDA = 0.01  # regularization strength


def init_model(nn_hdim: int, nn_input_dim: int = 2, nn_output_dim: int = 2, seed: int = 0) -> Model:
    """The seed's ``np.random.seed(0)`` init.

    W1 (in, h) = randn / sqrt(in), W2 (h, out) = randn / sqrt(h), zero biases (1, h), (1, out).
    """
    rng = np.random.RandomState(seed)
    return {
        "W1": rng.randn(nn_input_dim, nn_hdim) / np.sqrt(nn_input_dim),
        "b1": np.zeros((1, nn_hdim)),
        "W2": rng.randn(nn_hdim, nn_output_dim) / np.sqrt(nn_hdim),
        "b2": np.zeros((1, nn_output_dim)),
    }


def softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax without the max shift, as in the seed (the logits here stay small)."""
    exp_scores = np.exp(z)
    return exp_scores / np.sum(exp_scores, axis=1, keepdims=True)


def forward(model: Model, X: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """X: (N, 2) -> probs (N, C) and cache (X, a1 (N, h))."""
    a1 = np.tanh(X.dot(model["W1"]) + model["b1"])
    probs = softmax(a1.dot(model["W2"]) + model["b2"])
    return probs, (X, a1)


def objective(model: Model, X: np.ndarray, y: np.ndarray, reg_lambda: float = REG_LAMBDA) -> float:
    """What the training gradients differentiate: summed cross-entropy + reg/2 (|W1|^2 + |W2|^2)."""
    probs, _ = forward(model, X)
    data_loss = -np.log(probs[range(len(X)), y]).sum()
    return float(data_loss + reg_lambda / 2 * (np.sum(model["W1"] ** 2) + np.sum(model["W2"] ** 2)))


def calculate_loss(
    model: Model, X: np.ndarray, y: np.ndarray, reg_lambda: float = REG_LAMBDA
) -> float:
    """The seed's printed loss: objective / N, computed exactly as the seed does."""
    probs, _ = forward(model, X)
    return loss_from_probs(model, probs, y, reg_lambda)


def loss_from_probs(
    model: Model, probs: np.ndarray, y: np.ndarray, reg_lambda: float = REG_LAMBDA
) -> float:
    """calculate_loss(model, X, y), given probs = forward(model, X)[0]: no second forward pass."""
    num_examples = len(probs)
    corect_logprobs = -np.log(probs[np.arange(num_examples), y])
    data_loss = np.sum(corect_logprobs)
    data_loss += reg_lambda / 2 * (np.sum(np.square(model["W1"])) + np.sum(np.square(model["W2"])))
    return float(1.0 / num_examples * data_loss)


def predict(model: Model, x: np.ndarray) -> np.ndarray:
    """x: (N, 2) -> most probable class (N,)."""
    probs, _ = forward(model, x)
    return np.argmax(probs, axis=1)


def backward(
    model: Model,
    probs: np.ndarray,
    cache: tuple[np.ndarray, np.ndarray],
    y: np.ndarray,
    reg_lambda: float = REG_LAMBDA,
) -> Model:
    """Gradient of ``objective`` (summed cross-entropy + L2 on W1, W2).

    Task 3.1 (6 points).
    probs: (N, C) from forward, cache: (X (N, 2), a1 (N, h)), y: (N,) labels.
    Returns {"W1": (2, h), "b1": (1, h), "W2": (h, C), "b2": (1, C)}.
    Leave probs unchanged (copy it before subtracting 1 from the true classes).
    """
    X, a1 = cache
    grads = {name: np.zeros_like(value) for name, value in model.items()}
    for sample in range(len(X)):  # one example at a time, as on the lecture slide
        delta3 = probs[sample].copy()
        delta3[y[sample]] -= 1
        delta2 = (model["W2"] @ delta3) * (1 - a1[sample] ** 2)
        grads["W2"] = np.outer(a1[sample], delta3)
        grads["b2"] += delta3
        grads["W1"] += np.outer(X[sample], delta2)
        grads["b1"] += delta2
    grads["W1"] += reg_lambda * model["W1"]
    grads["W2"] += reg_lambda * model["W2"]
    return grads


def build_model(
    X: np.ndarray,
    y: np.ndarray,
    nn_hdim: int,
    num_passes: int = 20000,
    print_loss: bool = False,
    epsilon: float = EPSILON,
    reg_lambda: float = REG_LAMBDA,
    d: float = 0.0,
    seed: int = 0,
) -> tuple[Model, list[float]]:
    """Full-batch gradient descent, learning rate epsilon / (1 + d * i) (d = 0: fixed, as the seed).

    X: (N, 2), y: (N,). Returns the model and its calculate_loss at every pass:
    losses[i] after i updates (losses[0]: the initial model, losses[num_passes]:
    the trained one), taken from the probs each pass computes anyway.
    print_loss prints every 1000th update's loss, the rows the seed prints
    ("Loss after iteration i" is losses[i + 1]).
    """
    model = init_model(nn_hdim, X.shape[1], int(y.max()) + 1, seed)
    losses = []
    for i in range(num_passes):
        probs, cache = forward(model, X)
        losses.append(loss_from_probs(model, probs, y, reg_lambda))  # before backward sees probs
        grads = backward(model, probs, cache, y, reg_lambda)
        epsilon_ = epsilon / (1 + d * i)
        for name in ("W1", "b1", "W2", "b2"):
            model[name] += -epsilon_ * grads[name]
        if print_loss and i % 1000 == 0:
            print(f"Loss after iteration {i}: {calculate_loss(model, X, y, reg_lambda):f}")
    losses.append(calculate_loss(model, X, y, reg_lambda))
    return model, losses
