"""Mutants of the reference: every task's solution yields compilable
mutants of every kind it allows, each kind has a diagnosis code and words,
and a composite mistake is named from the reference alone, in the student's
names, with cascades pointing at the wrong task."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pytest

from grader.course import templates
from grader.course.mutants import Mistake, solution
from grader.gradcheck.codes import Code
from grader.plugin.checker import Checker, Subject
from grader.plugin.explain import CODES, MESSAGES
from grader.plugin.student import Student

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ["layers", "spiral", "moons", "digits"]


def test_every_mistake_has_a_code_and_a_message():
    assert set(CODES) == set(Mistake) == set(MESSAGES)
    assert all(isinstance(code, Code) for code in CODES.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_of_every_reference_has_compilable_mutants(assignment):
    folder = ROOT / "reference" / assignment
    for task in templates.tasks(folder):
        found = solution((folder / f"{task.module}.py").read_text(), task.qualname)
        assert found is not None, task
        mutants = list(itertools.islice(found.mutants(), 30))
        assert mutants, task
        for mutant in mutants[:20]:
            compile(__import__("ast").Module(body=[mutant.function], type_ignores=[]), "m", "exec")


def test_the_network_backprop_mutants_cover_the_classic_composite_mistakes():
    source = (ROOT / "reference/layers/layer_class.py").read_text()
    kinds = {m.mistake for m in solution(source, "Network.backprop").mutants()}
    assert {Mistake.NOT_REVERSED, Mistake.LAYER_SKIPPED, Mistake.WRONG_VARIABLE} <= kinds
    digits = (ROOT / "reference/digits/network.py").read_text()
    kinds = {m.mistake for m in solution(digits, "Network.backward").mutants()}
    assert {Mistake.OVERWRITE_NOT_ACCUMULATE, Mistake.LOOP_OFF_BY_ONE} <= kinds
    assert Mistake.MISSING_1_OVER_N in kinds and Mistake.MISSING_DERIVATIVE in kinds


def test_values_collected_for_returning_are_swapped_too():
    """(dW, db) appended or inserted into the returned list, not only the
    tuple of the return statement; an index or a shape is never swapped."""
    source = """
def backward(xs, ds):
    '''Task 9.1 (1 point).'''
    # BEGIN SOLUTION
    grads = []
    for x, d in zip(xs, ds):
        grads.insert(0, (x.T @ d, d.sum(axis=0)))
    shape = (3, 4)
    return grads, shape
    # END SOLUTION
"""
    swapped = [
        __import__("ast").unparse(m.function)
        for m in solution(source, "backward").mutants()
        if m.mistake is Mistake.RETURN_ORDER
    ]
    assert any("(d.sum(axis=0), x.T @ d)" in text for text in swapped)
    assert any("return (shape, grads)" in text for text in swapped)
    assert not any("(4, 3)" in text for text in swapped)


def test_a_mask_built_from_the_gradient_it_masks_is_a_mutant():
    """(g) * (h > 0) becomes g * (g > 0); g[h <= 0] = 0 becomes g[g <= 0] = 0."""
    regression = (ROOT / "reference/layers/regression.py").read_text()
    spiral = (ROOT / "reference/spiral/net.py").read_text()
    for source, qualname, wanted in (
        (regression, "two_layer_regression_backward", "dy_pred @ w2.T > 0"),
        (spiral, "scores_backward", "dhidden[dhidden <= 0] = 0"),
    ):
        found = solution(source, qualname)
        assert found is not None
        texts = [
            __import__("ast").unparse(m.function)
            for m in found.mutants()
            if m.mistake is Mistake.MASK_ON_GRADIENT
        ]
        assert any(wanted in text for text in texts), (qualname, texts)


def submission(tmp_path: Path, assignment: str, module: str, old: str, new: str) -> Student:
    folder = tmp_path / "sub"
    import shutil

    shutil.copytree(ROOT / "examples/submissions" / assignment / "correct", folder)
    path = folder / f"{module}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return Student(folder)


def network_check(student: Student, tests: Path = ROOT / "assignments/layers/tests/x.py"):
    """The public Network.backprop check, with the reference found above the tests."""
    checker = Checker(0, "t", subject=Subject("1.14", lambda: student, tests))
    K = student.layer_class
    net = K.Network([5, 7, 4], ["tanh", "sigmoid"], seed=0)
    rng = np.random.default_rng(0)
    X, T = rng.standard_normal((3, 5)), rng.uniform(0, 1, (3, 4))

    def load(params):
        for i, layer in enumerate(net.layers):
            layer.W, layer.b = params[f"W{i}"], params[f"b{i}"]

    def loss(params):
        load(params)
        return K.half_mse(net.forward(X), T)[0]

    def gradient(params):
        load(params)
        return [g for pair in net.backprop(K.half_mse(net.forward(X), T)[1]) for g in pair]

    params = {
        f"{p}{i}": copy.copy(getattr(layer, p))
        for i, layer in enumerate(net.layers)
        for p in ("W", "b")
    }
    with pytest.raises(AssertionError) as failed:
        checker.function(loss, gradient, params, name="Network.backprop")
    return checker.results[-1], str(failed.value)


def test_a_list_left_unreversed_is_named(tmp_path):
    student = submission(
        tmp_path,
        "layers",
        "layer_class",
        "grads.insert(0, (dEdW, dEdb))",
        "grads.append((dEdW, dEdb))",
    )
    result, text = network_check(student)
    assert result.diagnosis is not None and result.diagnosis.code is Code.NOT_REVERSED
    assert "Network.backprop" in text


def test_a_wrong_activation_derivative_is_blamed_not_the_network(tmp_path):
    student = submission(
        tmp_path, "layers", "layer_class", "return y * (1 - y)", "return y * (1 + y)"
    )
    result, text = network_check(student)
    assert result.diagnosis is not None and result.diagnosis.code is Code.CASCADE
    assert text.startswith("Network.backprop fails because your sigmoid_gd (Task 1.11) is wrong")


def test_a_handout_without_the_reference_keeps_the_generic_diagnosis(tmp_path):
    student = submission(
        tmp_path,
        "layers",
        "layer_class",
        "grads.insert(0, (dEdW, dEdb))",
        "grads.append((dEdW, dEdb))",
    )
    result, _ = network_check(student, tmp_path / "layers/tests/test_x.py")
    assert result.diagnosis is not None and result.diagnosis.code is not Code.NOT_REVERSED
