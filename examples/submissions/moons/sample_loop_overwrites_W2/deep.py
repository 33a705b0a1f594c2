"""Seed 002's exercises: any number of hidden layers, tanh / sigmoid / ReLU, 2 or 3 classes,
full-batch or minibatch gradient descent, learning-rate annealing epsilon / (1 + d t).

Parameters are W1, b1, ..., WL, bL with Wi (n_{i-1}, n_i) and bi (1, n_i); the last
layer is a softmax. The gradients are those of the summed cross-entropy plus
reg_lambda/2 times the squared norm of *every* Wi, as in the seed's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import numpy as np

Params = dict[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid as in the seed, elementwise."""
    return 1 / (1 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise."""
    return np.maximum(0, x)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "relu": relu,
}


def activation_prime(a: np.ndarray, activation: str) -> np.ndarray:
    """Derivative of the activation at z, written with its output a = f(z).

    Task 3.2 (3 points).
    a: (N, n) hidden activations; activation: "tanh", "sigmoid" or "relu".
    Returns f'(z), (N, n) (ReLU: 0 where a == 0).
    """
    if activation == "tanh":
        return 1 - np.power(a, 2)
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    raise ValueError(f"unknown activation {activation!r}")


def init_params(sizes: list[int], seed: int = 0) -> Params:
    """sizes: [n_in, hidden..., n_out]. Wi = randn(n_{i-1}, n_i) / sqrt(n_{i-1}), drawn in
    order from one RandomState(seed) as the seed does; zero biases (1, n_i).
    """
    rng = np.random.RandomState(seed)
    params = {}
    for i, (n_in, n_out) in enumerate(pairwise(sizes), start=1):
        params[f"W{i}"] = rng.randn(n_in, n_out) / np.sqrt(n_in)
        params[f"b{i}"] = np.zeros((1, n_out))
    return params


def num_layers(params: Params) -> int:
    """Number of weight matrices."""
    return len(params) // 2


def forward(
    params: Params, X: np.ndarray, activation: str = "tanh"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """X: (N, n_in) -> probs (N, n_out) and cache [X, a1, ..., a_{L-1}] (inputs of each layer)."""
    f = ACTIVATIONS[activation]
    activations = [X]
    L = num_layers(params)
    for i in range(1, L):
        activations.append(f(activations[-1].dot(params[f"W{i}"]) + params[f"b{i}"]))
    z = activations[-1].dot(params[f"W{L}"]) + params[f"b{L}"]
    exp_scores = np.exp(z)  # unshifted, as in the seed
    return exp_scores / np.sum(exp_scores, axis=1, keepdims=True), activations


def backward(
    params: Params,
    probs: np.ndarray,
    cache: list[np.ndarray],
    y: np.ndarray,
    activation: str = "tanh",
    reg_lambda: float = 0.01,
) -> Params:
    """Gradient of ``objective`` for any depth.

    Task 3.3 (6 points).
    probs: (N, n_out) from forward, cache: [X, a1, ..., a_{L-1}], y: (N,) labels.
    Returns one gradient per parameter: Wi (n_{i-1}, n_i), bi (1, n_i).
    Leave probs unchanged.
    """
    num_examples = len(y)
    delta = probs.copy()
    delta[range(num_examples), y] -= 1
    grads = {}
    for i in range(num_layers(params), 0, -1):
        a_prev = cache[i - 1]  # the input of layer i
        grads[f"W{i}"] = a_prev.T.dot(delta) + reg_lambda * params[f"W{i}"]
        grads[f"b{i}"] = np.sum(delta, axis=0, keepdims=True)
        if i > 1:
            delta = delta.dot(params[f"W{i}"].T) * activation_prime(a_prev, activation)
    return grads


def objective(
    params: Params, X: np.ndarray, y: np.ndarray, activation: str = "tanh", reg_lambda: float = 0.01
) -> float:
    """What ``backward`` differentiates: summed cross-entropy + reg/2 sum_i |Wi|^2."""
    probs, _ = forward(params, X, activation)
    reg = sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, num_layers(params) + 1))
    return float(-np.log(probs[range(len(X)), y]).sum() + reg_lambda / 2 * reg)


def calculate_loss(
    params: Params, X: np.ndarray, y: np.ndarray, activation: str = "tanh", reg_lambda: float = 0.01
) -> float:
    """The seed's printed loss, computed exactly as the seed does.

    Quirk kept on purpose: the seed regularizes only W1 and W2 here, even for the
    four-layer net (W3 is left out), while its gradients regularize every Wi.
    For one hidden layer this is objective / N.
    """
    probs, _ = forward(params, X, activation)
    return loss_from_probs(params, probs, y, reg_lambda)


def loss_from_probs(
    params: Params, probs: np.ndarray, y: np.ndarray, reg_lambda: float = 0.01
) -> float:
    """calculate_loss(params, X, y, activation), given probs = forward(params, X, activation)[0]:
    no second forward pass."""
    num_examples = len(probs)
    corect_logprobs = -np.log(probs[np.arange(num_examples), y])
    data_loss = np.sum(corect_logprobs)
    data_loss += (
        reg_lambda / 2 * (np.sum(np.square(params["W1"])) + np.sum(np.square(params["W2"])))
    )
    return float(1.0 / num_examples * data_loss)


def predict(params: Params, X: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """X: (N, n_in) -> most probable class (N,)."""
    probs, _ = forward(params, X, activation)
    return np.argmax(probs, axis=1)


def minibatches(n: int, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """Endless index batches: a seeded shuffle per epoch, cut into batch_size pieces
    (the last short piece of an epoch is dropped). Yields index arrays (batch_size,).
    """
    rng = np.random.RandomState(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def train(
    X: np.ndarray,
    y: np.ndarray,
    hidden_sizes: list[int],
    activation: str = "tanh",
    num_passes: int = 20000,
    epsilon: float = 0.01,
    reg_lambda: float = 0.01,
    d: float = 0.0,
    batch_size: int | None = None,
    seed: int = 0,
    print_loss: bool = False,
) -> tuple[Params, list[float]]:
    """Gradient descent with learning rate epsilon / (1 + d * i); the exercises use d = 10e-3.

    X: (N, n_in), y: (N,) labels 0..C-1. batch_size None: full batch; otherwise one
    seeded minibatch per pass (gradients summed over the batch, as the seed).
    Returns params and calculate_loss on the whole set at every pass: losses[i]
    after i updates (losses[0]: the initial params, losses[num_passes]: the
    trained ones); full batch takes it from the probs each pass computes anyway.
    print_loss prints every 1000th update's loss, as the seed
    ("Loss after iteration i" is losses[i + 1]).
    """
    params = init_params([X.shape[1], *hidden_sizes, int(y.max()) + 1], seed)
    batches = minibatches(len(X), batch_size, seed) if batch_size else None
    losses = []
    Xb, yb = X, y
    for i in range(num_passes):
        if batches is not None:
            losses.append(calculate_loss(params, X, y, activation, reg_lambda))  # the whole set
            idx = next(batches)
            Xb, yb = X[idx], y[idx]
        probs, cache = forward(params, Xb, activation)
        if batches is None:
            losses.append(loss_from_probs(params, probs, y, reg_lambda))  # before backward
        grads = backward(params, probs, cache, yb, activation, reg_lambda)
        epsilon_ = epsilon / (1 + d * i)
        for name in params:
            params[name] += -epsilon_ * grads[name]
        if print_loss and i % 1000 == 0:
            loss = calculate_loss(params, X, y, activation, reg_lambda)
            print(f"Loss after iteration {i}: {loss:f}")
    losses.append(calculate_loss(params, X, y, activation, reg_lambda))
    return params, losses
