"""The print of a unit call's arguments that both sides of a traced run
take: equal arguments print the same up to rounding, and a loop that went
another way (another learning rate, other shapes, other weights) does not."""

from __future__ import annotations

import numpy as np

from grader.sandbox import fingerprint


def args(lr: float = 0.1, scale: float = 1.0, rows: int = 3) -> list:
    rng = np.random.default_rng(0)
    params = {"W": scale * rng.standard_normal((rows, 4)), "b": np.zeros(4)}
    return [[params, rng.standard_normal((5, rows)), np.arange(5)], {"lr": lr}]


def test_equal_arguments_print_the_same_and_cross_as_one_array():
    printed, shapes = fingerprint.take(args())
    assert printed.dtype == np.float64 and printed.ndim == 1
    assert shapes == [(3, 4), (4,), (5, 3), (5,)]
    assert fingerprint.same(printed, fingerprint.take(args())[0])


def test_rounding_is_not_a_difference_but_a_changed_value_is():
    printed, _ = fingerprint.take(args())
    assert fingerprint.same(printed, printed * (1 + 1e-9))
    assert not fingerprint.same(printed, fingerprint.take(args(lr=0.2))[0])
    assert not fingerprint.same(printed, fingerprint.take(args(scale=1.01))[0])
    assert not fingerprint.same(printed, fingerprint.take(args(rows=2))[0])


def test_nan_on_both_sides_is_the_same_and_anything_else_sent_is_not():
    diverged = [np.array([np.nan, 1.0])]
    printed, _ = fingerprint.take(diverged)
    assert fingerprint.same(printed, fingerprint.take(diverged)[0])
    assert not fingerprint.same(printed, fingerprint.take([np.array([np.inf, 1.0])])[0])
    for other in (printed.tolist(), printed.astype(np.float32), printed[:-1], "print", None):
        assert not fingerprint.same(printed, other)
