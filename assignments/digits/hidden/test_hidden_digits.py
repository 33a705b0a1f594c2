"""Hidden tests of the digits assignment (TAs only, never in the handout): other
shapes, large logits, saturated sigmoids, inputs exactly at ReLU's kink and
float32 inputs. Run with `pytest hidden` in the assignment folder."""

from __future__ import annotations

import numpy as np
import pytest

from grader import random_array

NAMES = {
    "4.1": "sigmoid_prime",
    "4.2": "Network.backward",
    "4.3": "Network.backward_vectorized",
    "4.4": "softmax_ce_backward",
    "4.5": "mse_backward",
    "4.6": "linear_backward",
    "4.7": "activation_backward",
    "4.8": "MLP.backward",
}


def hidden(task: str) -> pytest.MarkDecorator:
    """A hidden test of one task: students see only its score until the due date."""
    return pytest.mark.task(task, points=0.5, name=NAMES[task], hidden=True)


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


# --- 4.1 sigmoid_prime ---


def _check_sigmoid_prime(student, checker, x):
    K = student.network

    def forward(x):
        return K.sigmoid(x), x

    def backward(dout, x):
        derivative = K.sigmoid_prime(x)
        return None if derivative is None else dout * derivative

    checker.layer(forward, backward, {"x": x}, kind="sigmoid", name="sigmoid_prime")


@hidden("4.1")
def test_sigmoid_prime_saturated(student, checker):
    x = random_array((6, 7), checker.rng, scale=12.0)  # many units far into saturation
    _check_sigmoid_prime(student, checker, x)
    with np.errstate(over="ignore"):  # the given sigmoid overflows harmlessly at -750
        got = np.asarray(student.network.sigmoid_prime(np.array([-750.0, -40.0, 0.0, 40.0, 750.0])))
    assert np.all(np.isfinite(got)) and np.allclose(got, [0, 0, 0.25, 0, 0], rtol=0, atol=1e-12), (
        f"sigmoid_prime([-750, -40, 0, 40, 750]) gives {got.tolist()}; a saturated sigmoid has a "
        "slope of about 0 and sigmoid'(0) = 0.25"
    )


@hidden("4.1")
def test_sigmoid_prime_float32(student, checker):
    x = random_array((4, 9), checker.rng, scale=2.0, dtype=np.float32)
    _check_sigmoid_prime(student, checker, x)


# --- 4.2 / 4.3 the OR network ---


def _check_network(student, checker, method, n, weight_scale):
    K = student.network
    net = K.Network()
    rng = checker.rng
    X = np.c_[rng.standard_normal((n, 2)), np.ones(n)]
    y = rng.integers(0, 2, (n, 1)).astype(float)
    params = {
        "W1": random_array((3, 4), rng, scale=weight_scale),
        "b1": random_array((4,), rng, scale=weight_scale),
        "W2": random_array((4, 1), rng, scale=weight_scale),
        "b2": random_array((1,), rng),
    }

    def load(p):
        net.W1, net.b1, net.W2, net.b2 = p["W1"], p["b1"], p["W2"], p["b2"]

    def loss(p):
        load(p)
        return net.loss(X, y)

    def gradient(p):
        load(p)
        getattr(net, method)(X.copy(), y.copy())
        return {
            "dW1": _copy(net.grads_W1),
            "db1": _copy(net.grads_b1),
            "dW2": _copy(net.grads_W2),
            "db2": _copy(net.grads_b2),
        }

    checker.function(loss, gradient, params, batch=n, name=f"Network.{method}")


@hidden("4.2")
def test_network_backward_one_sample(student, checker):
    _check_network(student, checker, "backward", n=1, weight_scale=1.0)


@hidden("4.2")
def test_network_backward_saturated_batch(student, checker):
    _check_network(student, checker, "backward", n=17, weight_scale=3.0)


@hidden("4.3")
def test_network_backward_vectorized_one_sample(student, checker):
    _check_network(student, checker, "backward_vectorized", n=1, weight_scale=1.0)


@hidden("4.3")
def test_network_backward_vectorized_saturated_batch(student, checker):
    _check_network(student, checker, "backward_vectorized", n=17, weight_scale=3.0)


# --- 4.4 / 4.5 losses ---


@pytest.mark.parametrize(
    ("n", "c", "scale", "dtype"),
    [
        pytest.param(9, 10, 50.0, np.float64, id="logits-50", marks=hidden("4.4")),
        pytest.param(1, 10, 2.0, np.float64, id="one-sample", marks=hidden("4.4")),
        pytest.param(13, 2, 2.0, np.float32, id="float32", marks=hidden("4.4")),
    ],
)
def test_softmax_ce_backward_more(student, checker, n, c, scale, dtype):
    M = student.mlp
    scores = random_array((n, c), checker.rng, scale=scale, dtype=dtype)
    y = checker.rng.integers(0, c, n)
    checker.loss(
        M.softmax_ce_forward,
        M.softmax_ce_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
        name="softmax_ce_backward",
    )


@pytest.mark.parametrize(
    ("n", "c"),
    [
        pytest.param(1, 10, id="one-sample", marks=hidden("4.5")),
        pytest.param(17, 3, id="17x3", marks=hidden("4.5")),
    ],
)
def test_mse_backward_more(student, checker, n, c):
    M = student.mlp
    scores = random_array((n, c), checker.rng)
    y = checker.rng.integers(0, c, n)
    checker.loss(
        M.mse_forward, M.mse_backward, {"scores": scores}, constants={"y": y}, name="mse_backward"
    )


# --- 4.6 / 4.7 layers ---


@pytest.mark.parametrize(
    ("n", "d", "h", "dtype"),
    [
        pytest.param(1, 5, 7, np.float64, id="one-sample", marks=hidden("4.6")),
        pytest.param(4, 6, 9, np.float32, id="float32", marks=hidden("4.6")),
    ],
)
def test_linear_backward_more(student, checker, n, d, h, dtype):
    M = student.mlp
    inputs = {
        "x": random_array((n, d), checker.rng, dtype=dtype),
        "w": random_array((d, h), checker.rng, dtype=dtype),
        "b": random_array((h,), checker.rng, dtype=dtype),
    }
    checker.layer(M.linear_forward, M.linear_backward, inputs, kind="linear")


def _check_activation(student, checker, kind, x):
    checker.layer(
        student.mlp.activation_forward,
        student.mlp.activation_backward,
        {"x": x},
        constants={"kind": kind},
        kind=kind,
        name="activation_backward",
    )


@hidden("4.7")
def test_activation_backward_relu_exactly_at_the_kink(student, checker):
    x = random_array((4, 6), checker.rng, kinks=(0.0,))
    x[:, ::2] = 0.0  # ReLU'(0) may be taken as 0 or 1: both are accepted
    _check_activation(student, checker, "relu", x)


@pytest.mark.parametrize(
    ("kind", "scale"),
    [
        pytest.param("sigmoid", 12.0, marks=hidden("4.7")),
        pytest.param("tanh", 6.0, marks=hidden("4.7")),
    ],
)
def test_activation_backward_saturated(student, checker, kind, scale):
    _check_activation(student, checker, kind, random_array((2, 3, 5), checker.rng, scale=scale))


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=hidden("4.7")) for k in ("sigmoid", "tanh", "relu")],
)
def test_activation_backward_float32(student, checker, kind):
    kinks = (0.0,) if kind == "relu" else ()
    x = random_array((5, 8), checker.rng, scale=2.0, kinks=kinks, dtype=np.float32)
    _check_activation(student, checker, kind, x)


# --- 4.8 MLP.backward ---


@pytest.mark.parametrize(
    ("sizes", "activation", "n"),
    [
        pytest.param([5, 4], "relu", 3, id="no-hidden-layer", marks=hidden("4.8")),
        pytest.param([5, 7, 6, 8, 4], "relu", 3, id="three-hidden-layers", marks=hidden("4.8")),
        pytest.param([6, 9, 3], "tanh", 1, id="one-sample", marks=hidden("4.8")),
    ],
)
def test_mlp_backward_more(student, checker, sizes, activation, n):
    M = student.mlp
    net = M.MLP(sizes, activation, "softmax", seed=0)
    X = random_array((n, sizes[0]), checker.rng)
    inputs = {}
    for i, W in enumerate(net.W):
        inputs[f"W{i}"] = random_array(W.shape, checker.rng, scale=1.0 / np.sqrt(W.shape[0]))
        inputs[f"b{i}"] = random_array(W.shape[1:], checker.rng, scale=0.5)

    def forward(*arrays):
        net.W, net.b = list(arrays[0::2]), list(arrays[1::2])
        return net.forward(X)

    def backward(dscores, caches):
        returned = net.backward(dscores, caches)
        if returned is None or not isinstance(returned, tuple) or len(returned) != 2:
            return returned
        dW, db = returned
        return [g for pair in zip(dW, db, strict=False) for g in pair]

    checker.layer(forward, backward, inputs, name="MLP.backward")
