"""Put another callable where a task's function is, for the length of a
``with`` block: in every module that binds the function by name, or on its
class for a method. It works on what the test reaches, in student mode (the
student's modules) and in grading mode (the trusted copies of the reference
holding proxies), so the test's own code runs unchanged around it."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from grader.course.templates import Task


def original(handle: Any, task: Task) -> Any:
    """The task's function as the test reaches it (a plain function for a method)."""
    value: Any = getattr(handle, task.module)
    if "." not in task.qualname:
        return getattr(value, task.name)
    cls_name, method = task.qualname.split(".", 1)
    cls = getattr(value, cls_name)
    return cls.__dict__.get(method) if isinstance(cls, type) else None


def owner_class(handle: Any, task: Task) -> type | None:
    if "." not in task.qualname:
        return None
    cls = getattr(getattr(handle, task.module), task.qualname.split(".", 1)[0])
    return cls if isinstance(cls, type) else None


@contextmanager
def substituted(handle: Any, replacements: Mapping[Task, Callable[..., Any]]) -> Iterator[None]:
    """Each task's function replaced by its replacement inside the block."""
    undo: list[Callable[[], None]] = []
    try:
        for task, replacement in replacements.items():
            undo += _replace(handle, task, replacement)
        yield
    finally:
        for step in reversed(undo):
            step()


def _replace(handle: Any, task: Task, replacement: Callable[..., Any]) -> list[Callable[[], None]]:
    cls = owner_class(handle, task)
    if cls is not None:
        method = task.qualname.split(".", 1)[1]
        before = cls.__dict__[method]
        setattr(cls, method, replacement)
        return [functools.partial(setattr, cls, method, before)]
    before = original(handle, task)
    undo: list[Callable[[], None]] = []
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict) and namespace.get(task.name) is before:
            namespace[task.name] = replacement
            undo.append(functools.partial(namespace.__setitem__, task.name, before))
    return undo
