"""Given code (a training loop, a gradient-descent step) that calls the
student's functions: when it fails, say why in the student's terms.

* A task's function it called is wrong: "the spiral training fails because
  your softmax_loss_backward (Task 2.1) is wrong: fix that first".
* The given code itself raised (a ``KeyError`` in the given loop because the
  student's backward returned other keys): "the given training loop failed
  with KeyError: 'W1' after your backward (Task 3.1) returned a dict with
  keys ['dW1', ...]".

The first calls of each task are recorded while the loop runs and judged
against the reference afterwards: when it failed, to say which task is to
blame; when it succeeded, so that a loop that reaches its goal without the
right gradients (weights solved for in place) earns nothing. That costs a few
copies and a few reference calls.
"""

from __future__ import annotations

import copy
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from grader.course.templates import Task
from grader.gradcheck.alternatives import Alternative, explain
from grader.gradcheck.codes import Code
from grader.gradcheck.failure import GradientCheckFailed
from grader.gradcheck.result import Diagnosis
from grader.gradcheck.tracebacks import RaisedElsewhere
from grader.plugin.explain import ReferenceExplainer
from grader.plugin.solutions import Reference
from grader.plugin.substitute import original, substituted
from grader.plugin.watch import Watch, arrays_of


class GivenCodeFailed(AssertionError):
    """Given code failed because of a task's function; ``str()`` says which,
    and ``diagnosis`` names it as a check's result would."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.message)
        self.diagnosis = diagnosis


@contextmanager
def watched(
    reference: Reference,
    handle: Any,
    task_id: str | None,
    what: str,
    judge_success: bool = True,
) -> Iterator[None]:
    originals: dict[str, Any] = {}
    for task in reference.tasks:
        try:
            originals[task.id] = original(handle, task)
        except Exception:  # a task the submission lacks cannot be watched
            continue
    watch = Watch(reference, originals, answer_right=False)
    replacements = {t: watch.watcher(t) for t in reference.tasks if t.id in originals}
    failed: Exception | None = None
    with substituted(handle, replacements):
        try:
            yield
        except (GivenCodeFailed, GradientCheckFailed):
            raise
        except Exception as exc:
            failed = exc
    if failed is None and not judge_success:
        return
    # judged outside the block: naming a mistake runs the student's functions
    # and the reference's mutants where the test reaches them
    blame = Blame(watch, reference, handle, task_id, what)
    if failed is not None:
        explained = blame.failure(failed)
        if explained is None:
            raise failed
        raise GivenCodeFailed(explained) from failed
    # A loop that reached its goal proves nothing if a task's function got
    # there another way (a "backward" that solves for the weights in place and
    # returns zeros): its first calls must also agree with the reference.
    explained = blame.success()
    if explained is not None:
        raise GivenCodeFailed(explained)


class Blame:
    """Which task's function a run of given code went wrong by, judged from
    the calls ``watch`` recorded; ``task_id`` is the test's own task."""

    def __init__(
        self, watch: Watch, reference: Reference, handle: Any, task_id: str | None, what: str
    ) -> None:
        self.watch = watch
        self.reference = reference
        self.handle = handle
        self.what = what
        self.wrong = watch.judge() if watch.recorded else []
        self.others = [t for t in self.wrong if t.id != task_id]
        self.own = next((t for t in self.wrong if t.id == task_id), None)

    def failure(self, exc: Exception) -> Diagnosis | None:
        """Why the given code raised (or the test's assertion inside it failed)."""
        if self.others:
            return self._cascade(f"{self.what} fails because")
        if isinstance(exc, RaisedElsewhere) or _raised_by_student(exc, self.reference):
            # the student's function raised: named when a mutant raises the same,
            # else the student's own traceback says more
            named = self._named()
            if named is None:
                return None
            raised = str(exc) if isinstance(exc, RaisedElsewhere) else _raised(exc)
            return replace(named, message=f"{named.message} (your code raised {raised})")
        named = self._named()
        if named is not None:
            happened = _first_line(exc) if isinstance(exc, AssertionError) else _raised(exc)
            return replace(named, message=f"{self.what} failed ({happened}). {named.message}")
        if isinstance(exc, AssertionError) or self.watch.last is None:
            return None
        returned = self.watch.last
        return Diagnosis(
            Code.GIVEN_CODE_FAILED,
            f"the given code of {self.what} failed with {_raised(exc)}"
            f", after your {returned.task.qualname} (Task {returned.task.id}) returned "
            + describe_value(returned.value)
            + _expected(returned.task, self.reference),
        )

    def success(self) -> Diagnosis | None:
        """A run that reached its goal with a wrong task's function."""
        if self.others:
            return self._cascade(f"{self.what} ran to the end, but")
        if self.own is None:
            return None
        named = self._named()
        task = self.own
        return Diagnosis(
            named.code if named is not None else Code.UNRECOGNISED,
            f"{self.what} reached its goal, but your {task.qualname} (Task {task.id}) does not "
            "return the right values on the loop's own inputs (or changes them in place): "
            "no points for a loop that succeeds without the right gradients"
            + (f". {named.message}" if named is not None else ""),
        )

    def _cascade(self, prefix: str) -> Diagnosis:
        cause = self.others[0]
        return Diagnosis(
            Code.CASCADE,
            f"{prefix} your {cause.qualname} (Task {cause.id}) is wrong: fix that first",
        )

    def _named(self) -> Diagnosis | None:
        """The test's own task named by the reference's mutants, on the first
        recorded call of it whose answer differs from the reference's."""
        task = self.own
        if task is None:
            return None
        student = self.watch.originals.get(task.id)
        if student is None:
            return None
        explainer = WithEffect(ReferenceExplainer(self.reference, self.handle, task, student))
        for call in self.watch.recorded:
            if call.task is not task or call.kwargs:
                continue
            named = _named_call(explainer, student, call.args)
            if named is not None:
                return named
        return None


def _named_call(
    explainer: WithEffect, student: Callable[..., object], args: tuple[Any, ...]
) -> Diagnosis | None:
    """The mistake of one call (None when it agrees with the reference)."""

    def fresh() -> tuple[Any, ...]:
        copied: tuple[Any, ...] = copy.deepcopy(args)
        return copied

    method = bool(args) and hasattr(args[0], "__dict__")
    try:
        got: object = with_effect(student)(*fresh())
    except Exception as exc:  # the student's function raises on the loop's inputs
        got = exc
    try:
        return explain(explainer, fresh, got, _effect_name if method else _returned_name)
    except Exception:  # naming must never turn a failure into a crash
        return None


class WithEffect:
    """An explainer whose functions return what they returned together with
    the arrays they left on their object (a method such as Network.backward
    keeps its gradients as attributes)."""

    def __init__(self, inner: ReferenceExplainer) -> None:
        self.inner = inner

    def cascade(self, args: tuple[Any, ...]) -> Diagnosis | None:
        return self.inner.cascade(args)

    def reference(self) -> Callable[..., object] | None:
        right = self.inner.reference()
        return None if right is None else with_effect(right)

    def alternatives(self) -> Iterator[Alternative]:
        for alternative in self.inner.alternatives():
            yield replace(alternative, backward=with_effect(alternative.backward))


def with_effect(function: Callable[..., object]) -> Callable[..., object]:
    """``function`` returning (its value, the arrays of its first argument)."""

    def run(*args: Any) -> object:
        value = function(*args)
        owner = args[0] if args and hasattr(args[0], "__dict__") else None
        return value, arrays_of(owner) if owner is not None else {}

    return run


def _returned_name(path: str) -> str:
    """A returned dict's key as the handout spells it; values in a tuple or
    list go unnamed (the message then names no values)."""
    path = path.removeprefix("[0]")  # (value, effect): the value's own path
    if path.startswith("[") and path[1:2] in "'\"":
        key = path[1:].split("]", 1)[0].strip("'\"")
        return f'"{key}"'
    return ""


def _effect_name(path: str) -> str:
    """An attribute a method left on its object, as ``self.<name>``."""
    if path.startswith("[1]['"):
        return "self." + path[5:].split("'", 1)[0]
    return _returned_name(path)


def _raised(exc: BaseException) -> str:
    detail = _first_line(exc)
    return type(exc).__name__ + (f": {detail}" if detail else "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _raised_by_student(exc: BaseException, reference: Reference) -> bool:
    """The innermost frame outside numpy and the grader is a task's function."""
    names = {t.name for t in reference.tasks}
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "numpy" not in f.filename and f"{os.sep}grader{os.sep}" not in f.filename
    ]
    return bool(frames) and frames[-1].name in names


def _expected(task: Task, reference: Reference) -> str:
    """What the handout's docstring says the function returns."""
    doc = (reference.function(task).__doc__ or "").strip().splitlines()
    returns = next((line.strip() for line in doc if line.strip().startswith("Returns")), "")
    return f"; the handout says: {returns}" if returns else ""


def describe_value(value: Any, depth: int = 0) -> str:
    """A short description of a returned value: its type, keys, shapes, length."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict):
        keys = [repr(k) for k in list(value)[:8]]
        return f"a dict with keys [{', '.join(keys)}]"
    if isinstance(value, tuple | list):
        kind = "tuple" if isinstance(value, tuple) else "list"
        if depth == 0 and value:
            parts = ", ".join(describe_value(v, 1) for v in value[:4])
            return f"a {kind} of {len(value)} ({parts}{', ...' if len(value) > 4 else ''})"
        return f"a {kind} of {len(value)}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"
