"""Large tensors: projection screens catch what torch's old fast-mode scaling
let through, stay within budget, and still localize and name mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from grader import Budget, Status, check_function


def quadratic_problem(rng, n=20000):
    """L(w) = 0.5 * sum(a * w**2) + sum(c * w): gradient a * w + c."""
    a = rng.uniform(0.5, 2.0, n)
    c = rng.standard_normal(n)
    w = rng.standard_normal(n)
    return (lambda p: 0.5 * np.sum(a * p["w"] ** 2) + np.sum(c * p["w"])), a, c, w


def test_right_gradient_passes_within_budget(rng):
    loss, a, c, w = quadratic_problem(rng)
    result = check_function(loss, lambda p: {"dw": a * p["w"] + c}, {"w": w})
    assert result.passed, result.message
    assert result.tensors[0].method == "projection"
    assert result.evaluations <= 10


def test_single_wrong_element_is_caught_and_localized(rng):
    loss, a, c, w = quadratic_problem(rng)

    def busted(p):
        g = a * p["w"] + c
        g[12345] += 1.0
        return {"dw": g}

    result = check_function(loss, busted, {"w": w})
    assert result.status is Status.FAILED
    tensor = result.tensors[0]
    assert tensor.method == "projection, then sampled"
    assert (12345,) in [e.index for e in tensor.worst]


def test_small_wrong_gradient_that_sum_scaling_would_pass(rng):
    """pytorch #59584: tolerances scaled by sum(u) * sum(v) let a gradient that
    is wrong by 5% pass. Our screen judges against ||g|| and must fail it."""
    loss, a, c, w = quadratic_problem(rng)
    result = check_function(loss, lambda p: {"dw": 1.05 * (a * p["w"] + c)}, {"w": w})
    assert not result.passed
    assert result.diagnosis is not None
    assert result.diagnosis.evidence["factor"] == pytest.approx(1.05, rel=1e-4)


def test_scale_mistakes_are_named_from_projections(rng):
    loss, a, c, w = quadratic_problem(rng)
    result = check_function(loss, lambda p: {"dw": -(a * p["w"] + c)}, {"w": w})
    assert result.diagnosis is not None and result.diagnosis.code == "sign_flip"


def test_transposed_is_named_at_scale(rng):
    x = rng.standard_normal((300, 200))
    m = rng.standard_normal((300, 200))
    result = check_function(lambda p: np.sum(m * p["x"]), lambda p: {"dx": m.T.copy()}, {"x": x})
    assert result.diagnosis is not None and result.diagnosis.code == "transposed"


def test_small_unstructured_tensor_fails_over_to_dense(rng):
    x = rng.standard_normal((6, 7))
    result = check_function(
        lambda p: np.sum(np.sin(p["x"])), lambda p: {"dx": np.cos(p["x"]) * (p["x"] > 0)}, {"x": x}
    )
    tensor = result.tensors[0]
    assert tensor.method == "projection, then dense"
    assert tensor.error_map is not None and tensor.error_map.shape == (6, 7)
    assert tensor.metrics is not None and 0 < tensor.metrics.fraction_wrong < 1


def test_budget_controls_the_dense_threshold(rng):
    x = rng.standard_normal(30)
    result = check_function(
        lambda p: np.sum(p["x"] ** 2),
        lambda p: {"dx": 2 * p["x"]},
        {"x": x},
        budget=Budget(dense_max=100, taylor=False),
    )
    assert result.tensors[0].method == "dense"
    assert result.evaluations == 1 + 2 * 30
