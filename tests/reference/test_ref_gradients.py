"""Every backward of the reference agrees with a central finite difference of its given forward.

Small random inputs with distinct dims: N=3, D=5, H=7, C=4.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from reference.digits import mlp as dmlp
from reference.digits import network as dnet
from reference.layers import layer_class, layers, losses, regression
from reference.moons import deep
from reference.moons import net as moons_net
from reference.spiral import net as spiral_net

N, D, H, C = 3, 5, 7, 4
TOL = 1e-6
ERRORS: list[float] = []


def num_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central difference of the scalar f() with respect to x, perturbing x in place."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f()
        x[idx] = old - h
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """|a - b| / (|a| + |b|) in the Frobenius norm, guarded against 0 / 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


def assert_close(analytic: np.ndarray, numeric: np.ndarray, tol: float = TOL) -> None:
    err = rel_error(analytic, numeric)
    ERRORS.append(err)
    assert err < tol


@pytest.fixture
def rng() -> np.random.RandomState:
    return np.random.RandomState(0)


# ---------------------------------------------------------------- layers: layers.py


def test_linear_backward(rng: np.random.RandomState) -> None:
    x, w, b, dout = rng.randn(N, D), rng.randn(D, H), rng.randn(H), rng.randn(N, H)
    dx, dw, db = layers.linear_backward(dout, layers.linear_forward(x, w, b)[1])
    f = lambda: float(np.sum(layers.linear_forward(x, w, b)[0] * dout))  # noqa: E731
    for analytic, param in ((dx, x), (dw, w), (db, b)):
        assert_close(analytic, num_grad(f, param))


@pytest.mark.parametrize(
    ("forward", "backward", "kwargs"),
    [
        (layers.relu_forward, layers.relu_backward, {}),
        (layers.leaky_relu_forward, layers.leaky_relu_backward, {"alpha": 0.1}),
        (layers.sigmoid_forward, layers.sigmoid_backward, {}),
        (layers.tanh_forward, layers.tanh_backward, {}),
    ],
    ids=["relu", "leaky_relu", "sigmoid", "tanh"],
)
def test_activation_backward(forward, backward, kwargs, rng: np.random.RandomState) -> None:  # type: ignore[no-untyped-def]
    x, dout = rng.randn(N, D), rng.randn(N, D)
    dx = backward(dout, forward(x, **kwargs)[1])
    assert_close(dx, num_grad(lambda: float(np.sum(forward(x, **kwargs)[0] * dout)), x))


def test_sigmoid_forward_is_stable_for_large_inputs() -> None:
    with np.errstate(over="raise"):
        out, _ = layers.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


# ---------------------------------------------------------------- layers: losses.py


def test_softmax_loss(rng: np.random.RandomState) -> None:
    scores, y = rng.randn(N, C), rng.randint(C, size=N)
    loss, dscores = losses.softmax_loss(scores, y)
    assert_close(dscores, num_grad(lambda: losses.softmax_loss_forward(scores, y)[0], scores))
    assert loss == pytest.approx(
        -np.mean(np.log(np.exp(scores) / np.exp(scores).sum(1, keepdims=True))[range(N), y])
    )


def test_softmax_loss_is_stable_for_large_logits() -> None:
    scores = np.array([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]])
    loss, dscores = losses.softmax_loss(scores, np.array([0, 2]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx(1e4 / 2)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (losses.sum_squares_loss_forward, losses.sum_squares_loss_backward),
        (losses.mse_loss_forward, losses.mse_loss_backward),
    ],
    ids=["sum_squares", "mse"],
)
def test_regression_losses(forward, backward, rng: np.random.RandomState) -> None:  # type: ignore[no-untyped-def]
    pred, y = rng.randn(N, C), rng.randn(N, C)
    assert_close(backward(forward(pred, y)[1]), num_grad(lambda: forward(pred, y)[0], pred))


def test_sum_squares_matches_seed_003(rng: np.random.RandomState) -> None:
    pred, y = rng.randn(N, C), rng.randn(N, C)
    loss, dpred = losses.sum_squares_loss(pred, y)
    assert loss == np.square(pred - y).sum()
    np.testing.assert_array_equal(dpred, 2.0 * (pred - y))


@pytest.mark.parametrize("shape", [(N,), (N, 1)])
def test_bce_loss(shape: tuple[int, ...], rng: np.random.RandomState) -> None:
    p = rng.uniform(0.05, 0.95, size=shape)
    y = rng.randint(2, size=shape).astype(float)
    loss, dp = losses.bce_loss(p, y)
    assert_close(dp, num_grad(lambda: losses.bce_loss_forward(p, y)[0], p))
    assert loss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_bce_loss_clips_saturated_outputs() -> None:
    loss, dp = losses.bce_loss(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dp))


def test_l2_regularization(rng: np.random.RandomState) -> None:
    w = rng.randn(D, H)
    loss, dw = losses.l2_regularization(w, 0.3)
    assert loss == pytest.approx(0.5 * 0.3 * np.sum(w**2))
    assert_close(dw, num_grad(lambda: losses.l2_forward(w, 0.3)[0], w))


# ---------------------------------------------------------------- layers: layer_class.py (seed 004)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "linear"])
def test_activation_gd_in_terms_of_output(name: str, rng: np.random.RandomState) -> None:
    g, gd = layer_class.ACTIVATIONS[name]
    a = rng.randn(N, H)
    numeric = (g(a + 1e-6) - g(a - 1e-6)) / 2e-6
    assert_close(gd(g(a)), numeric)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "linear"])
def test_layer_backprop(name: str, rng: np.random.RandomState) -> None:
    layer = layer_class.Layer(D, H, name, rng)
    layer.b = rng.randn(H)
    X, dEdY = rng.randn(N, D), rng.randn(N, H)
    layer.forward(X)
    dEdX, dEdW, dEdb = layer.backprop(dEdY)
    assert (dEdX.shape, dEdW.shape, dEdb.shape) == ((N, D), (H, D), (H,))
    f = lambda: float(np.sum(layer.forward(X) * dEdY))  # noqa: E731
    for analytic, param in ((dEdX, X), (dEdW, layer.W), (dEdb, layer.b)):
        assert_close(analytic, num_grad(f, param))


def test_network_backprop(rng: np.random.RandomState) -> None:
    net = layer_class.Network([D, H, C], ["tanh", "sigmoid"], seed=1)
    X, T = rng.randn(N, D), rng.rand(N, C)
    _, dEdY = layer_class.half_mse(net.forward(X), T)
    grads = net.backprop(dEdY)
    f = lambda: layer_class.half_mse(net.forward(X), T)[0]  # noqa: E731
    for layer, (dEdW, dEdb) in zip(net.layers, grads, strict=True):
        assert_close(dEdW, num_grad(f, layer.W))
        assert_close(dEdb, num_grad(f, layer.b))


# ---------------------------------------------------------------- layers: regression.py (seed 003)


def test_two_layer_regression_backward(rng: np.random.RandomState) -> None:
    x, y = rng.randn(N, D), rng.randn(N, C)
    w1, w2 = rng.randn(D, H), rng.randn(H, C)
    y_pred, cache = regression.two_layer_regression_forward(x, w1, w2)
    dw1, dw2 = regression.two_layer_regression_backward(2.0 * (y_pred - y), cache)

    def f() -> float:
        return losses.sum_squares_loss_forward(
            regression.two_layer_regression_forward(x, w1, w2)[0], y
        )[0]

    assert_close(dw1, num_grad(f, w1))
    assert_close(dw2, num_grad(f, w2))


# ---------------------------------------------------------------- spiral (seed 000)


def test_spiral_softmax_loss_backward(rng: np.random.RandomState) -> None:
    scores, y = rng.randn(N, C), rng.randint(C, size=N)
    dscores = spiral_net.softmax_loss_backward(spiral_net.softmax_loss_forward(scores, y)[1])
    assert_close(dscores, num_grad(lambda: spiral_net.softmax_loss_forward(scores, y)[0], scores))


def test_spiral_scores_backward(rng: np.random.RandomState) -> None:
    params = spiral_net.init_params(D, H, C, seed=1)
    params = {k: rng.randn(*v.shape) for k, v in params.items()}
    X, dscores = rng.randn(N, D), rng.randn(N, C)
    grads = spiral_net.scores_backward(dscores, spiral_net.scores_forward(params, X)[1])
    f = lambda: float(np.sum(spiral_net.scores_forward(params, X)[0] * dscores))  # noqa: E731
    for name, p in params.items():
        assert grads[name].shape == p.shape
        assert_close(grads[name], num_grad(f, p))


def test_spiral_loss_and_grads_include_l2(rng: np.random.RandomState) -> None:
    params = {k: rng.randn(*v.shape) for k, v in spiral_net.init_params(D, H, C).items()}
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    _, grads = spiral_net.loss_and_grads(params, X, y, reg=0.1)
    for name, p in params.items():
        assert_close(
            grads[name], num_grad(lambda: spiral_net.loss_and_grads(params, X, y, 0.1)[0], p)
        )


# ---------------------------------------------------------------- moons (seed 002)


def test_moons_backward(rng: np.random.RandomState) -> None:
    model = moons_net.init_model(H, D, C, seed=1)
    model["b1"], model["b2"] = rng.randn(1, H), rng.randn(1, C)
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    probs, cache = moons_net.forward(model, X)
    probs_before = probs.copy()
    grads = moons_net.backward(model, probs, cache, y, reg_lambda=0.1)
    np.testing.assert_array_equal(probs, probs_before)
    for name, p in model.items():
        numeric = num_grad(lambda: moons_net.objective(model, X, y, 0.1), p)
        assert_close(grads[name], numeric)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_moons_activation_prime(activation: str, rng: np.random.RandomState) -> None:
    z = rng.randn(N, H)
    f = deep.ACTIVATIONS[activation]
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    assert_close(deep.activation_prime(f(z), activation), numeric)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("hidden", [[H], [H, 6]], ids=["3-layer", "4-layer"])
def test_moons_deep_backward(
    activation: str, hidden: list[int], rng: np.random.RandomState
) -> None:
    params = deep.init_params([D, *hidden, C], seed=1)
    params = {k: v + 0.1 * rng.randn(*v.shape) for k, v in params.items()}
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    probs, cache = deep.forward(params, X, activation)
    grads = deep.backward(params, probs, cache, y, activation, reg_lambda=0.1)
    for name, p in params.items():
        numeric = num_grad(lambda: deep.objective(params, X, y, activation, 0.1), p)
        assert_close(grads[name], numeric)


# ---------------------------------------------------------------- digits (seed 001)


def test_sigmoid_prime(rng: np.random.RandomState) -> None:
    x = rng.randn(N, H)
    numeric = (dnet.sigmoid(x + 1e-6) - dnet.sigmoid(x - 1e-6)) / 2e-6
    assert_close(dnet.sigmoid_prime(x), numeric)


@pytest.mark.parametrize("method", ["backward", "backward_vectorized"])
def test_or_network_backward(method: str, rng: np.random.RandomState) -> None:
    net = dnet.Network()
    for name in (
        "W1",
        "b1",
        "W2",
        "b2",
    ):  # larger weights than the seed's 0.001, for a sharper check
        setattr(net, name, rng.randn(*getattr(net, name).shape))
    X, y = rng.randn(N, 3), rng.randint(2, size=(N, 1)).astype(float)
    batch_loss, _ = getattr(net, method)(X, y)
    assert batch_loss == pytest.approx(net.loss(X, y))
    for name in ("W1", "b1", "W2", "b2"):
        assert_close(
            getattr(net, "grads_" + name), num_grad(lambda: net.loss(X, y), getattr(net, name))
        )


def test_mlp_linear_backward(rng: np.random.RandomState) -> None:
    x, W, b, dout = rng.randn(N, D), rng.randn(D, H), rng.randn(H), rng.randn(N, H)
    dx, dW, db = dmlp.linear_backward(dout, dmlp.linear_forward(x, W, b)[1])
    f = lambda: float(np.sum(dmlp.linear_forward(x, W, b)[0] * dout))  # noqa: E731
    for analytic, p in ((dx, x), (dW, W), (db, b)):
        assert_close(analytic, num_grad(f, p))


@pytest.mark.parametrize("kind", ["sigmoid", "tanh", "relu"])
def test_mlp_activation_backward(kind: str, rng: np.random.RandomState) -> None:
    z, da = rng.randn(N, H), rng.randn(N, H)
    dz = dmlp.activation_backward(da, dmlp.activation_forward(z, kind)[1])
    assert_close(dz, num_grad(lambda: float(np.sum(dmlp.activation_forward(z, kind)[0] * da)), z))


@pytest.mark.parametrize("loss", ["softmax", "mse"])
def test_mlp_losses(loss: str, rng: np.random.RandomState) -> None:
    forward, backward = dmlp.LOSSES[loss]
    scores, y = rng.randn(N, C), rng.randint(C, size=N)
    assert_close(backward(forward(scores, y)[1]), num_grad(lambda: forward(scores, y)[0], scores))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["softmax", "mse"])
def test_mlp_backward(activation: str, loss: str, rng: np.random.RandomState) -> None:
    net = dmlp.MLP([D, H, 6, C], activation, loss, seed=1)
    net.b = [rng.randn(*b.shape) for b in net.b]
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    _, dW, db = net.loss_and_grads(X, y)
    for analytic, p in zip(dW + db, net.W + net.b, strict=True):
        assert_close(analytic, num_grad(lambda: net.loss(X, y), p))
