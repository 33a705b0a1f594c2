"""Public tests of the moons assignment (seed 002): every backward is checked
against finite differences of the given forward pass and objective, then the
networks are trained on the two-moons data. Run `pytest` in this folder.

The reference loss curves are every 5th loss of the reference solution on
`make_moons_data()`: reference_curve_three_layer.json from
`build_model(X, y, nn_hdim=3, num_passes=5000)`, reference_curve_four_layer.json
from `deep.train(X, y, [3, 3], "tanh", num_passes=5000, d=10e-3)`, each
`losses[::5]` (1,001 values).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader import random_array

N, D, H, C = 5, 2, 7, 3  # distinct sizes, so a transposed gradient cannot hide
REG = 0.1  # large enough that a wrong regularization gradient stands out
PASSES = 5000  # the seed runs 20000; the accuracy is reached after 1000
# The reference curves keep every 5th loss (the chart shows all of yours). An odd
# stride: the fixed-rate run oscillates with period 2, and both phases stay drawn.
EVERY = 5
HERE = Path(__file__).resolve().parent


def reference_curve(name: str) -> list[float]:
    return json.loads((HERE / f"reference_curve_{name}.json").read_text())


def random_params(rng: np.random.Generator, sizes: list[int]) -> dict:
    """W1, b1, ..., WL, bL for layer sizes [n_in, hidden..., n_out]."""
    params = {}
    for i in range(1, len(sizes)):
        params[f"W{i}"] = random_array((sizes[i - 1], sizes[i]), rng)
        params[f"b{i}"] = random_array((1, sizes[i]), rng)
    return params


def regularization(params: dict, reg: float) -> dict:
    """The regularization part of each weight's gradient: reg * Wi."""
    return {name: reg * value for name, value in params.items() if name.startswith("W")}


def clear_of_relu_kinks(params: dict, X: np.ndarray) -> bool:
    """True when no ReLU input of the network comes within 0.1 of 0."""
    a = X
    for i in range(1, len(params) // 2):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        if np.abs(z).min() < 0.1:
            return False
        a = np.maximum(0, z)
    return True


# --- Task 3.1: backward of the three-layer tanh net (net.py) -----------------


@pytest.mark.task("3.1", points=1, name="backward")
def test_backward_tanh_step(student, checker):
    """The tanh step alone: with X = I, W2 = [I | 0] (h hidden units into c != h
    classes, so no shape is square where a transpose could hide), reg_lambda = 0
    and probs chosen so that delta3 = [dout | 0], the dW1 that backward returns
    is exactly delta2, the gradient with respect to the pre-activation x = z1,
    so a wrong tanh derivative gets its name (the messages say what dout, x
    and out stand for)."""
    net = student.net
    n, h, c = 5, 3, 4  # X = I makes the input dimension n; W2 = [I | 0] is (h, c)
    y = checker.rng.integers(0, c, n)
    onehot = np.eye(c)[y]
    w2 = np.hstack([np.eye(h), np.zeros((h, c - h))])

    def forward(x):
        a1 = np.tanh(x)
        return a1, (x, a1.copy())

    def backward(dout, cache):
        x, a1 = cache
        model = {"W1": x, "b1": np.zeros((1, h)), "W2": w2.copy(), "b2": np.zeros((1, c))}
        probs = np.hstack([dout, np.zeros((n, c - h))]) + onehot
        # the whole dict: a missing key reads "returned no key 'W1'", not a KeyError here
        return net.backward(model, probs, (np.eye(n), a1), y, reg_lambda=0.0)

    x = random_array((n, h), checker.rng, scale=1.5)
    words = {
        "W1": 'the gradient "W1"',
        "dout": "the gradient flowing into tanh",
        "x": "tanh's input",
        "out": "tanh's output",
    }
    checker.layer(
        forward, backward, {"x": x}, kind="tanh", name="backward", grads=("W1",), words=words
    )


@pytest.mark.task("3.1", points=3, name="backward")
def test_backward(student, checker):
    net = student.net
    X = random_array((N, D), checker.rng)
    y = checker.rng.integers(0, C, N)
    params = random_params(checker.rng, [D, H, C])

    def gradient(model):
        probs, cache = net.forward(model, X)
        return net.backward(model, probs, cache, y, REG)

    checker.function(
        lambda model: net.objective(model, X, y, REG),
        gradient,
        params,
        reg=regularization(params, REG),
        batch=N,
        name="backward",
    )


@pytest.mark.task("3.1", points=1, name="backward")
def test_backward_leaves_probs_unchanged(student, checker):
    """The same check with probs inside the cache, so changing it in place is caught."""
    net = student.net
    X = random_array((N, D), checker.rng)
    y = checker.rng.integers(0, C, N)
    params = random_params(checker.rng, [D, H, C])

    def forward(W1, b1, W2, b2):
        model = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        probs, cache = net.forward(model, X)
        return net.objective(model, X, y, REG), {"model": model, "probs": probs, "cache": cache}

    def backward(saved):
        return net.backward(saved["model"], saved["probs"], saved["cache"], y, REG)

    checker.loss(forward, backward, params, reg=regularization(params, REG), name="backward")


@pytest.mark.task("3.1", points=1, name="backward")
def test_three_layer_training(student, checker):
    net = student.net
    X, y = student.data.make_moons_data()
    model = net.init_model(3, X.shape[1], 2)
    probs, cache = net.forward(model, X)
    with checker.given("the given three-layer training (build_model)"):
        check_gradient_shapes("backward", net.backward(model, probs, cache, y), model)
        model, losses = net.build_model(X, y, nn_hdim=3, num_passes=PASSES)
        checker.loss_curve(
            losses, reference_curve("three_layer"), "moons, 3 tanh units", reference_every=EVERY
        )
        checker.decision_boundary(lambda points: net.predict(model, points), X, y)
        check_training(losses, float(np.mean(net.predict(model, X) == y)), loss_below=0.075)


# --- Task 3.2: activation derivatives (deep.py) ------------------------------


@pytest.mark.parametrize(
    "activation",
    [
        pytest.param(name, marks=pytest.mark.task("3.2", points=1, name="activation_prime"))
        for name in ("tanh", "sigmoid", "relu")
    ],
)
def test_activation_prime(student, checker, activation):
    """dout * activation_prime(a) must be the gradient of a = f(x)."""
    deep = student.deep
    f = deep.ACTIVATIONS[activation]

    def forward(x):
        a = f(x)
        return a, a.copy()

    def backward(dout, a):
        prime = deep.activation_prime(a, activation)
        return None if prime is None else dout * prime

    x = random_array((N, H), checker.rng, scale=1.5, kinks=(0.0,))
    checker.layer(forward, backward, {"x": x}, kind=activation, name="activation_prime")


# --- Task 3.3: backward of any depth (deep.py) -------------------------------


def task_3_3(points: int) -> pytest.MarkDecorator:
    return pytest.mark.task("3.3", points=points, name="backward")


@pytest.mark.parametrize(
    ("activation", "hidden"),
    [
        pytest.param("tanh", [H, 4], id="tanh", marks=task_3_3(points=2)),
        pytest.param("sigmoid", [H, 4], id="sigmoid", marks=task_3_3(points=1)),
        pytest.param("relu", [H], id="relu", marks=task_3_3(points=1)),
    ],
)
def test_deep_backward(student, checker, activation, hidden):
    deep = student.deep
    X = random_array((N, D), checker.rng)
    y = checker.rng.integers(0, C, N)
    params = random_params(checker.rng, [D, *hidden, C])
    while activation == "relu" and not clear_of_relu_kinks(params, X):
        params = random_params(checker.rng, [D, *hidden, C])

    def gradient(params):
        probs, cache = deep.forward(params, X, activation)
        return deep.backward(params, probs, cache, y, activation, REG)

    checker.function(
        lambda params: deep.objective(params, X, y, activation, REG),
        gradient,
        params,
        reg=regularization(params, REG),
        batch=N,
        name="backward",
    )


@pytest.mark.task("3.3", points=1, name="backward")
def test_deep_backward_leaves_probs_unchanged(student, checker):
    """The four-layer check with probs inside the cache, so changing it in place is caught."""
    deep = student.deep
    X = random_array((N, D), checker.rng)
    y = checker.rng.integers(0, C, N)
    params = random_params(checker.rng, [D, H, 4, C])

    def forward(W1, b1, W2, b2, W3, b3):
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
        probs, cache = deep.forward(params, X)
        saved = {"params": params, "probs": probs, "cache": cache}
        return deep.objective(params, X, y, "tanh", REG), saved

    def backward(saved):
        return deep.backward(saved["params"], saved["probs"], saved["cache"], y, "tanh", REG)

    checker.loss(forward, backward, params, reg=regularization(params, REG), name="backward")


@pytest.mark.task("3.3", points=1, name="backward")
def test_four_layer_training(student, checker):
    """Seed 002's exercise: two tanh hidden layers of 3 units, learning-rate annealing."""
    deep = student.deep
    X, y = student.data.make_moons_data()
    params = deep.init_params([X.shape[1], 3, 3, 2])
    probs, cache = deep.forward(params, X)
    with checker.given("the given four-layer training (deep.train)"):
        check_gradient_shapes("deep.backward", deep.backward(params, probs, cache, y), params)
        params, losses = deep.train(X, y, [3, 3], "tanh", num_passes=PASSES, d=10e-3)
        checker.loss_curve(
            losses,
            reference_curve("four_layer"),
            "moons, 3 + 3 tanh units, annealing",
            reference_every=EVERY,
        )
        checker.decision_boundary(lambda points: deep.predict(params, points), X, y)
        check_training(losses, float(np.mean(deep.predict(params, X) == y)), loss_below=0.07)


def check_gradient_shapes(function: str, grads: dict, params: dict) -> None:
    """Before training: a gradient under each parameter's key, of its shape."""
    assert isinstance(grads, dict), (
        f"{function} returned {type(grads).__name__}, not a dict; the handout asks for a dict "
        f"with the parameters' keys {list(params)}"
    )
    for name, value in params.items():
        assert name in grads, (
            f"{function} returned no gradient under the key {name!r} (its keys: "
            f"{[str(k) for k in grads][:8]}); the handout asks for the parameters' keys "
            f"{list(params)}"
        )
        got = np.shape(grads[name])
        assert got == value.shape, (
            f"{function} returns the gradient {name!r} of shape {got} but {name} has shape "
            f"{value.shape}; gradient descent needs them to match (check keepdims=True and "
            "the order of products)"
        )


def check_training(losses: list[float], accuracy: float, loss_below: float) -> None:
    assert np.isfinite(losses[-1]) and losses[-1] < loss_below, (
        f"after {PASSES} passes the loss is {losses[-1]:.3g} (it started at {losses[0]:.3g}); "
        f"the reference gets below {loss_below}, so a gradient is still wrong"
    )
    assert accuracy >= 0.97, (
        f"after {PASSES} passes the network classifies {accuracy:.1%} of the moons points "
        "correctly; the reference reaches 97.5%, so a gradient is still wrong"
    )
