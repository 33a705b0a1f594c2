"""Traced runs: a trusted training loop's calls into the student's process
without a round trip per step.

A training loop in the given code calls the student's backward once per step,
so grading it call by call costs thousands of round trips. Instead, when the
trusted worker enters given code that can reach a task ("a driver"), it
first asks the student's process to run its own copy of that driver with the
same arguments (``grader.sandbox.trace_recorder``). That process streams, in
order, its reply to each outermost call the driver makes to a "unit": a
task's function, or given code that reaches one (``loss_and_grads`` inside
``train``), with a print of the arguments it made the call with.

The grader then runs the driver's trusted code. At each unit call it takes
the next streamed reply, without building a request or running the unit,
if the reply names the same unit and its print matches the grader's own
arguments (``grader.sandbox.fingerprint``); it applies the reply as data,
exactly like a direct call's. On the first difference (the student changed
the given code, or draws random numbers differently), or an error, it
restarts the student's process and goes on call by call. Whether the
replies it took were the ones the submission's code gives for the grader's
arguments is checked after the run, on calls drawn at random
(``grader.plugin.verified``).
"""

from __future__ import annotations

from types import CodeType, FunctionType, ModuleType
from typing import Any

import numpy as np

from grader.sandbox import fingerprint, wire
from grader.sandbox.process import Sandbox, SandboxDied


class Trace:
    """The replies the student's process is streaming for one driver call."""

    def __init__(self, sandbox: Sandbox, convert: wire.Convert) -> None:
        self.sandbox, self.convert = sandbox, convert
        self.ended = True
        self.matched = 0

    @property
    def active(self) -> bool:
        return not self.ended

    def start(self, request: dict[str, Any], units: list[str]) -> bool:
        """Ask for a traced run; False if the arguments are not all data."""
        message = wire.encode({**request, "trace": units}, self.convert)
        if not message.plain or self.sandbox.died is not None:
            return False
        try:
            self.sandbox.send(message)
        except SandboxDied:
            self.sandbox.restart()
            return False
        self.ended = False
        return True

    def take(self, target: str, printed: np.ndarray, bound: wire.Bound) -> dict[str, Any] | None:
        """The streamed reply to the next unit call, if it is a call of
        ``target`` with arguments that print as ``printed`` and it did not
        raise; None (and the trace is over) otherwise. It is read within
        ``bound``, the bound of a direct call's reply."""
        if self.ended:
            return None
        message = self._next(bound)
        entry = message.get("entry") if message is not None else None
        if not (
            type(entry) is list
            and len(entry) == 3
            and entry[0] == target
            and fingerprint.same(printed, entry[1])
            and type(entry[2]) is dict
            and "error" not in entry[2]
        ):
            # an error is raised again by the direct call, where the grader
            # sees which code raised it
            self.abandon(ended=message is not None and "end" in message)
            return None
        self.matched += 1
        reply: dict[str, Any] = entry[2]
        return reply

    def finish(self) -> None:
        """The trusted run is over: the student's must be over too."""
        if not self.ended:
            message = self._next(wire.Bound.expecting(()))
            self.abandon(ended=message is not None and "end" in message)

    def abandon(self, ended: bool = False) -> None:
        """Stop using the trace; a process still running its copy is restarted."""
        if not ended:
            self.sandbox.restart()
        self.ended = True

    def _next(self, bound: wire.Bound) -> dict[str, Any] | None:
        try:
            return self.sandbox.receive(bound)
        except SandboxDied:
            # a timeout or crash while tracing (or a message beyond the bound):
            # the call-by-call run that follows meets the same problem where it
            # belongs, or does not
            self.sandbox.restart()
            self.ended = True
            return None


def names(code: CodeType) -> set[str]:
    """Every global and attribute name a function's code (nested code too) uses."""
    found = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            found |= names(constant)
    return found


def drivers(modules: dict[str, ModuleType], tasks: set[str]) -> dict[str, FunctionType]:
    """Given functions and methods that can reach a task (``tasks``: dotted
    targets), by dotted name. A name-based over-approximation: a driver that
    never calls a task costs one extra round trip, once."""
    given: dict[str, FunctionType] = {}
    for stem, module in modules.items():
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if isinstance(value, FunctionType) and not hasattr(value, "_grader_target"):
                given[f"{stem}.{name}"] = value
            elif isinstance(value, type):
                for attr, member in vars(value).items():
                    if isinstance(member, FunctionType) and not attr.startswith("__"):
                        given[f"{stem}.{name}.{attr}"] = member
    given = {target: f for target, f in given.items() if target not in tasks}
    reaching = {t.rsplit(".", 1)[-1] for t in tasks}
    found: dict[str, FunctionType] = {}
    while True:
        new = {
            target: f
            for target, f in given.items()
            if target not in found and names(f.__code__) & reaching
        }
        if not new:
            return found
        found.update(new)
        reaching |= {t.rsplit(".", 1)[-1] for t in new}
