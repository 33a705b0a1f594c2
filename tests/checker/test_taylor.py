from __future__ import annotations

import numpy as np

from grader.gradcheck.finite_diff import Counter
from grader.gradcheck.taylor import taylor_test


def run(f, x, g, rng):
    counted = Counter(f)
    return taylor_test(counted, x, g, None, counted(x), rng)


def test_right_gradient_has_order_two(rng):
    x = rng.standard_normal(50)
    t = run(lambda v: np.sum(np.exp(0.3 * v)), x, 0.3 * np.exp(0.3 * x), rng)
    assert t.verdict == "consistent" and t.order > 1.8


def test_wrong_gradient_has_order_one(rng):
    x = rng.standard_normal(50)
    t = run(lambda v: np.sum(np.exp(0.3 * v)), x, 0.35 * np.exp(0.3 * x), rng)
    assert t.verdict == "inconsistent" and t.order < 1.2


def test_linear_function_with_right_gradient_is_exact(rng):
    x, c = rng.standard_normal(10), rng.standard_normal(10)
    assert run(lambda v: np.sum(c * v), x, c, rng).verdict == "exact"
