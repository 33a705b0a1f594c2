"""Public tests of the spiral assignment (seed 000): every backward is checked
against finite differences of the given forward pass, then the whole network
is trained on the spiral data. Run `pytest` in this folder.

The reference loss curve (reference_curve_spiral.json) is every 50th loss of
the reference solution's `train(X, y, num_iters=5000)` on `make_spiral()`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader import random_array

N, D, H, K = 5, 2, 7, 3  # distinct sizes, so a transposed gradient cannot hide
REG = 0.1  # large enough that a wrong regularization gradient stands out
ITERATIONS = 5000  # the seed runs 10000; the accuracy is 98% from iteration 3250 on
EVERY = 50  # the reference curve keeps every 50th loss (the chart shows all of yours)
HERE = Path(__file__).resolve().parent


def random_params(rng: np.random.Generator, X: np.ndarray, h: int = H, k: int = K) -> dict:
    """W, b, W2, b2 whose ReLU inputs X @ W + b all stay clear of the kink at 0."""
    while True:
        params = {
            "W": random_array((X.shape[1], h), rng),
            "b": random_array((1, h), rng),
            "W2": random_array((h, k), rng),
            "b2": random_array((1, k), rng),
        }
        if np.abs(X @ params["W"] + params["b"]).min() > 0.1:
            return params


@pytest.mark.task("2.1", points=4, name="softmax_loss_backward")
def test_softmax_loss_backward(student, checker):
    net = student.net
    scores = random_array((N, K), checker.rng, scale=2.0)
    y = checker.rng.integers(0, K, N)
    checker.loss(
        net.softmax_loss_forward,
        net.softmax_loss_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.task("2.2", points=1, name="scores_backward")
def test_scores_backward_relu_step(student, checker):
    """The ReLU step alone: with X = I and W2 = [I | 0] (H hidden units into
    K != H classes, so no shape is square where a transpose could hide) and
    dscores = [dout | 0], the dW that scores_backward returns is exactly dhidden
    after the mask, the gradient with respect to the ReLU's input x, so a wrong
    mask gets its name (the messages say what dout, x and dx are in your terms)."""
    net = student.net
    classes = H + 2
    w2 = np.hstack([np.eye(H), np.zeros((H, classes - H))])

    def forward(x):
        hidden = np.maximum(0, x)
        return hidden, (np.eye(N), hidden, w2.copy())

    def backward(dout, cache):
        dscores = np.hstack([dout, np.zeros((N, classes - H))])
        return net.scores_backward(dscores, cache)["W"]

    x = random_array((N, H), checker.rng, kinks=(0.0,))
    words = {
        "dx": 'the gradient "W"',
        "dout": "the gradient flowing into the ReLU",
        "x": "the ReLU's input",
    }
    checker.layer(forward, backward, {"x": x}, kind="relu", name="scores_backward", words=words)


@pytest.mark.task("2.2", points=4, name="scores_backward")
def test_scores_backward(student, checker):
    net = student.net
    X = random_array((N, D), checker.rng)

    def forward(W, b, W2, b2):
        return net.scores_forward({"W": W, "b": b, "W2": W2, "b2": b2}, X)

    checker.layer(forward, net.scores_backward, random_params(checker.rng, X))


@pytest.mark.task("2.2", points=1, name="scores_backward")
def test_spiral_training(student, checker):
    net = student.net
    X, y = student.data.make_spiral()
    with checker.given("the given spiral training (train)"):
        check_gradient_shapes(net, X, y)
        params, losses = net.train(X, y, num_iters=ITERATIONS)
        reference = json.loads((HERE / "reference_curve_spiral.json").read_text())
        checker.loss_curve(losses, reference, "spiral: softmax loss + L2", reference_every=EVERY)
        checker.decision_boundary(lambda points: net.predict(params, points), X, y)
        accuracy = net.accuracy(params, X, y)
        assert np.isfinite(losses[-1]) and losses[-1] < 0.3, (
            f"after {ITERATIONS} iterations the loss is {losses[-1]:.3g} (it started at "
            f"{losses[0]:.3g}); the reference gets below 0.3, so a gradient is still wrong"
        )
        assert accuracy >= 0.98, (
            f"after {ITERATIONS} iterations the network classifies {accuracy:.1%} of the spiral "
            "points correctly; the seed's network reaches 98%, so a gradient is still wrong"
        )


@pytest.mark.task("2.3", points=1, name="l2_backward")
def test_l2_backward(student, checker):
    net = student.net
    rng = checker.rng
    biases = {"b": random_array((1, H), rng), "b2": random_array((1, K), rng)}

    def forward(W, W2):
        params = {"W": W, "W2": W2, **biases}
        return net.l2_forward(params, REG), params

    def backward(params):
        return net.l2_backward(params, REG)

    inputs = {"W": random_array((D, H), rng), "W2": random_array((H, K), rng)}
    checker.loss(forward, backward, inputs, name="l2_backward")


@pytest.mark.task("2.3", points=1, name="l2_backward")
def test_loss_and_grads(student, checker):
    """The whole network, as `train` uses it: data gradients plus the L2 gradients."""
    net = student.net
    X = random_array((N, D), checker.rng)
    y = checker.rng.integers(0, K, N)
    params = random_params(checker.rng, X)
    with checker.given("loss_and_grads"):
        check_gradient_shapes(net, X, y)
    checker.function(
        lambda p: net.loss_and_grads(p, X, y, REG)[0],
        lambda p: net.loss_and_grads(p, X, y, REG)[1],
        params,
        reg={"W": REG * params["W"], "W2": REG * params["W2"]},
        batch=N,
        name="loss_and_grads",
    )


def check_gradient_shapes(net, X: np.ndarray, y: np.ndarray) -> None:
    """Before training: every gradient must have the shape of what it differentiates."""
    params = net.init_params(X.shape[1], 100, int(y.max()) + 1)
    scores, cache = net.scores_forward(params, X)
    _, loss_cache = net.softmax_loss_forward(scores, y)
    dscores = net.softmax_loss_backward(loss_cache)
    expect_shape("softmax_loss_backward", "its gradient", dscores, "scores", scores)
    grads = net.scores_backward(dscores, cache)
    for name in ("W", "b", "W2", "b2"):
        expect_shape("scores_backward", f"the gradient {name!r}", grads[name], name, params[name])
    for name, value in net.l2_backward(params, 1e-3).items():
        expect_shape("l2_backward", f"the gradient {name!r}", value, name, params[name])


def expect_shape(function: str, grad: str, value, name: str, like: np.ndarray) -> None:
    """The handout's names only: the student's own variables may be called anything."""
    got = np.shape(value)
    assert got == like.shape, (
        f"{function} returns {grad} of shape {got} but {name} has shape {like.shape}, "
        f"so gradient descent cannot update {name}"
    )
