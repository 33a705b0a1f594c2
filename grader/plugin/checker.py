"""The ``checker`` a homework test uses: the gradient checker bound to the
course's seed and tolerances, which records what it finds on the test (for
the scoreboard and the report) and fails the test with one clear sentence."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.course.templates import Task
from grader.gradcheck.alternatives import Explainer
from grader.gradcheck.api import Budget, check_function, check_layer, check_loss
from grader.gradcheck.codes import Code
from grader.gradcheck.failure import GradientCheckFailed, LayerCheck, NotAttempted
from grader.gradcheck.metrics import Tolerance
from grader.gradcheck.result import CheckResult, Status
from grader.plugin import given_code, names
from grader.plugin.explain import ReferenceExplainer
from grader.plugin.solutions import Reference, find_reference, open_reference
from grader.plugin.substitute import original


@dataclass(frozen=True)
class Subject:
    """What the test grades, so a failure can be named from the reference:
    the task id of its marker, the student handle (once the test asked for
    it) and the test file (a course checkout keeps the reference above it)."""

    task: str | None
    student: Callable[[], Any]
    test_file: Path | None = None


class Checker:
    """Per-test handle: ``checker.layer(...)``, ``checker.loss(...)``,
    ``checker.function(...)`` and artifacts for the report."""

    def __init__(
        self,
        seed: int,
        nodeid: str,
        tolerance: Tolerance | None = None,
        source: Path | None = None,
        subject: Subject | None = None,
    ) -> None:
        self.seed = seed
        self.subject = subject
        self.source = source  # the submission's folder: errors are shown at its lines
        self.tolerance = tolerance
        self.results: list[CheckResult] = []
        self.artifacts: dict[str, Any] = {}
        # Inputs depend on the test, not on the order tests run in (xdist, -k).
        self.rng = np.random.default_rng([seed, zlib.crc32(nodeid.encode())])

    def _settle(self, result: CheckResult, backward: Callable[..., object]) -> CheckResult:
        if not result.passed:
            result = self._in_student_names(result, backward)
        self.results.append(result)
        if result.status is Status.NOT_ATTEMPTED:
            raise NotAttempted(result.message)
        if not result.passed:
            raise GradientCheckFailed(result)
        return result

    def layer(
        self,
        forward: Callable[..., tuple[Any, Any]],
        backward: Callable[..., object],
        inputs: Mapping[str, ArrayLike],
        words: Mapping[str, str] | None = None,
        **options: Any,
    ) -> CheckResult:
        """``check_layer`` with the course's seed; fails the test if wrong.
        ``words`` says the check's names in the student's terms when the test
        builds the layer itself (``{"dout": "the gradient at the hidden layer"}``)."""
        options = self._options(backward, options)
        result = check_layer(forward, backward, inputs, **options)
        if words and not result.passed:
            result = names.renamed(result, names.Renaming(dict(words), frozenset()))
        return self._settle(result, backward)

    def loss(
        self,
        forward: Callable[..., tuple[Any, Any]],
        backward: Callable[..., object],
        inputs: Mapping[str, ArrayLike],
        **options: Any,
    ) -> CheckResult:
        """``check_loss`` with the course's seed; fails the test if wrong."""
        options = self._options(backward, options)
        return self._settle(check_loss(forward, backward, inputs, **options), backward)

    def _options(self, backward: Callable[..., object], given: dict[str, Any]) -> dict[str, Any]:
        """The test's options over the course's: explainer, seed, tolerance, source."""
        return {
            "explainer": self._explainer(backward, given.get("name")),
            "seed": self.seed,
            "tolerance": self.tolerance,
            "source": self.source,
            **given,
        }

    def function(
        self,
        loss: Callable[[dict[str, Any]], float],
        gradient: Callable[[dict[str, Any]], object],
        params: Mapping[str, ArrayLike],
        layers: Callable[[], Sequence[LayerCheck]] | None = None,
        **options: Any,
    ) -> CheckResult:
        """``check_function`` with the course's seed; fails the test if wrong.

        ``layers`` (output layer first) lets a failing network name the first
        layer whose own backward is wrong, so one bug does not read as five.
        """
        options = {"budget": Budget(), **self._options(gradient, options)}
        result = check_function(loss, gradient, params, **options)
        cascade = result.diagnosis is not None and result.diagnosis.code is Code.CASCADE
        if layers is not None and result.status is Status.FAILED and not cascade:
            result = self._blame(result, layers())
        return self._settle(result, gradient)

    def _in_student_names(
        self, result: CheckResult, backward: Callable[..., object]
    ) -> CheckResult:
        """A check of the task's own function speaks in the names of the
        student's version of it (read from the submission's source)."""
        try:
            found = self._task()
            if found is None:
                return result
            reference, handle, task = found
            student = names.read_file(source_of(handle.path, task.module), task.qualname)
            if student is None:
                return result
            if not calls_directly(handle, task, backward):
                # the test's own code around the task: only the check's generic
                # words ("dout") the student's function lacks are described
                nothing = names.Names((), frozenset())
                roles = names.renaming(nothing, student, {}, frozenset(names.ROLES))
                return names.renamed(result, roles)
            handout = names.read_file(reference.folder / f"{task.module}.py", task.qualname)
            if handout is None:
                return result
            grads = {t.name: t.param for t in result.tensors}
            renaming = names.renaming(handout, student, grads, frozenset(names.ROLES))
            return names.renamed(result, renaming)
        except Exception:  # names are a courtesy: a check never fails because of them
            return result

    def _task(self) -> tuple[Reference, Any, Task] | None:
        """The reference, the student handle and the test's task in it."""
        found = self._reference()
        if found is None:
            return None
        reference, handle = found
        task = reference.by_id.get(str(self.subject.task)) if self.subject else None
        return (reference, handle, task) if task is not None else None

    def _reference(self) -> tuple[Reference, Any] | None:
        """The reference and the student handle, when both can be found."""
        if self.subject is None or self.subject.task is None:
            return None
        handle = self.subject.student()
        folder = find_reference(self.subject.test_file, handle) if handle is not None else None
        if folder is None:
            return None
        return open_reference(folder), handle

    def _explainer(self, backward: Callable[..., object], name: str | None) -> Explainer | None:
        """Names failures from the reference's mutants and the other tasks'
        functions, when the reference is at hand (a course checkout, or
        grading mode); a student's handout has none."""
        try:
            found = self._task()
            if found is None:
                return None
            reference, handle, task = found
            return ReferenceExplainer(reference, handle, task, backward, label=name)
        except Exception:  # naming is a bonus: a check never fails because of it
            return None

    @contextmanager
    def given(self, what: str, judge_success: bool = True) -> Iterator[None]:
        """Run given code that calls the student's functions (a training
        loop): if it fails, say which task's function caused it, and an
        exception raised by the given code itself as what it is, naming the
        value the student's function returned. ``judge_success=False``: a
        block that succeeds passes (a test of one part of what a function
        returns, which earns its points even when another part is wrong)."""
        found = self._reference()
        if found is None:
            yield
            return
        reference, handle = found
        task = self.subject.task if self.subject else None
        with given_code.watched(reference, handle, task, what, judge_success):
            yield

    def _blame(self, result: CheckResult, layers: Sequence[LayerCheck]) -> CheckResult:
        """Check each layer's backward at its cached inputs, from the output
        back; the first wrong one is the likely cause of everything before it."""
        for layer in layers:
            options = {
                "seed": self.seed,
                "tolerance": self.tolerance,
                "source": self.source,
                **dict(layer.options),
            }
            own = check_layer(layer.forward, layer.backward, layer.inputs, **options)
            if own.status in (Status.FAILED, Status.ERROR):
                self.results.append(own)
                message = (
                    f"{result.name} is wrong, and the first layer whose backward is "
                    f"wrong is {layer.label}: {own.message}"
                )
                blamed = own.diagnosis or result.diagnosis
                if blamed is not None:
                    blamed = replace(blamed, message=message)
                return replace(result, message=message, diagnosis=blamed)
        return result

    def loss_curve(
        self,
        student: Sequence[float],
        reference: Sequence[float] | None = None,
        label: str = "",
        every: int = 1,
        reference_every: int | None = None,
    ) -> None:
        """Show the student's loss history (and the reference's) in the report,
        every recorded value (the chart keeps each pixel column's extremes);
        ``every`` is the number of iterations between recorded values, and
        ``reference_every`` the reference's (default: the same)."""
        self.artifacts["loss_curve"] = {
            "student": [_number(v) for v in student],
            "reference": [_number(v) for v in reference] if reference is not None else [],
            "label": label,
            "every": max(1, int(every)),
            "reference_every": max(1, int(every if reference_every is None else reference_every)),
        }

    def decision_boundary(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        X: np.ndarray,
        y: np.ndarray,
        cells: int = 80,
    ) -> None:
        """Show the classifier's regions and the data points (2-D data)."""
        pad = 0.5
        x_min, x_max = float(X[:, 0].min() - pad), float(X[:, 0].max() + pad)
        y_min, y_max = float(X[:, 1].min() - pad), float(X[:, 1].max() + pad)
        xs = np.linspace(x_min, x_max, cells)
        ys = np.linspace(y_min, y_max, cells)
        xx, yy = np.meshgrid(xs, ys)
        grid = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
        self.artifacts["decision_boundary"] = {
            "x_min": x_min,
            "x_max": x_max,
            "y_min": y_min,
            "y_max": y_max,
            "grid": grid.astype(int).tolist(),
            "points": [[float(a), float(b), int(c)] for (a, b), c in zip(X, y, strict=True)],
            "classes": int(max(int(np.max(y)), int(grid.max())) + 1),
        }


def _number(value: float) -> float | None:
    f = float(value)
    return f if np.isfinite(f) else None


def calls_directly(handle: Any, task: Task, backward: Callable[..., object]) -> bool:
    """The check calls the task's function itself (or it bound to an object),
    so its arguments are the function's parameters, position by position."""
    mine = original(handle, task)
    return mine is not None and (backward is mine or getattr(backward, "__func__", None) is mine)


def source_of(path: Path, module: str) -> Path:
    """The file of a submission's module: the submission itself when it is one file."""
    return path if path.is_file() else path / f"{module}.py"
