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

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from grader.course.templates import Task
from grader.gradcheck.tracebacks import RaisedElsewhere
from grader.plugin.solutions import Reference
from grader.plugin.substitute import original, substituted
from grader.plugin.watch import Watch


class GivenCodeFailed(AssertionError):
    """Given code failed because of a task's function; ``str()`` says which."""


@contextmanager
def watched(reference: Reference, handle: Any, task_id: str | None, what: str) -> Iterator[None]:
    originals: dict[str, Any] = {}
    for task in reference.tasks:
        try:
            originals[task.id] = original(handle, task)
        except Exception:  # a task the submission lacks cannot be watched
            continue
    watch = Watch(reference, originals, answer_right=False)
    replacements = {t: watch.watcher(t) for t in reference.tasks if t.id in originals}
    with substituted(handle, replacements):
        try:
            yield
        except GivenCodeFailed:
            raise
        except Exception as exc:
            explained = _explain(exc, watch, reference, task_id, what)
            if explained is None:
                raise
            raise GivenCodeFailed(explained) from exc
    # A loop that reached its goal proves nothing if a task's function got
    # there another way (a "backward" that solves for the weights in place and
    # returns zeros): its first calls must also agree with the reference.
    wrong = watch.judge()
    others = [t for t in wrong if t.id != task_id]
    if others:
        cause = others[0]
        raise GivenCodeFailed(
            f"{what} reached its goal, but only by luck: your {cause.qualname} "
            f"(Task {cause.id}) is wrong: fix that first"
        )
    if wrong:
        task = wrong[0]
        raise GivenCodeFailed(
            f"{what} reached its goal, but your {task.qualname} (Task {task.id}) does not "
            "return the right values on the loop's own inputs (or changes them in place): "
            "no points for a loop that succeeds without the right gradients"
        )


def _explain(
    exc: Exception, watch: Watch, reference: Reference, task_id: str | None, what: str
) -> str | None:
    others = [t for t in watch.judge() if t.id != task_id]
    if others:
        cause = others[0]
        return (
            f"{what} fails because your {cause.qualname} (Task {cause.id}) is wrong: fix that first"
        )
    if isinstance(exc, AssertionError | RaisedElsewhere) or watch.last is None:
        return None
    if _raised_by_student(exc, reference):
        return None
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    returned = watch.last
    return (
        f"the given code of {what} failed with {type(exc).__name__}"
        + (f": {detail}" if detail else "")
        + f", after your {returned.task.qualname} (Task {returned.task.id}) returned "
        + describe_value(returned.value)
        + _expected(returned.task, reference)
    )


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
