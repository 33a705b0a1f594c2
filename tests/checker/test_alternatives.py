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
