"""Watch the calls a computation makes to the functions of the assignment's
tasks, and compare each with the reference's function on copies of the same
arguments: the first one that differs is the task to blame.

Calls are caught where the test reaches them (the modules and classes, by
``grader.plugin.substitute``) and inside reference code compiled with its
calls routed through ``Watch.hook`` (an attribute such as ``self.gd`` is
called from there).
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.course.templates import Task
from grader.gradcheck.alternatives import same
from grader.plugin.solutions import Reference

CALLS_COMPARED = 3  # calls of each task compared per watch (a training loop makes thousands)


@dataclass(frozen=True)
class Returned:
    """The last value a task's function returned to the code that called it."""

    task: Task
    value: Any


@dataclass(frozen=True)
class Recorded:
    """A call kept to be judged later: copies of its arguments."""

    task: Task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class Watch:
    """Compares calls of the tasks in ``originals`` (task id -> the function
    the test reaches) with the reference.

    With ``answer_right`` each call is judged as it happens and the caller
    gets the reference's answer, so the rest of a computation stays right and
    every wrong task shows (a check's cascade). Without it the student's
    answer goes on unchanged and the first calls of each task are only
    recorded, to be judged by ``judge()`` if the computation fails (a
    training loop, which must not slow down or change).

    Without ``nested`` only the outermost task calls are judged: the
    reference answers the calls inside them alone (a training step's check
    needs to know whether the network's backward is right, not each layer's)."""

    def __init__(
        self,
        reference: Reference,
        originals: dict[str, Any],
        *,
        answer_right: bool,
        nested: bool = True,
    ) -> None:
        self.reference = reference
        self.originals = originals
        self.answer_right = answer_right
        self.nested = nested
        self._depth = 0
        self.wrong: list[Task] = []
        self.last: Returned | None = None
        self.recorded: list[Recorded] = []
        self._calls: Counter[str] = Counter()
        self._compiled: dict[str, Callable[..., Any] | None] = {}

    def hook(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call inside compiled reference code passes through here."""
        task, owner = self.reference.task_of(function)
        if task is None or task.id not in self.originals:
            return function(*args, **kwargs)
        return self.call(task, (owner, *args) if owner is not None else args, kwargs)

    def watcher(self, task: Task) -> Callable[..., Any]:
        """A stand-in for the task's function that compares each call."""
        student = self.originals[task.id]

        @functools.wraps(student)
        def watched(*args: Any, **kwargs: Any) -> Any:
            return self.call(task, args, kwargs)

        return watched

    def call(self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        student = self.originals[task.id]
        first = self._calls[task.id] < CALLS_COMPARED
        self._calls[task.id] += 1
        if not self.answer_right:
            return self._recorded(task, student, first, args, kwargs)
        right_version = self._right(task)
        if right_version is None:
            return student(*args, **kwargs)
        if not first or task in self.wrong or (self._depth and not self.nested):
            return right_version(*args, **kwargs)
        try:
            right_args, right_kwargs = copy.deepcopy((args, kwargs))
            mine_args, mine_kwargs = copy.deepcopy((args, kwargs))
        except Exception:  # arguments that cannot be copied: no judgment
            return right_version(*args, **kwargs)
        self._depth += 1
        try:
            right = right_version(*right_args, **right_kwargs)
        finally:
            self._depth -= 1
        try:
            got = student(*mine_args, **mine_kwargs)
        except Exception:
            self._blame(task)
            return right
        if not _agree(got, right, mine_args, right_args):
            self._blame(task)
        _copy_state(right_args, args)
        return right

    def _recorded(
        self,
        task: Task,
        student: Callable[..., Any],
        first: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """The student's answer, unchanged; the first calls kept as copies.
        ``last`` is what an outermost call returned to the code around it."""
        if first:  # arguments that cannot be copied are not judged
            with contextlib.suppress(Exception):
                self.recorded.append(Recorded(task, *copy.deepcopy((args, kwargs))))
        self._depth += 1
        try:
            value = student(*args, **kwargs)
        finally:
            self._depth -= 1
        if not self._depth:
            self.last = Returned(task, value)
        return value

    def judge(self) -> list[Task]:
        """The recorded calls judged now: wrong tasks, innermost first."""
        wrong: list[Task] = []
        for call in self.recorded:
            check = Watch(self.reference, self.originals, answer_right=True)
            try:
                check.call(call.task, *copy.deepcopy((call.args, call.kwargs)))
            except Exception:  # the reference cannot run on what it was given
                continue
            wrong += [t for t in check.wrong if t not in wrong]
        return wrong

    def _blame(self, task: Task) -> None:
        if task not in self.wrong:
            self.wrong.append(task)

    def _right(self, task: Task) -> Callable[..., Any] | None:
        """The reference's function of the task, its own calls watched too."""
        if task.id not in self._compiled:
            self._compiled[task.id] = self.reference.instrumented(task, self.hook)
        return self._compiled[task.id]


def _agree(got: Any, right: Any, got_args: tuple[Any, ...], right_args: tuple[Any, ...]) -> bool:
    """Same returned values, and a method left its object in the same state."""
    if not same(got, right):
        return False
    if got_args and right_args and hasattr(got_args[0], "__dict__"):
        return same(arrays_of(got_args[0]), arrays_of(right_args[0]))
    return True


def arrays_of(owner: Any) -> dict[str, Any]:
    """The array attributes of an object, by name: a method's effect on it."""
    return {k: v for k, v in sorted(vars(owner).items()) if isinstance(v, np.ndarray)}


def _copy_state(source_args: tuple[Any, ...], target_args: tuple[Any, ...]) -> None:
    """A method's effect on its copied object, carried over to the real one."""
    if not source_args or not target_args:
        return
    source, target = source_args[0], target_args[0]
    if (
        type(source) is type(target)
        and hasattr(source, "__dict__")
        and not isinstance(source, type)
    ):
        for key, value in vars(source).items():
            if isinstance(value, np.ndarray):
                setattr(target, key, value)
