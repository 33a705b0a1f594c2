"""Public tests of the layers assignment: every backward is checked against
finite differences of its (given) forward pass. Run `pytest` in this folder."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from grader import ROWS, Blocks, LayerCheck, random_array

N, D, H, C = 3, 5, 7, 4  # distinct sizes, so a transposed gradient cannot hide


@pytest.mark.task("1.1", points=3, name="linear_backward")
def test_linear_backward(student, checker):
    L, rng = student.layers, checker.rng
    inputs = {
        "x": random_array((N, D), rng),
        "w": random_array((D, H), rng),
        "b": random_array((H,), rng),
    }
    checker.layer(L.linear_forward, L.linear_backward, inputs, kind="linear")


@pytest.mark.task("1.2", points=2, name="relu_backward")
def test_relu_backward(student, checker):
    L = student.layers
    x = random_array((N, H), checker.rng, kinks=(0.0,))
    checker.layer(L.relu_forward, L.relu_backward, {"x": x}, kind="relu")


@pytest.mark.task("1.3", points=2, name="leaky_relu_backward")
def test_leaky_relu_backward(student, checker):
    L = student.layers
    x = random_array((N, H), checker.rng, kinks=(0.0,))
    checker.layer(
        L.leaky_relu_forward,
        L.leaky_relu_backward,
        {"x": x},
        constants={"alpha": 0.1},
        kind="leaky_relu",
    )


@pytest.mark.task("1.4", points=2, name="sigmoid_backward")
def test_sigmoid_backward(student, checker):
    L = student.layers
    x = random_array((N, H), checker.rng, scale=2.0)
    checker.layer(L.sigmoid_forward, L.sigmoid_backward, {"x": x}, kind="sigmoid")


@pytest.mark.task("1.5", points=2, name="tanh_backward")
def test_tanh_backward(student, checker):
    L = student.layers
    x = random_array((N, H), checker.rng)
    checker.layer(L.tanh_forward, L.tanh_backward, {"x": x}, kind="tanh")


@pytest.mark.task("1.6", points=4, name="softmax_loss_backward")
def test_softmax_loss_backward(student, checker):
    S = student.losses
    scores = random_array((N, C), checker.rng, scale=2.0)
    y = checker.rng.integers(0, C, N)
    checker.loss(
        S.softmax_loss_forward,
        S.softmax_loss_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.task("1.7", points=2, name="sum_squares_loss_backward")
def test_sum_squares_loss_backward(student, checker):
    S = student.losses
    pred, y = random_array((N, C), checker.rng), random_array((N, C), checker.rng)
    checker.loss(
        S.sum_squares_loss_forward, S.sum_squares_loss_backward, {"pred": pred}, constants={"y": y}
    )


@pytest.mark.task("1.8", points=2, name="mse_loss_backward")
def test_mse_loss_backward(student, checker):
    S = student.losses
    pred, y = random_array((N, C), checker.rng), random_array((N, C), checker.rng)
    checker.loss(S.mse_loss_forward, S.mse_loss_backward, {"pred": pred}, constants={"y": y})


@pytest.mark.task("1.9", points=3, name="bce_loss_backward")
def test_bce_loss_backward(student, checker):
    S = student.losses
    p = checker.rng.uniform(0.05, 0.95, N + 2)
    y = (checker.rng.uniform(size=N + 2) > 0.5).astype(float)
    checker.loss(
        S.bce_loss_forward,
        S.bce_loss_backward,
        {"p": p},
        constants={"y": y},
        kind="binary_cross_entropy",
    )


@pytest.mark.task("1.10", points=2, name="l2_backward")
def test_l2_backward(student, checker):
    S = student.losses
    checker.loss(
        S.l2_forward,
        S.l2_backward,
        {"w": random_array((D, H), checker.rng)},
        constants={"reg": 0.1},
    )


@pytest.mark.task("1.11", points=1, name="sigmoid_gd")
def test_sigmoid_gd(student, checker):
    _check_gd(student, checker, "sigmoid")


@pytest.mark.task("1.11", points=1, name="sigmoid_gd")
def test_sigmoid_gd_at_saturation(student):
    y = np.array([1e-9, 0.5, 1 - 1e-9])
    got = np.asarray(student.layer_class.sigmoid_gd(y), dtype=float)
    want = y * (1 - y)
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-9, atol=0), (
        f"sigmoid_gd on saturated outputs Y = [1e-9, 0.5, 1 - 1e-9] returned {got.tolist()}, "
        f"not Y * (1 - Y) = {want.tolist()}: write it with the output Y itself (Y is already "
        "sigmoid(A)), in a form that stays exact near 0 and 1"
    )


@pytest.mark.task("1.12", points=2, name="tanh_gd")
def test_tanh_gd(student, checker):
    _check_gd(student, checker, "tanh")


def _check_gd(student, checker, activation):
    """gd(Y) is g'(A) written with Y = g(A): check dout * gd(g(A)) against g."""
    K = student.layer_class
    g = {"sigmoid": K.sigmoid, "tanh": np.tanh}[activation]
    gd = {"sigmoid": K.sigmoid_gd, "tanh": K.tanh_gd}[activation]

    def forward(x):
        y = g(x)
        return y, (x, y)

    def backward(dout, cache):
        return dout * gd(cache[1])

    x = random_array((N, H), checker.rng, scale=1.5)
    checker.layer(forward, backward, {"x": x}, kind=activation, name=gd.__name__)


@pytest.mark.parametrize(
    "activation",
    [
        pytest.param("sigmoid", marks=pytest.mark.task("1.13", points=2, name="Layer.backprop")),
        pytest.param("tanh", marks=pytest.mark.task("1.13", points=1, name="Layer.backprop")),
        pytest.param("linear", marks=pytest.mark.task("1.13", points=1, name="Layer.backprop")),
    ],
)
def test_layer_backprop(student, checker, activation):
    K = student.layer_class

    blank = K.Layer(D, H, activation)

    def forward(X, W, b):
        layer = copy.copy(blank)  # a fresh layer per evaluation, without re-seeding its init
        layer.W, layer.b = W, b
        return layer.forward(X), layer

    def backward(dEdY, layer):
        return layer.backprop(dEdY)

    inputs = {
        "X": random_array((N, D), checker.rng),
        "W": random_array((H, D), checker.rng),
        "b": random_array((H,), checker.rng),
    }
    checker.layer(
        forward,
        backward,
        inputs,
        grads=("dEdX", "dEdW", "dEdb"),
        kind="layer",
        structure={"X": ROWS, "W": Blocks(0, 1), "b": Blocks(0, 1)},
        name="Layer.backprop",
    )


@pytest.mark.task("1.14", points=2, name="Network.backprop")
def test_network_backprop(student, checker):
    K = student.layer_class
    net = K.Network([D, H, C], ["tanh", "sigmoid"], seed=0)
    X, T = random_array((N, D), checker.rng), checker.rng.uniform(0, 1, (N, C))
    names = [f"{p}{i}" for i in range(len(net.layers)) for p in ("W", "b")]

    def load(params):
        for i, layer in enumerate(net.layers):
            layer.W, layer.b = params[f"W{i}"], params[f"b{i}"]

    def loss(params):
        load(params)
        return K.half_mse(net.forward(X), T)[0]

    def gradient(params):
        load(params)
        _, dEdY = K.half_mse(net.forward(X), T)
        grads = net.backprop(dEdY)
        return [g for pair in grads for g in pair]

    def layers():
        """Each Layer.backprop on its own, at the inputs the network gave it."""
        checks = []
        for i, layer in reversed(list(enumerate(net.layers))):

            def forward(X, W, b, layer=layer):
                alone = copy.copy(layer)
                alone.W, alone.b = W, b
                return alone.forward(X), alone

            inputs = {"X": layer.X.copy(), "W": layer.W.copy(), "b": layer.b.copy()}
            checks.append(
                LayerCheck(
                    f"layer {i} ({layer.W.shape[1]} -> {layer.W.shape[0]})",
                    forward,
                    lambda dEdY, alone: alone.backprop(dEdY),
                    inputs,
                    {"grads": ("dEdX", "dEdW", "dEdb"), "kind": "layer"},
                )
            )
        return checks

    params = {name: getattr(net.layers[int(name[1:])], name[0]).copy() for name in names}
    checker.function(loss, gradient, params, layers=layers, name="Network.backprop")


@pytest.mark.task("1.14", points=1, name="Network.backprop")
def test_network_learns_or(student, checker):
    K = student.layer_class
    with checker.given("the given OR training (train_logic)"):
        net, losses = K.train_logic(K.OR_T, epochs=100)
        checker.loss_curve(losses, label="half MSE on OR")
        # the untrained network may already answer OR right: it must also have learned
        assert losses[-1] < losses[0] / 10, (
            f"in 100 steps the loss only went from {losses[0]:.3g} to {losses[-1]:.3g}; with the "
            "right gradients it falls more than 10-fold: check Network.backprop"
        )
        predictions = (net.forward(K.XOR_X) > 0.5).astype(float)
        assert np.array_equal(predictions, K.OR_T), (
            f"after 100 steps the network predicts {predictions.ravel().tolist()} for OR; "
            "expected [0, 1, 1, 1]: check Network.backprop"
        )


@pytest.mark.task("1.15", points=3, name="two_layer_regression_backward")
def test_two_layer_regression_backward(student, checker):
    R = student.regression
    x = random_array((N, D), checker.rng)
    inputs = {
        "w1": random_array((D, H), checker.rng, kinks=(0.0,)),
        "w2": random_array((H, C), checker.rng),
    }

    def forward(w1, w2):
        return R.two_layer_regression_forward(x, w1, w2)

    checker.layer(
        forward, R.two_layer_regression_backward, inputs, name="two_layer_regression_backward"
    )


@pytest.mark.task("1.15", points=1, name="two_layer_regression_backward")
def test_regression_training_converges(student, checker):
    R = student.regression
    # seed 003's network and loop, 100 inputs wide instead of 1000 to keep the test quick
    with checker.given("the given regression training (train_regression)"):
        _, _, losses = R.train_regression(D_in=100, H=50, learning_rate=1e-5, steps=200)
        checker.loss_curve(losses, label="sum of squares (seed 003's net, D_in=100)")
        assert losses[-1] < losses[0] / 1000, (
            f"after 200 gradient steps the sum-of-squares loss only fell from {losses[0]:.3g} to "
            f"{losses[-1]:.3g}; with the right gradients it falls more than 1000-fold"
        )
