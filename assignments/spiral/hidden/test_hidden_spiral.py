"""Hidden tests of the spiral assignment, for TAs (not in the handout): other
shapes, large logits, ReLU inputs exactly at the kink, more classes.

Run from assignments/spiral: `pytest hidden --grader-submission=PATH` (or with
`tests` too for the full grade). Every test is marked hidden=True, so students
see only that a hidden test failed.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import random_array


def random_params(rng, X, h, k):
    while True:
        params = {
            "W": random_array((X.shape[1], h), rng),
            "b": random_array((1, h), rng),
            "W2": random_array((h, k), rng),
            "b2": random_array((1, k), rng),
        }
        if np.abs(X @ params["W"] + params["b"]).min() > 0.1:
            return params


@pytest.mark.parametrize(
    ("n", "k", "scale"),
    [
        pytest.param(8, 5, 2.0, id="8x5"),
        pytest.param(1, 4, 2.0, id="one-sample"),
        pytest.param(6, 3, 30.0, id="large-logits"),
    ],
)
@pytest.mark.task("2.1", points=1, name="softmax_loss_backward", hidden=True)
def test_softmax_loss_backward_more(student, checker, n, k, scale):
    net = student.net
    scores = random_array((n, k), checker.rng, scale=scale)
    y = checker.rng.integers(0, k, n)
    checker.loss(
        net.softmax_loss_forward,
        net.softmax_loss_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.task("2.1", points=1, name="softmax_loss_backward", hidden=True)
def test_softmax_loss_backward_uniform_start(student):
    """At the start of training the scores are all 0: dscores = (1/K - onehot) / N."""
    net = student.net
    n, k = 4, 3
    y = np.array([0, 2, 1, 2])
    _, cache = net.softmax_loss_forward(np.zeros((n, k)), y)
    expected = (np.full((n, k), 1 / k) - np.eye(k)[y]) / n
    np.testing.assert_allclose(
        net.softmax_loss_backward(cache),
        expected,
        atol=1e-12,
        err_msg="with all scores 0 every probability is 1/K; dscores should be (1/K - 1[y]) / N",
    )


@pytest.mark.parametrize(
    ("n", "d", "h", "k"),
    [pytest.param(8, 3, 11, 5, id="8x3x11x5"), pytest.param(1, 2, 6, 4, id="one-sample")],
)
@pytest.mark.task("2.2", points=1, name="scores_backward", hidden=True)
def test_scores_backward_more_shapes(student, checker, n, d, h, k):
    net = student.net
    X = random_array((n, d), checker.rng)

    def forward(W, b, W2, b2):
        return net.scores_forward({"W": W, "b": b, "W2": W2, "b2": b2}, X)

    checker.layer(forward, net.scores_backward, random_params(checker.rng, X, h, k))


@pytest.mark.task("2.2", points=1, name="scores_backward", hidden=True)
def test_scores_backward_relu_step_at_the_kink(student, checker):
    """Some ReLU inputs exactly 0: any value between the one-sided derivatives passes."""
    net = student.net
    n, h = 6, 8
    x = random_array((n, h), checker.rng, kinks=(0.0,))
    x[0, :3] = 0.0
    x[4, 5] = 0.0

    k = h + 3  # W2 = [I | 0] is (h, k): nothing square where a transpose could hide
    w2 = np.hstack([np.eye(h), np.zeros((h, k - h))])

    def forward(x):
        hidden = np.maximum(0, x)
        return hidden, (np.eye(n), hidden, w2.copy())

    def backward(dout, cache):
        dscores = np.hstack([dout, np.zeros((n, k - h))])
        return net.scores_backward(dscores, cache)["W"]

    checker.layer(forward, backward, {"x": x}, kind="relu", name="scores_backward")


@pytest.mark.task("2.2", points=1, name="scores_backward", hidden=True)
def test_scores_backward_whole_layer_at_the_kink(student, checker):
    """b chosen so that a few entries of X @ W + b are exactly 0."""
    net = student.net
    n, d, h, k = 5, 2, 7, 3
    X = random_array((n, d), checker.rng)
    params = random_params(checker.rng, X, h, k)
    params["b"][0, :2] = -(X @ params["W"])[0, :2]

    def forward(W, b, W2, b2):
        return net.scores_forward({"W": W, "b": b, "W2": W2, "b2": b2}, X)

    checker.layer(forward, net.scores_backward, params)


@pytest.mark.parametrize("reg", [pytest.param(0.0, id="no-reg"), pytest.param(2.5, id="reg-2.5")])
@pytest.mark.task("2.3", points=1, name="l2_backward", hidden=True)
def test_l2_backward_other_strengths(student, checker, reg):
    net = student.net
    rng = checker.rng
    biases = {"b": random_array((1, 9), rng), "b2": random_array((1, 4), rng)}

    def forward(W, W2):
        params = {"W": W, "W2": W2, **biases}
        return net.l2_forward(params, reg), params

    def backward(params):
        return net.l2_backward(params, reg)

    inputs = {"W": random_array((3, 9), rng), "W2": random_array((9, 4), rng)}
    checker.loss(forward, backward, inputs, name="l2_backward")


@pytest.mark.task("2.3", points=1, name="l2_backward", hidden=True)
def test_loss_and_grads_five_classes(student, checker):
    net = student.net
    n, d, h, k, reg = 8, 2, 9, 5, 1e-3
    X = random_array((n, d), checker.rng)
    y = checker.rng.integers(0, k, n)
    params = random_params(checker.rng, X, h, k)
    checker.function(
        lambda p: net.loss_and_grads(p, X, y, reg)[0],
        lambda p: net.loss_and_grads(p, X, y, reg)[1],
        params,
        reg={"W": reg * params["W"], "W2": reg * params["W2"]},
        batch=n,
        name="loss_and_grads",
    )


@pytest.mark.task("2.2", points=1, name="scores_backward", hidden=True)
def test_four_arm_spiral(student, checker):
    net = student.net
    X, y = student.data.make_spiral(N=60, K=4, seed=1)
    with checker.given("the given four-arm spiral training (train)"):
        params, losses = net.train(X, y, num_iters=3000)
        checker.loss_curve(losses, label="four-arm spiral")
        checker.decision_boundary(lambda points: net.predict(params, points), X, y)
        accuracy = net.accuracy(params, X, y)
        assert accuracy >= 0.85, (
            f"on a four-arm spiral the network classifies {accuracy:.1%} of the points correctly "
            "after 3000 iterations; the reference reaches 90%"
        )
