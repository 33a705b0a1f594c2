"""The checker names a failure from alternatives it is handed (the plugin
builds them as mutants of the reference): the first that returns exactly
what the student's function returned, never one equivalent to the right
answer; a cascade wins over everything; an exception is matched by kind and
message."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from grader import check_function
from grader.gradcheck.alternatives import Alternative, explain, same, same_failure
from grader.gradcheck.codes import Code
from grader.gradcheck.result import Diagnosis, Status
from grader.results.outcome import TestOutcome, TestStatus
from grader.results.session import hidden_failure


def right(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"W": 6 * params["W"], "b": 3 * params["b"] ** 2}


def loss(params: dict[str, np.ndarray]) -> float:
    return float(np.sum(params["W"] ** 2 @ np.ones((3, 3))) + np.sum(params["b"] ** 3))


def forgot_b(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"W": right(params)["W"], "b": params["b"] ** 2}


class Fake:
    def __init__(self, alternatives: list[Alternative], cascade: Diagnosis | None = None) -> None:
        self.list = alternatives
        self.cause = cascade

    def cascade(self, args: tuple[Any, ...]) -> Diagnosis | None:
        return self.cause

    def reference(self) -> Callable[..., object] | None:
        return right

    def alternatives(self) -> Iterable[Alternative]:
        return self.list


PARAMS = {"W": np.arange(6.0).reshape(2, 3) / 7 + 0.1, "b": np.array([0.5, -0.7, 1.1])}


def test_the_matching_alternative_names_the_mistake_and_the_values_it_changes():
    explainer = Fake(
        [
            Alternative(Code.TRANSPOSED, "{grads}: transposed", lambda p: right(p)),  # equivalent
            Alternative(Code.SIGN_FLIP, "{grads}: sign", lambda p: {"W": -right(p)["W"], "b": 0}),
            Alternative(Code.DROPPED_FACTOR, "{grads}: the factor 3 is left out", forgot_b),
        ]
    )
    result = check_function(loss, forgot_b, PARAMS, explainer=explainer)
    assert result.status is Status.FAILED
    assert result.diagnosis is not None and result.diagnosis.code is Code.DROPPED_FACTOR
    assert result.message.startswith('"b": the factor 3 is left out')


def test_a_cascade_wins_and_no_explainer_keeps_the_generic_diagnosis():
    cause = Diagnosis(Code.CASCADE, "f fails because your g (Task 1.1) is wrong: fix that first")
    named = check_function(loss, forgot_b, PARAMS, explainer=Fake([], cause))
    assert named.diagnosis is not None and named.diagnosis.code is Code.CASCADE
    plain = check_function(loss, forgot_b, PARAMS)
    assert plain.diagnosis is not None and plain.diagnosis.code is not Code.CASCADE


def test_a_right_function_never_consults_the_explainer():
    class Exploding(Fake):
        def alternatives(self) -> Iterable[Alternative]:
            raise AssertionError("asked for alternatives of a right function")

    assert check_function(loss, right, PARAMS, explainer=Exploding([])).passed


def test_values_compare_by_structure_and_numbers():
    a = [np.ones((2, 3)), {"b": np.zeros(3)}]
    assert same(a, [np.ones((2, 3)) * (1 + 1e-9), {"b": np.zeros(3)}])
    assert not same(a, [np.ones((3, 2)), {"b": np.zeros(3)}])
    assert not same(a, [np.ones((2, 3)), {"c": np.zeros(3)}])
    assert not same(a, [np.ones((2, 3)) * 1.01, {"b": np.zeros(3)}])


def test_a_list_that_holds_itself_is_compared_not_recursed_forever():
    looped: list = [np.ones(2)]
    looped.append(looped)  # what a mutant's dW.append(dW) returns
    assert not same(looped, [np.ones(2), [np.ones(2)]])
    assert not same([np.ones(2), [np.ones(2)]], looped)


def test_a_dict_is_the_same_whatever_the_order_of_its_keys():
    handout = {"W1": np.ones((2, 3)), "b1": np.zeros(3), "W2": np.eye(3)}
    student = {"W2": np.eye(3), "b1": np.zeros(3), "W1": np.ones((2, 3))}
    assert same(student, handout)
    assert not same(student, {**handout, "W2": 2 * np.eye(3)})


def test_an_exception_matches_one_of_the_same_kind_and_message():
    assert same_failure(ValueError("shapes (3,4) (3,7)"), ValueError("shapes (3,4) (3,7)"))
    assert not same_failure(ValueError("shapes (3,4) (3,7)"), TypeError("shapes (3,4) (3,7)"))
    assert not same_failure(ValueError("a"), ValueError("b"))


def test_an_error_from_the_students_process_matches_despite_its_one_line_form():
    """The sandbox sends a message as one line without trailing spaces;
    numpy's broadcast error ends in a space."""
    from grader.gradcheck.tracebacks import RaisedElsewhere

    class Remote(RaisedElsewhere):
        kind = "ValueError"
        detail = "operands could not be broadcast together with shapes (4,2) (2,4) (4,2)"

    message = "operands could not be broadcast together with shapes (4,2) (2,4) (4,2) "
    assert same_failure(Remote("ValueError: ..."), ValueError(message))
    assert not same_failure(Remote("ValueError: ..."), TypeError(message))


def test_an_explainer_that_raises_never_breaks_a_check():
    class Broken(Fake):
        def cascade(self, args: tuple[Any, ...]) -> Diagnosis | None:
            raise RuntimeError("bug in the explainer")

    result = check_function(loss, forgot_b, PARAMS, explainer=Broken([]))
    assert result.status is Status.FAILED and result.diagnosis is not None


def test_explain_fills_names_and_drops_them_when_no_value_differs_by_name():
    explainer = Fake([Alternative(Code.LAYER_SKIPPED, "{grads}: a layer skipped", lambda p: [1.0])])
    found = explain(explainer, lambda: (PARAMS,), [1.0], lambda path: path)
    assert found is not None and found.message == "a layer skipped"


def test_a_hidden_failure_says_what_kind_of_case_failed_without_values():
    test = TestOutcome(
        nodeid="hidden/test_h.py::test_sigmoid_prime_saturated",
        name="test_sigmoid_prime_saturated",
        task="4.1",
        task_name="sigmoid_prime",
        max_score=1,
        status=TestStatus.FAILED,
        message="dx has 3 NaN value(s), first at [0, 1]",
        hidden=True,
        diagnosis={"code": "non_finite", "message": "dx has 3 NaN value(s)"},
    )
    text = hidden_failure(test)
    assert text == "fails a hidden test (saturated): the result has NaN or infinite values"


def test_a_mistake_in_some_returned_values_only_is_named_for_those():
    """``db`` taken before the mask that ``dW`` went through: no alternative
    returns the student's values whole, but one does wherever they are
    wrong, and the rest are right. An exact match still wins."""

    def half_wrong(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"W": right(p)["W"], "b": -right(p)["b"]}

    both_wrong = Alternative(
        Code.SIGN_FLIP, "{grads}: sign", lambda p: {"W": -right(p)["W"], "b": -right(p)["b"]}
    )
    found = explain(Fake([both_wrong]), lambda: (PARAMS,), half_wrong(PARAMS), lambda path: path)
    assert found is not None and found.code is Code.SIGN_FLIP
    assert found.message.startswith("['b']: sign")
    exact = Alternative(Code.DROPPED_FACTOR, "{grads}: exact", half_wrong)
    found = explain(
        Fake([both_wrong, exact]), lambda: (PARAMS,), half_wrong(PARAMS), lambda path: path
    )
    assert found is not None and found.code is Code.DROPPED_FACTOR
    # a value that is neither right nor the alternative's: no name
    neither = {"W": 2 * right(PARAMS)["W"], "b": -right(PARAMS)["b"]}
    assert explain(Fake([both_wrong]), lambda: (PARAMS,), neither, lambda path: path) is None


def test_a_loop_over_a_batch_the_function_is_handed_is_named_from_the_right_version():
    """The batch reaches the task's function through code around it (a
    test's closure): the right version run on part of its arguments' batch
    gives what a loop that stops short or overwrites returns, even where a
    weight happens to have as many rows as the batch."""
    from grader.gradcheck import samples

    def right_backward(w: np.ndarray, x: np.ndarray, dout: np.ndarray) -> dict[str, np.ndarray]:
        return {"w": x.T @ dout + 0.1 * w, "b": dout.sum(axis=0), "x": dout @ w.T}

    def stops_short(w: np.ndarray, x: np.ndarray, dout: np.ndarray) -> dict[str, np.ndarray]:
        dw, db, dx = 0.1 * w, np.zeros(dout.shape[1]), np.zeros_like(x)
        for i in range(len(x) - 1):
            dw = dw + np.outer(x[i], dout[i])
            db = db + dout[i]
            dx[i] = dout[i] @ w.T
        return {"w": dw, "b": db, "x": dx}

    def overwrites(w: np.ndarray, x: np.ndarray, dout: np.ndarray) -> dict[str, np.ndarray]:
        dw = 0.1 * w
        for i in range(len(x)):
            dw = np.outer(x[i], dout[i]) + 0.1 * w
        return {"w": dw, "b": dout.sum(axis=0), "x": dout @ w.T}

    rng = np.random.default_rng(3)
    w, x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    looped = {}
    for loop in samples.LOOPS:
        for first in (False, True):
            try:
                value = samples.variant(right_backward, loop, first)(w, x, dout)
            except ValueError:  # w cut like the batch (it has as many rows): cannot run
                assert not first
                continue
            looped[(loop, first)] = value
    full = right_backward(w, x, dout)
    from grader.gradcheck.alternatives import partly

    short = stops_short(w, x, dout)
    assert any(
        loop.code is Code.LOOP_OFF_BY_ONE and loop.which == "the last sample" and same(v, short)
        for (loop, first), v in looped.items()
    )
    over = overwrites(w, x, dout)
    assert any(
        loop.code is Code.OVERWRITE_NOT_ACCUMULATE and partly(over, full, v) == ["['w']"]
        for (loop, _), v in looped.items()
    )
    assert samples.common_size((w, x, dout)) == 4
    assert samples.common_size((np.ones((2, 3)), np.ones((5, 1)))) is None
