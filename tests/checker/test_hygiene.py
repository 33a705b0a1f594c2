"""Probes that are not about values: in-place edits, dout, determinism,
returned types."""

from __future__ import annotations

import numpy as np

from grader import Status, check_layer, check_loss


def affine(x, w, b):
    return x @ w + b, (x, w, b)


def inputs(rng):
    return {
        "x": rng.standard_normal((3, 5)),
        "w": rng.standard_normal((5, 7)),
        "b": rng.standard_normal(7),
    }


def test_callers_arrays_are_never_modified(rng):
    given = inputs(rng)
    before = {k: v.copy() for k, v in given.items()}

    def vandal(dout, cache):
        x, w, b = cache
        x[:] = 0
        w[:] = 0
        return dout @ w.T, x.T @ dout, dout.sum(0)

    result = check_layer(affine, vandal, given, kind="linear")
    assert result.diagnosis is not None and result.diagnosis.code == "modified_input"
    for key in given:
        np.testing.assert_array_equal(given[key], before[key])


def test_partially_attempted_backward_fails_and_says_which(rng):
    def partial(dout, cache):
        x, w, b = cache
        return dout @ w.T, None, None

    result = check_layer(affine, partial, inputs(rng), kind="linear")
    assert result.status is Status.FAILED
    statuses = {t.name: t.status for t in result.tensors}
    assert statuses == {"dx": Status.PASSED, "dw": Status.NOT_ATTEMPTED, "db": Status.NOT_ATTEMPTED}


def test_single_gradient_may_be_returned_bare_or_in_a_tuple(rng):
    def forward(x):
        return np.tanh(x), (x,)

    x = {"x": rng.standard_normal((3, 4))}
    bare = check_layer(forward, lambda d, c: d * (1 - np.tanh(c[0]) ** 2), x, kind="tanh")
    boxed = check_layer(forward, lambda d, c: (d * (1 - np.tanh(c[0]) ** 2),), x, kind="tanh")
    assert bare.passed and boxed.passed


def test_loss_backward_modifying_cache_is_flagged_with_its_line(rng):
    def forward(scores):
        return float(np.sum(scores**2)), (scores,)

    def backward(cache):
        (s,) = cache
        s *= 2
        return s

    result = check_loss(forward, backward, {"scores": rng.standard_normal((3, 4))})
    assert result.diagnosis is not None
    assert result.diagnosis.code == "modified_input"
    assert "s *= 2" in result.message


def test_probes_are_recorded(rng):
    def backward(dout, cache):
        x, w, b = cache
        return dout @ w.T, x.T @ dout, dout.sum(0)

    result = check_layer(affine, backward, inputs(rng), kind="linear")
    assert {p.name: p.passed for p in result.probes} == {
        "inputs_unchanged": True,
        "deterministic": True,
        "linear_in_dout": True,
    }


def test_forward_failure_in_student_template_is_not_our_crash(rng):
    def broken_forward(x, w, b):
        raise NotImplementedError("forward is given code and should not be blank")

    try:
        check_layer(broken_forward, lambda d, c: None, inputs(rng))
    except NotImplementedError as exc:
        assert "forward" in str(exc)
