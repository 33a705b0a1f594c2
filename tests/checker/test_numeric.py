"""Finite differences: accuracy, structures, step scaling, kinks, and forwards
that try to fool the difference."""

from __future__ import annotations

import numpy as np
import pytest

from grader import DENSE, ELEMENTWISE, ROWS, Blocks, check_layer
from grader.gradcheck.finite_diff import CBRT_EPS, gradient, steps


def smooth(x):
    return np.sin(x) * x**2


def test_dense_central_difference_matches_analytic(rng):
    x = rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 3))
    numeric = gradient(smooth, x, dout, DENSE)
    exact = dout * (np.cos(x) * x**2 + 2 * x * np.sin(x))
    np.testing.assert_allclose(numeric.central, exact, rtol=1e-8, atol=1e-10)
    assert numeric.evaluations == 1 + 2 * x.size
    assert not numeric.kinks.any()


def test_elementwise_structure_costs_two_evaluations(rng):
    x = rng.standard_normal((50, 40))
    dout = rng.standard_normal(x.shape)
    numeric = gradient(smooth, x, dout, ELEMENTWISE)
    dense = gradient(smooth, x[:3, :3], dout[:3, :3], DENSE)
    np.testing.assert_allclose(numeric.central[:3, :3], dense.central, rtol=1e-7)
    assert numeric.evaluations == 3  # f(x) and one pair for all 2000 elements


@pytest.mark.parametrize(
    ("name", "structure", "groups"),
    [("x", ROWS, 5), ("w", Blocks(1, 1), 5), ("b", Blocks(0, 1), 1)],
)
def test_block_structures_agree_with_dense(rng, name, structure, groups):
    x, w, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 7)), rng.standard_normal(7)
    values = {"x": x, "w": w, "b": b}
    dout = rng.standard_normal((3, 7))

    def f(value):
        args = {**values, name: value}
        return np.tanh(args["x"] @ args["w"] + args["b"])

    fast = gradient(f, values[name], dout, structure)
    slow = gradient(f, values[name], dout, DENSE)
    np.testing.assert_allclose(fast.central, slow.central, rtol=1e-7, atol=1e-10)
    assert fast.evaluations == 1 + 2 * groups


def test_steps_scale_with_each_input():
    x = np.array([0.0, 1e-8, 1.0, 1e6])
    h = steps(x)
    assert h[3] == pytest.approx(CBRT_EPS * 1e6, rel=1e-6)
    assert h[2] == pytest.approx(CBRT_EPS * max(1.0, 0.1 * np.sqrt(np.mean(x**2))), rel=1e-6)
    assert np.all(((x + h) - (x - h)) / 2 == h)


@pytest.mark.parametrize("scale", [1e-7, 1e-3, 1.0, 1e3, 1e7])
def test_gradient_is_accurate_at_any_input_scale(rng, scale):
    x = rng.standard_normal(6) * scale
    numeric = gradient(lambda v: v**3, x, None, DENSE)
    np.testing.assert_allclose(numeric.central, 3 * x**2, rtol=1e-7)


def test_inputs_are_restored_and_copied(rng):
    x = rng.standard_normal(5)
    before = x.copy()

    def vandal(v):
        out = v * 2
        v[:] = 0  # a forward that scribbles on its input
        return out

    numeric = gradient(vandal, x, None, DENSE)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(numeric.central, 2.0, rtol=1e-9)


def test_forward_returning_a_view_cannot_fool_it(rng):
    x = rng.standard_normal(5)
    numeric = gradient(lambda v: v, x, None, DENSE)  # returns its own input
    np.testing.assert_allclose(numeric.central, 1.0, rtol=1e-9)


def test_kink_is_detected_and_any_subgradient_accepted():
    x = np.array([0.0, 1e-12, -1e-12, 0.5, -0.5])
    numeric = gradient(lambda v: np.maximum(v, 0), x, None, DENSE)
    assert numeric.kinks.tolist() == [True, True, True, False, False]

    def relu_forward(v):
        return np.maximum(v, 0), (v,)

    masks = {
        "x > 0": lambda v: v > 0,
        "x >= 0": lambda v: v >= 0,
        "half at 0": lambda v: np.where(v == 0, 0.5, v > 0),
    }
    for label, mask in masks.items():

        def backward(dout, cache, mask=mask):
            (v,) = cache
            return dout * mask(v)

        result = check_layer(relu_forward, backward, {"x": x}, kind="relu")
        assert result.passed, (label, result.message)
        assert result.tensors[0].kinks == 3


def test_wrong_value_at_a_kink_still_fails():
    x = np.array([0.0, 0.5, -0.5])

    def relu_forward(v):
        return np.maximum(v, 0), (v,)

    def backward(dout, cache):
        return dout * 3.0  # outside [0, 1] at the kink, wrong elsewhere too

    assert not check_layer(relu_forward, backward, {"x": x}).passed


def test_forward_that_edits_its_inputs_in_place_still_checks(rng):
    def softmax_forward(scores):
        scores -= scores.max(axis=1, keepdims=True)  # in place, as many students write it
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        return probs, (probs,)

    def softmax_backward(dout, cache):
        (p,) = cache
        return p * (dout - np.sum(dout * p, axis=1, keepdims=True))

    given = rng.standard_normal((3, 4))
    before = given.copy()
    result = check_layer(
        softmax_forward, softmax_backward, {"scores": given}, structure={"scores": ROWS}
    )
    assert result.passed, result.message
    np.testing.assert_array_equal(given, before)
