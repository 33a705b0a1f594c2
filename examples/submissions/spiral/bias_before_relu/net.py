"""Seed 000: two-layer ReLU net with softmax cross-entropy and L2, trained by gradient descent.

hidden = max(0, X @ W + b),  scores = hidden @ W2 + b2
loss = mean cross-entropy(softmax(scores), y) + 0.5 reg (sum W**2 + sum W2**2)
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]


def init_params(D: int = 2, h: int = 100, K: int = 3, seed: int = 0) -> Params:
    """W (D, h), W2 (h, K) ~ 0.01 N(0, 1); b (1, h), b2 (1, K) zeros."""
    rng = np.random.RandomState(seed)
    return {
        "W": 0.01 * rng.randn(D, h),
        "b": np.zeros((1, h)),
        "W2": 0.01 * rng.randn(h, K),
        "b2": np.zeros((1, K)),
    }


def scores_forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Class scores of the two-layer ReLU net.

    X: (N, D). Returns scores (N, K) and cache (X, hidden (N, h), W2 (h, K)).
    """
    hidden = np.maximum(0, X @ params["W"] + params["b"])
    scores = hidden @ params["W2"] + params["b2"]
    return scores, (X, hidden, params["W2"])


def scores_backward(dscores: np.ndarray, cache: tuple[np.ndarray, ...]) -> Params:
    """Backpropagate dscores into W2, b2, through the ReLU, into W, b.

    Task 2.2 (6 points).
    dscores: (N, K). cache: (X (N, D), hidden (N, h), W2 (h, K)).
    Returns {"W": (D, h), "b": (1, h), "W2": (h, K), "b2": (1, K)}, without regularization.
    """
    X, hidden, W2 = cache
    grads = {"W2": hidden.T @ dscores, "b2": dscores.sum(axis=0, keepdims=True)}
    upstream = dscores @ W2.T
    grads["b"] = upstream.sum(axis=0, keepdims=True)  # summed before the ReLU gate below
    upstream = upstream * (hidden > 0)
    grads["W"] = X.T @ upstream
    return grads


def softmax_loss_forward(
    scores: np.ndarray, y: np.ndarray
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Average cross-entropy of softmax(scores).

    scores: (N, K), y: (N,) labels. Returns the loss and cache (probs (N, K), y).
    """
    # Shifting by the row max leaves the probabilities unchanged and avoids overflow.
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    n = scores.shape[0]
    data_loss = -np.log(probs[range(n), y]).sum() / n
    return float(data_loss), (probs, y)


def softmax_loss_backward(cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Gradient of the average cross-entropy with respect to the scores.

    Task 2.1 (4 points).
    cache: (probs (N, K), y (N,)). Returns dscores (N, K).
    """
    probs, y = cache
    num_examples = probs.shape[0]
    dscores = probs.copy()
    dscores[range(num_examples), y] -= 1
    dscores /= num_examples
    return dscores


def l2_forward(params: Params, reg: float) -> float:
    """0.5 reg (sum W**2 + sum W2**2); biases are not regularized."""
    return float(0.5 * reg * np.sum(params["W"] ** 2) + 0.5 * reg * np.sum(params["W2"] ** 2))


def l2_backward(params: Params, reg: float) -> Params:
    """Gradient of 0.5 reg (sum W**2 + sum W2**2).

    Task 2.3 (2 points).
    params: W (D, h), b (1, h), W2 (h, K), b2 (1, K).
    Returns {"W": (D, h), "W2": (h, K)}.
    """
    dW = reg * params["W"]
    dW2 = reg * params["W2"]
    return {"W": dW, "W2": dW2}


def loss_and_grads(
    params: Params, X: np.ndarray, y: np.ndarray, reg: float
) -> tuple[float, Params]:
    """Total loss and its gradient for every parameter; X: (N, D), y: (N,)."""
    scores, cache = scores_forward(params, X)
    data_loss, loss_cache = softmax_loss_forward(scores, y)
    grads = scores_backward(softmax_loss_backward(loss_cache), cache)
    for name, dreg in l2_backward(params, reg).items():
        grads[name] = grads[name] + dreg
    return data_loss + l2_forward(params, reg), grads


def train(
    X: np.ndarray,
    y: np.ndarray,
    h: int = 100,
    step_size: float = 1.0,
    reg: float = 1e-3,
    num_iters: int = 10000,
    seed: int = 0,
    print_every: int = 0,
) -> tuple[Params, list[float]]:
    """Full-batch gradient descent with the seed's hyperparameters.

    X: (N, D), y: (N,). Returns the trained params and the loss of every iteration.
    print_every > 0 prints "iteration i: loss L" like the seed.
    """
    params = init_params(X.shape[1], h, int(y.max()) + 1, seed)
    history = []
    for i in range(num_iters):
        loss, grads = loss_and_grads(params, X, y, reg)
        history.append(loss)
        if print_every and i % print_every == 0:
            print(f"iteration {i}: loss {loss:f}")
        for name in params:
            params[name] += -step_size * grads[name]
    return params, history


def predict(params: Params, X: np.ndarray) -> np.ndarray:
    """X: (N, D) -> predicted labels (N,)."""
    scores, _ = scores_forward(params, X)
    return np.argmax(scores, axis=1)


def accuracy(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of X (N, D) whose predicted label equals y (N,)."""
    return float(np.mean(predict(params, X) == y))
