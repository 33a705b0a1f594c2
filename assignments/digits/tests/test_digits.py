"""Public tests of the digits assignment (seed 001): every backward is checked
against finite differences of the given forward code, and the given training
loops must learn. Run `pytest` in this folder; open report.html afterwards."""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from grader import GradientCheckFailed, Status, check_layer, random_array

N, D, H, C = 3, 5, 7, 4  # distinct sizes, so a transposed gradient cannot hide
BATCH = 6  # samples in the OR-network checks (its layers are 3-4-1)
HERE = Path(__file__).parent


def reference_curve(name: str) -> list[float]:
    """The loss history of the reference solution, recorded once (numbers only)."""
    return json.loads((HERE / f"loss_curve_{name}.json").read_text())


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _calls_broken(check: Callable[[], object], helpers: dict[str, Callable[[], bool]]) -> None:
    """Run a gradient check; if it fails while a function it calls fails its own
    task, say so, since the mistake is probably there."""
    try:
        check()
    except GradientCheckFailed as exc:
        broken = [name for name, is_right in helpers.items() if not is_right()]
        if not broken:
            raise
        note = f" (it calls your {' and '.join(broken)}, which fails its own test: fix that first)"
        raise GradientCheckFailed(replace(exc.result, message=exc.result.message + note)) from None


def _right(result) -> bool:
    return result.status in (Status.PASSED, Status.NOT_ATTEMPTED)


# --- seed 001's OR network: sigmoid_prime, the per-sample loop, its vectorized twin ---


def _sigmoid_prime_check(K, x, **options):
    def forward(x):
        return K.sigmoid(x), x

    def backward(dout, x):
        derivative = K.sigmoid_prime(x)
        return None if derivative is None else dout * derivative

    return forward, backward, {"x": x}, {"kind": "sigmoid", "name": "sigmoid_prime", **options}


@pytest.mark.task("4.1", points=2, name="sigmoid_prime")
def test_sigmoid_prime(student, checker):
    forward, backward, inputs, options = _sigmoid_prime_check(
        student.network, random_array((N, H), checker.rng, scale=2.0)
    )
    checker.layer(forward, backward, inputs, **options)


def _sigmoid_prime_is_right(K) -> bool:
    x = np.random.default_rng(1).standard_normal((N, H))
    forward, backward, inputs, options = _sigmoid_prime_check(K, x)
    return _right(check_layer(forward, backward, inputs, **options))


def _or_batch(rng):
    """A batch like OR's (a third column of ones) and random weights of order 1
    (the network's own initial weights are tiny, which would hide mistakes)."""
    X = np.c_[
        rng.integers(0, 2, (BATCH, 2)) + 0.3 * rng.standard_normal((BATCH, 2)), np.ones(BATCH)
    ]
    y = rng.integers(0, 2, (BATCH, 1)).astype(float)
    params = {
        "W1": random_array((3, 4), rng),
        "b1": random_array((4,), rng),
        "W2": random_array((4, 1), rng, scale=2.0),
        "b2": random_array((1,), rng),
    }
    return X, y, params


def _load(net, params) -> None:
    net.W1, net.b1, net.W2, net.b2 = params["W1"], params["b1"], params["W2"], params["b2"]


def _check_network(student, checker, method: str) -> None:
    K = student.network
    net = K.Network()
    X, y, params = _or_batch(checker.rng)

    def loss(params):
        _load(net, params)
        return net.loss(X, y)

    def gradient(params):
        _load(net, params)
        getattr(net, method)(X.copy(), y.copy())
        return {name: _copy(getattr(net, name)) for name in GRADS}

    _calls_broken(
        lambda: checker.function(
            loss, gradient, params, grads=GRADS, batch=BATCH, name=f"Network.{method}"
        ),
        {"sigmoid_prime (Task 4.1)": lambda: _sigmoid_prime_is_right(K)},
    )


GRADS = ("grads_W1", "grads_b1", "grads_W2", "grads_b2")  # the handout's attributes


def _check_returns(student, checker, method: str) -> None:
    # inside given: a wrong return is named from the reference ("in the wrong order");
    # right (loss, acc) earn this test's point even when the gradients are wrong
    with checker.given(f"the check of what Network.{method} returns", judge_success=False):
        net = student.network.Network()
        X, y, params = _or_batch(checker.rng)
        _load(net, params)
        returned = getattr(net, method)(X, y)
        assert isinstance(returned, tuple | list) and len(returned) == 2, (
            f"Network.{method} must return (batch_loss, batch_acc), not {returned!r}"
        )
        batch_loss, batch_acc = returned
        _load(net, params)
        loss = net.loss(X, y)
        acc = float(np.mean((net.forward(X) > 0.5) == y))
        assert np.isclose(batch_loss, loss, rtol=1e-9, atol=0), (
            f"Network.{method} returned batch_loss {batch_loss!r}, but the mean of 0.5 (a2 - y)^2 "
            f"over the batch is {loss:.6g}"
        )
        assert np.isclose(batch_acc, acc, rtol=0, atol=1e-12), (
            f"Network.{method} returned batch_acc {batch_acc!r}, but {acc:.6g} of the batch has "
            "(a2 > 0.5) equal to y"
        )


@pytest.mark.task("4.2", points=3, name="Network.backward")
def test_network_backward(student, checker):
    _check_network(student, checker, "backward")


@pytest.mark.task("4.2", points=1, name="Network.backward")
def test_network_backward_returns_loss_and_accuracy(student, checker):
    _check_returns(student, checker, "backward")


@pytest.mark.task("4.2", points=1, name="Network.backward")
def test_network_learns_or(student, checker):
    K = student.network
    with checker.given("the given OR training (train_or)"):
        net, losses = K.train_or()  # the seed's main: lr = 10, 100 full-batch steps
        checker.loss_curve(losses, reference_curve("or"), "mean 0.5 (a2 - y)^2 on OR, per step")
        answers = (net.forward(K.OR_X) > 0.5).astype(int).ravel().tolist()
        assert answers == [0, 1, 1, 1], (
            f"after 100 training steps the network answers {answers} for the four OR inputs "
            "instead of [0, 1, 1, 1], so the gradients from Network.backward do not lead "
            "downhill yet"
        )


@pytest.mark.task("4.3", points=2, name="Network.backward_vectorized")
def test_network_backward_vectorized(student, checker):
    _check_network(student, checker, "backward_vectorized")


@pytest.mark.task("4.3", points=1, name="Network.backward_vectorized")
def test_network_backward_vectorized_returns_loss_and_accuracy(student, checker):
    _check_returns(student, checker, "backward_vectorized")


@pytest.mark.task("4.3", points=1, name="Network.backward_vectorized")
def test_vectorized_agrees_with_per_sample_loop(student, checker):
    """Both must give the same numbers (to rounding); the timing is shown, never graded."""
    K = student.network
    rng = checker.rng
    X = np.c_[rng.uniform(0, 1, (200, 2)), np.ones(200)]
    y = rng.integers(0, 2, (200, 1)).astype(float)
    net = K.Network()
    _, _, params = _or_batch(rng)
    _load(net, params)
    names = ("grads_W1", "grads_b1", "grads_W2", "grads_b2")
    with checker.given("the comparison of backward_vectorized with backward"):
        loop_returned = net.backward(X, y)
        loop = [np.array(getattr(net, n), dtype=float) for n in names]
        vectorized_returned = net.backward_vectorized(X, y)
        vectorized = [np.array(getattr(net, n), dtype=float) for n in names]
        which = "the gradient checks of Tasks 4.2 and 4.3 show which one is wrong"
        for name, a, b in zip(names, loop, vectorized, strict=True):
            if a.shape != b.shape:
                gap = f"shapes {a.shape} and {b.shape}"
            else:
                gap = f"largest difference {np.max(np.abs(a - b)):.3g}"
            assert a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-12), (
                f"{name} from backward_vectorized differs from the per-sample backward ({gap}); "
                f"both must compute the same gradient, and {which}"
            )
        assert np.allclose(loop_returned, vectorized_returned, rtol=0, atol=1e-12), (
            f"backward returns {loop_returned} but backward_vectorized returns "
            f"{vectorized_returned}; both must return the same (batch_loss, batch_acc)"
        )

        loop_s = min(timeit.repeat(lambda: net.backward(X, y), number=3, repeat=3)) / 3
        batch_s = min(timeit.repeat(lambda: net.backward_vectorized(X, y), number=3, repeat=3)) / 3
        print(
            f"your backward on 200 samples: per-sample loop {loop_s * 1e3:.2f} ms, "
            f"backward_vectorized {batch_s * 1e3:.2f} ms "
            f"(the loop takes {loop_s / batch_s:.1f}x as long)"
        )
        seen = student.timing.time_per_sample_vs_batch(number=3)
        print(
            "one layer's product, [W.dot(x) for x in X] vs X.dot(W.T) with X of 1000 x 5000 "
            f"(digits/timing.py): {seen['per_sample_s'] / 3 * 1e3:.1f} ms vs "
            f"{seen['batch_s'] / 3 * 1e3:.1f} ms ({seen['speedup']:.1f}x)"
        )


# --- the digits MLP: losses, layers, the whole backward pass, training ---


@pytest.mark.task("4.4", points=2, name="softmax_ce_backward")
def test_softmax_ce_backward(student, checker):
    M = student.mlp
    scores = random_array((N, C), checker.rng, scale=2.0)
    y = checker.rng.integers(0, C, N)
    checker.loss(
        M.softmax_ce_forward,
        M.softmax_ce_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.task("4.4", points=1, name="softmax_ce_backward")
def test_softmax_ce_backward_on_a_digits_sized_batch(student, checker):
    M = student.mlp
    scores = random_array((8, 10), checker.rng, scale=3.0)
    y = checker.rng.integers(0, 10, 8)
    checker.loss(
        M.softmax_ce_forward,
        M.softmax_ce_backward,
        {"scores": scores},
        constants={"y": y},
        kind="softmax_cross_entropy",
    )


@pytest.mark.task("4.5", points=2, name="mse_backward")
def test_mse_backward(student, checker):
    M = student.mlp
    scores = random_array((N, C), checker.rng)
    y = checker.rng.integers(0, C, N)
    checker.loss(M.mse_forward, M.mse_backward, {"scores": scores}, constants={"y": y})


def _linear_inputs(rng, n: int, d: int, h: int) -> dict[str, np.ndarray]:
    return {
        "x": random_array((n, d), rng),
        "w": random_array((d, h), rng),
        "b": random_array((h,), rng),
    }


@pytest.mark.task("4.6", points=2, name="linear_backward")
def test_linear_backward(student, checker):
    M = student.mlp
    inputs = _linear_inputs(checker.rng, N, D, H)
    checker.layer(M.linear_forward, M.linear_backward, inputs, kind="linear")


@pytest.mark.task("4.6", points=1, name="linear_backward")
def test_linear_backward_on_a_digits_sized_layer(student, checker):
    M = student.mlp
    inputs = _linear_inputs(checker.rng, 8, 64, 10)
    checker.layer(M.linear_forward, M.linear_backward, inputs, kind="linear")


def _activation_check(M, kind: str, rng):
    x = random_array((N, H), rng, scale=2.0, kinks=(0.0,) if kind == "relu" else ())
    # The gradient is called dx (of the pre-activation z) so the diagnosis can name the mistake.
    return (
        M.activation_forward,
        M.activation_backward,
        {"x": x},
        {"constants": {"kind": kind}, "kind": kind, "name": "activation_backward"},
    )


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.task("4.7", points=1, name="activation_backward"))
        for k in ("sigmoid", "tanh", "relu")
    ],
)
def test_activation_backward(student, checker, kind):
    forward, backward, inputs, options = _activation_check(student.mlp, kind, checker.rng)
    checker.layer(forward, backward, inputs, **options)


def _mlp_helpers(M, activation: str) -> dict[str, Callable[[], bool]]:
    """Unrecorded checks of the functions MLP.backward is meant to call."""
    rng = np.random.default_rng(1)

    def linear_is_right() -> bool:
        inputs = _linear_inputs(rng, N, D, H)
        return _right(check_layer(M.linear_forward, M.linear_backward, inputs, kind="linear"))

    def activation_is_right() -> bool:
        forward, backward, inputs, options = _activation_check(M, activation, rng)
        return _right(check_layer(forward, backward, inputs, **options))

    return {
        "linear_backward (Task 4.6)": linear_is_right,
        f"activation_backward for {activation} (Task 4.7)": activation_is_right,
    }


@pytest.mark.parametrize(
    "activation",
    [
        pytest.param(a, marks=pytest.mark.task("4.8", points=1, name="MLP.backward"))
        for a in ("relu", "sigmoid", "tanh")
    ],
)
def test_mlp_backward(student, checker, activation):
    """Two hidden layers (5 -> 7 -> 6 -> 4); dscores is a random upstream gradient."""
    M = student.mlp
    net = M.MLP([D, H, 6, C], activation, "softmax", seed=0)
    X = random_array((N, D), checker.rng)
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

    _calls_broken(
        lambda: checker.layer(forward, backward, inputs, name="MLP.backward"),
        _mlp_helpers(M, activation),
    )


def _assert_gradient_shapes(M, X, y, hidden, activation, loss) -> None:
    """Say so in a sentence, instead of letting the training loop crash, when the
    gradients cannot be used for a step."""
    net = M.MLP([X.shape[1], *hidden, 10], activation, loss, seed=0)
    _, dW, db = net.loss_and_grads(X[:5], y[:5])
    for i, (W, b) in enumerate(zip(net.W, net.b, strict=True)):
        for name, grad, param in (("dW", dW, W), ("db", db, b)):
            got = np.shape(grad[i]) if i < len(grad) else "missing"
            assert got == param.shape, (
                f"MLP.backward returns {name}[{i}] of shape {got} for a parameter of shape "
                f"{param.shape}, so the training loop cannot take a step with it"
            )


@pytest.mark.task("4.8", points=1, name="MLP.backward")
def test_mlp_learns_digits(student, checker):
    M = student.mlp
    X_train, y_train, X_test, y_test = M.load_digits_split(seed=0)
    with checker.given("the given digits training (train_mlp)"):
        _assert_gradient_shapes(M, X_train, y_train, [64], "relu", "softmax")
        net, losses = M.train_mlp(X_train, y_train, epochs=50)  # one ReLU layer of 64, softmax
        checker.loss_curve(losses, reference_curve("digits"), "softmax cross-entropy per epoch")
        accuracy = M.accuracy(net, X_test, y_test)
        assert accuracy >= 0.95, (
            f"after 50 epochs the network recognises {accuracy:.1%} of the 449 held-out digits "
            "and the reference solution 96.9%, so at least 95% is expected"
        )


@pytest.mark.task("4.8", points=1, name="MLP.backward")
def test_mlp_learns_digits_with_tanh_mse_and_two_hidden_layers(student, checker):
    M = student.mlp
    X_train, y_train, X_test, y_test = M.load_digits_split(seed=0)
    with checker.given("the given digits training (train_mlp)"):
        _assert_gradient_shapes(M, X_train, y_train, [64, 32], "tanh", "mse")
        net, losses = M.train_mlp(X_train, y_train, [64, 32], "tanh", "mse", epochs=30)
        checker.loss_curve(
            losses, reference_curve("digits_tanh_mse"), "MSE per epoch (tanh, 64-32)"
        )
        accuracy = M.accuracy(net, X_test, y_test)
        assert accuracy >= 0.85, (
            f"after 30 epochs with two tanh layers and the MSE loss the network recognises "
            f"{accuracy:.1%} of the 449 held-out digits and the reference solution 87.5%, so at "
            "least 85% is expected"
        )
