"""Hidden tests of the moons assignment, for TAs (not in the handout): other
shapes, saturated tanh and sigmoid units, large logits, ReLU inputs exactly at
the kink, five layers, and seed 002's exercises (minibatch gradient descent,
learning-rate annealing, three classes).

Run from assignments/moons: `pytest hidden --grader-submission=PATH` (or with
`tests` too for the full grade). Every test is marked hidden=True, so students
see only that a hidden test failed.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import random_array

REG = 0.01  # the seed's reg_lambda


def random_params(rng, sizes, scales=None):
    scales = scales or [1.0] * (len(sizes) - 1)
    params = {}
    for i in range(1, len(sizes)):
        params[f"W{i}"] = random_array((sizes[i - 1], sizes[i]), rng, scale=scales[i - 1])
        params[f"b{i}"] = random_array((1, sizes[i]), rng)
    return params


def regularization(params, reg):
    return {name: reg * value for name, value in params.items() if name.startswith("W")}


def check_net(checker, net, X, y, params, reg=REG):
    def gradient(model):
        probs, cache = net.forward(model, X)
        return net.backward(model, probs, cache, y, reg)

    checker.function(
        lambda model: net.objective(model, X, y, reg),
        gradient,
        params,
        reg=regularization(params, reg),
        batch=len(X),
        name="backward",
    )


def check_deep(checker, deep, X, y, params, activation, reg=REG):
    def gradient(params):
        probs, cache = deep.forward(params, X, activation)
        return deep.backward(params, probs, cache, y, activation, reg)

    checker.function(
        lambda params: deep.objective(params, X, y, activation, reg),
        gradient,
        params,
        reg=regularization(params, reg),
        batch=len(X),
        name="backward",
    )


# --- Task 3.1 ------------------------------------------------------------------


@pytest.mark.task("3.1", points=1, name="backward", hidden=True)
def test_backward_two_classes_seed_reg(student, checker):
    X = random_array((8, 2), checker.rng)
    y = checker.rng.integers(0, 2, 8)
    check_net(checker, student.net, X, y, random_params(checker.rng, [2, 4, 2]))


@pytest.mark.task("3.1", points=1, name="backward", hidden=True)
def test_backward_saturated_tanh_and_large_logits(student, checker):
    """Large W1 drives most tanh units near +-1; large W2 makes probs nearly one-hot."""
    X = random_array((6, 2), checker.rng)
    y = checker.rng.integers(0, 3, 6)
    params = random_params(checker.rng, [2, 5, 3], scales=[3.0, 4.0])
    check_net(checker, student.net, X, y, params)


@pytest.mark.task("3.1", points=1, name="backward", hidden=True)
def test_backward_tanh_step_saturated(student, checker):
    net = student.net
    n, h, c = 6, 4, 5  # W2 = [I | 0] is (h, c): nothing square where a transpose could hide
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
        return net.backward(model, probs, (np.eye(n), a1), y, reg_lambda=0.0)["W1"]

    x = random_array((n, h), checker.rng, scale=3.0)
    checker.layer(forward, backward, {"x": x}, kind="tanh", name="backward")


@pytest.mark.task("3.1", points=1, name="backward", hidden=True)
def test_annealing(student, checker):
    """Seed 002's exercise 2: learning rate epsilon / (1 + d t) with d = 10e-3."""
    net = student.net
    X, y = student.data.make_moons_data()
    with checker.given("the given training with annealing (build_model)"):
        model, losses = net.build_model(X, y, nn_hdim=3, num_passes=3000, d=10e-3)
        checker.loss_curve(losses, label="moons, 3 tanh units, annealing")
        accuracy = float(np.mean(net.predict(model, X) == y))
        assert losses[-1] < 0.08 and accuracy >= 0.97, (
            f"with annealing the loss is {losses[-1]:.3g} and the accuracy {accuracy:.1%}; "
            "the reference reaches 0.074 and 97.5%"
        )


# --- Task 3.2 ------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.task("3.2", points=1, name="activation_prime", hidden=True)
def test_activation_prime_saturated(student, checker, activation):
    deep = student.deep
    f = deep.ACTIVATIONS[activation]

    def forward(x):
        a = f(x)
        return a, a.copy()

    def backward(dout, a):
        prime = deep.activation_prime(a, activation)
        return None if prime is None else dout * prime

    x = random_array((5, 7), checker.rng, scale=6.0)
    checker.layer(forward, backward, {"x": x}, kind=activation, name="activation_prime")


@pytest.mark.task("3.2", points=1, name="activation_prime", hidden=True)
def test_activation_prime_relu_at_the_kink(student):
    """a == 0 exactly (x <= 0): the docstring asks for 0 there; 1 where a > 0."""
    a = np.array([[0.0, 0.5, 0.0], [2.0, 0.0, 1e-12]])
    got = student.deep.activation_prime(a, "relu")
    np.testing.assert_array_equal(
        np.asarray(got, dtype=float),
        (a > 0).astype(float),
        err_msg="the ReLU derivative must be 1 where a > 0 and 0 where a == 0",
    )


@pytest.mark.task("3.2", points=1, name="activation_prime", hidden=True)
def test_activation_prime_keeps_its_input(student):
    deep = student.deep
    for activation, a in [("tanh", np.tanh([[0.3, -0.8]])), ("sigmoid", np.array([[0.2, 0.9]]))]:
        before = a.copy()
        deep.activation_prime(a, activation)
        np.testing.assert_array_equal(
            a, before, err_msg=f"activation_prime(a, {activation!r}) changed a in place"
        )


# --- Task 3.3 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "hidden"),
    [
        pytest.param("sigmoid", [6, 5, 4], id="five-layer-sigmoid"),
        pytest.param("tanh", [6, 5, 4], id="five-layer-tanh"),
        pytest.param("tanh", [4], id="three-layer"),
    ],
)
@pytest.mark.task("3.3", points=1, name="backward", hidden=True)
def test_deep_backward_more_depths(student, checker, activation, hidden):
    X = random_array((7, 2), checker.rng)
    y = checker.rng.integers(0, 3, 7)
    params = random_params(checker.rng, [2, *hidden, 3])
    check_deep(checker, student.deep, X, y, params, activation)


@pytest.mark.task("3.3", points=1, name="backward", hidden=True)
def test_deep_backward_saturated_sigmoid(student, checker):
    X = random_array((6, 2), checker.rng)
    y = checker.rng.integers(0, 2, 6)
    params = random_params(checker.rng, [2, 5, 4, 2], scales=[5.0, 3.0, 1.0])
    check_deep(checker, student.deep, X, y, params, "sigmoid")


@pytest.mark.task("3.3", points=1, name="backward", hidden=True)
def test_deep_backward_relu_at_the_kink(student, checker):
    """b1 chosen so that a few first-layer ReLU inputs are exactly 0."""
    X = random_array((5, 2), checker.rng)
    y = checker.rng.integers(0, 3, 5)
    params = random_params(checker.rng, [2, 6, 3])
    params["b1"][0, :2] = -(X @ params["W1"])[0, :2]
    check_deep(checker, student.deep, X, y, params, "relu")


@pytest.mark.task("3.3", points=1, name="backward", hidden=True)
def test_minibatch_sigmoid_annealing(student, checker):
    """Seed 002's exercises 1 and 3: four-layer sigmoid net, minibatches of 128, annealing."""
    deep = student.deep
    X, y = student.data.make_moons_data()
    with checker.given("the given minibatch training (deep.train)"):
        _, losses = deep.train(X, y, [3, 3], "sigmoid", num_passes=3000, d=10e-3, batch_size=128)
        checker.loss_curve(losses, label="moons, 3 + 3 sigmoid units, minibatch 128, annealing")
        assert losses[-1] < 0.5 * losses[0], (
            f"with minibatches the loss only went from {losses[0]:.3g} to {losses[-1]:.3g} in "
            "3000 passes; the reference more than halves it"
        )


@pytest.mark.task("3.3", points=1, name="backward", hidden=True)
def test_three_classes(student, checker):
    """Seed 002's exercise 4: three classes (the two moons and a blob)."""
    deep = student.deep
    X, y = student.data.make_three_class_data()
    with checker.given("the given three-class training (deep.train)"):
        params, losses = deep.train(X, y, [5], num_passes=3000)
        checker.loss_curve(losses, label="three classes, 5 tanh units")
        checker.decision_boundary(lambda points: deep.predict(params, points), X, y)
        accuracy = float(np.mean(deep.predict(params, X) == y))
        assert accuracy > 0.9, (
            f"on three classes the network classifies {accuracy:.1%} of the points correctly; "
            "the reference gets above 98%"
        )
