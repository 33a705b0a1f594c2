"""Hidden tests of the layers assignment (TAs only, never in the handout): other
shapes, large logits, saturated sigmoids, inputs exactly at the ReLU kink and
float32 inputs. Run with `pytest hidden` in the assignment folder."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from grader import ROWS, Blocks, random_array

NAMES = {
    "1.1": "linear_backward",
    "1.2": "relu_backward",
    "1.3": "leaky_relu_backward",
    "1.4": "sigmoid_backward",
    "1.5": "tanh_backward",
    "1.6": "softmax_loss_backward",
    "1.7": "sum_squares_loss_backward",
    "1.8": "mse_loss_backward",
    "1.9": "bce_loss_backward",
    "1.10": "l2_backward",
    "1.11": "sigmoid_gd",
    "1.12": "tanh_gd",
    "1.13": "Layer.backprop",
    "1.14": "Network.backprop",
    "1.15": "two_layer_regression_backward",
}


def hidden(task: str) -> pytest.MarkDecorator:
    """A hidden test of one task: students see only its score until the due date."""
    return pytest.mark.task(task, points=0.5, name=NAMES[task], hidden=True)


def case(task: str, *values, id: str):
    return pytest.param(*values, id=id, marks=hidden(task))


# --- 1.1 - 1.5 layers ---


@pytest.mark.parametrize(
    ("n", "d", "h", "dtype"),
    [
        case("1.1", 1, 5, 7, np.float64, id="one-sample"),
        case("1.1", 17, 64, 10, np.float64, id="17x64x10"),
        case("1.1", 4, 6, 9, np.float32, id="float32"),
    ],
)
def test_linear_backward_more(student, checker, n, d, h, dtype):
    L, rng = student.layers, checker.rng
    inputs = {
        "x": random_array((n, d), rng, dtype=dtype),
        "w": random_array((d, h), rng, dtype=dtype),
        "b": random_array((h,), rng, dtype=dtype),
    }
    checker.layer(L.linear_forward, L.linear_backward, inputs, kind="linear")


def _at_kinks(rng, shape, dtype=np.float64):
    """Random values with every third one exactly 0.0 (the kink)."""
    x = random_array(shape, rng, kinks=(0.0,))
    x.reshape(-1)[::3] = 0.0
    return x.astype(dtype)


@pytest.mark.parametrize(
    ("shape", "dtype", "at_kink"),
    [
        case("1.2", (4, 6), np.float64, True, id="exactly-at-the-kink"),
        case("1.2", (2, 3, 5), np.float64, False, id="3d"),
        case("1.2", (5, 8), np.float32, True, id="float32"),
    ],
)
def test_relu_backward_more(student, checker, shape, dtype, at_kink):
    L = student.layers
    if at_kink:
        x = _at_kinks(checker.rng, shape, dtype)  # ReLU'(0) may be 0 or 1: both are accepted
    else:
        x = random_array(shape, checker.rng, kinks=(0.0,), dtype=dtype)
    checker.layer(L.relu_forward, L.relu_backward, {"x": x}, kind="relu")


# No float32 case: the reference's np.where(x > 0, 1.0, alpha) returns float64.
@pytest.mark.parametrize(
    ("shape", "alpha"),
    [
        case("1.3", (4, 6), 0.2, id="exactly-at-the-kink"),
        case("1.3", (2, 3, 5), 0.01, id="3d"),
    ],
)
def test_leaky_relu_backward_more(student, checker, shape, alpha):
    L = student.layers
    checker.layer(
        L.leaky_relu_forward,
        L.leaky_relu_backward,
        {"x": _at_kinks(checker.rng, shape)},
        constants={"alpha": alpha},
        kind="leaky_relu",
    )


@pytest.mark.parametrize(
    ("kind", "scale", "dtype"),
    [
        case("1.4", "sigmoid", 15.0, np.float64, id="sigmoid-saturated"),
        case("1.4", "sigmoid", 2.0, np.float32, id="sigmoid-float32"),
        case("1.5", "tanh", 8.0, np.float64, id="tanh-saturated"),
        case("1.5", "tanh", 1.0, np.float32, id="tanh-float32"),
    ],
)
def test_activation_backward_more(student, checker, kind, scale, dtype):
    L = student.layers
    forward = {"sigmoid": L.sigmoid_forward, "tanh": L.tanh_forward}[kind]
    backward = {"sigmoid": L.sigmoid_backward, "tanh": L.tanh_backward}[kind]
    x = random_array((2, 3, 5), checker.rng, scale=scale, dtype=dtype)
    checker.layer(forward, backward, {"x": x}, kind=kind)


# --- 1.6 - 1.10 losses ---


@pytest.mark.parametrize(
    ("n", "c", "scale", "dtype"),
    [
        case("1.6", 9, 10, 50.0, np.float64, id="logits-50"),
        case("1.6", 1, 10, 2.0, np.float64, id="one-sample"),
        case("1.6", 13, 2, 2.0, np.float32, id="float32"),
    ],
)
def test_softmax_loss_backward_more(student, checker, n, c, scale, dtype):
    S = student.losses
    scores = random_array((n, c), checker.rng, scale=scale, dtype=dtype)
    if scale > 10:
        scores[0] += 1000.0  # one row of huge logits: exp would overflow without the max shift
    y = checker.rng.integers(0, c, n)
    checker.loss(
        S.softmax_loss_forward,
        S.softmax_loss_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.parametrize(
    ("task", "shape", "dtype"),
    [
        case("1.7", "1.7", (1, 1), np.float64, id="sum-squares-1x1"),
        case("1.7", "1.7", (6, 3), np.float32, id="sum-squares-float32"),
        case("1.8", "1.8", (7,), np.float64, id="mse-1d"),
        case("1.8", "1.8", (2, 3, 4), np.float64, id="mse-3d"),
        case("1.8", "1.8", (6, 3), np.float32, id="mse-float32"),
    ],
)
def test_squared_losses_more(student, checker, task, shape, dtype):
    S = student.losses
    forward, backward = {
        "1.7": (S.sum_squares_loss_forward, S.sum_squares_loss_backward),
        "1.8": (S.mse_loss_forward, S.mse_loss_backward),
    }[task]
    pred = random_array(shape, checker.rng, dtype=dtype)
    y = random_array(shape, checker.rng, dtype=dtype)
    checker.loss(forward, backward, {"pred": pred}, constants={"y": y})


@pytest.mark.parametrize(
    ("shape", "low", "dtype"),
    [
        case("1.9", (6, 1), 0.05, np.float64, id="column"),
        case("1.9", (8,), 1e-3, np.float64, id="nearly-saturated"),
        case("1.9", (7,), 0.05, np.float32, id="float32"),
    ],
)
def test_bce_loss_backward_more(student, checker, shape, low, dtype):
    S = student.losses
    p = checker.rng.uniform(low, 1 - low, shape)
    p.reshape(-1)[:2] = (low, 1 - low)  # outputs of saturated sigmoids
    y = (checker.rng.uniform(size=shape) > 0.5).astype(dtype)
    checker.loss(
        S.bce_loss_forward,
        S.bce_loss_backward,
        {"p": p.astype(dtype)},
        constants={"y": y},
        kind="binary_cross_entropy",
    )


@pytest.mark.parametrize(
    ("shape", "reg", "dtype"),
    [
        case("1.10", (2, 3, 4), 0.3, np.float64, id="3d"),
        case("1.10", (5, 7), 1e-3, np.float32, id="float32"),
    ],
)
def test_l2_backward_more(student, checker, shape, reg, dtype):
    S = student.losses
    w = random_array(shape, checker.rng, dtype=dtype)
    checker.loss(S.l2_forward, S.l2_backward, {"w": w}, constants={"reg": reg})


# --- 1.11 - 1.14 the Layer class ---


@pytest.mark.parametrize(
    ("activation", "scale", "dtype"),
    [
        case("1.11", "sigmoid", 15.0, np.float64, id="sigmoid-saturated"),
        case("1.11", "sigmoid", 2.0, np.float32, id="sigmoid-float32"),
        case("1.12", "tanh", 8.0, np.float64, id="tanh-saturated"),
        case("1.12", "tanh", 1.0, np.float32, id="tanh-float32"),
    ],
)
def test_gd_more(student, checker, activation, scale, dtype):
    K = student.layer_class
    g = {"sigmoid": K.sigmoid, "tanh": np.tanh}[activation]
    gd = {"sigmoid": K.sigmoid_gd, "tanh": K.tanh_gd}[activation]

    def forward(x):
        y = g(x)
        return y, (x, y)

    def backward(dout, cache):
        derivative = gd(cache[1])
        return None if derivative is None else dout * derivative

    x = random_array((4, 6), checker.rng, scale=scale, dtype=dtype)
    checker.layer(forward, backward, {"x": x}, kind=activation, name=gd.__name__)


@pytest.mark.parametrize(
    ("activation", "n", "d", "h", "scale"),
    [
        case("1.13", "sigmoid", 1, 5, 7, 1.0, id="one-sample"),
        case("1.13", "tanh", 6, 4, 1, 1.0, id="one-output"),
        case("1.13", "sigmoid", 5, 6, 3, 6.0, id="saturated"),
    ],
)
def test_layer_backprop_more(student, checker, activation, n, d, h, scale):
    K = student.layer_class

    blank = K.Layer(d, h, activation)

    def forward(X, W, b):
        layer = copy.copy(blank)  # a fresh layer per evaluation, without re-seeding its init
        layer.W, layer.b = W, b
        return layer.forward(X), layer

    def backward(dEdY, layer):
        return layer.backprop(dEdY)

    inputs = {
        "X": random_array((n, d), checker.rng),
        "W": random_array((h, d), checker.rng, scale=scale),
        "b": random_array((h,), checker.rng),
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


@pytest.mark.parametrize(
    ("sizes", "activations", "n"),
    [
        case("1.14", [5, 7, 6, 4], ["sigmoid", "tanh", "linear"], 3, id="three-layers"),
        case("1.14", [4, 3], ["sigmoid"], 1, id="one-layer-one-sample"),
    ],
)
def test_network_backprop_more(student, checker, sizes, activations, n):
    K = student.layer_class
    net = K.Network(sizes, activations, seed=0)
    X, T = random_array((n, sizes[0]), checker.rng), checker.rng.uniform(0, 1, (n, sizes[-1]))
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
        return None if grads is None else [g for pair in grads for g in pair]

    params = {name: getattr(net.layers[int(name[1:])], name[0]).copy() for name in names}
    checker.function(loss, gradient, params, name="Network.backprop")


# --- 1.15 seed 003's regression net ---


@pytest.mark.parametrize(
    ("n", "d", "h", "c", "dtype"),
    [
        case("1.15", 8, 13, 9, 3, np.float64, id="other-shapes"),
        case("1.15", 1, 5, 7, 4, np.float64, id="one-sample"),
        case("1.15", 4, 6, 9, 2, np.float32, id="float32"),
    ],
)
def test_two_layer_regression_backward_more(student, checker, n, d, h, c, dtype):
    R = student.regression
    x = random_array((n, d), checker.rng, dtype=dtype)
    inputs = {
        "w1": random_array((d, h), checker.rng, kinks=(0.0,), dtype=dtype),
        "w2": random_array((h, c), checker.rng, dtype=dtype),
    }

    def forward(w1, w2):
        return R.two_layer_regression_forward(x, w1, w2)

    checker.layer(
        forward, R.two_layer_regression_backward, inputs, name="two_layer_regression_backward"
    )
