"""Verified training: the replies a traced run streamed are checked after
the run, on unit calls drawn at random (see ``grader.sandbox.trace_replay``);
so are the answers behind a matched run's prints (``judge``, see
``grader.sandbox.trace_match``).

While the trusted code of a training loop takes the student's streamed
replies, a ``Reservoir`` keeps copies of the arguments of the first
``FIRST`` unit calls and of ``SAMPLED`` more drawn uniformly from all the
others, with a random generator seeded from the operating system after the
student's process was started: nothing it can see tells it which calls are
kept. After the run each kept call is computed again on the trusted side
with the reference's functions answering every task call, and each task
call the unit makes itself (not those inside another task's function) is
also sent to the student's process directly and judged against the
reference (``grader.plugin.watch``).

If a kept call's streamed reply is not what that computation gives (the
process lied, or its copy of the given code went another way without the
arguments showing it), or a task's function answers it wrongly when asked
directly, the trace is not used: the grader runs the whole loop again from
its first arguments, call by call, exactly as if no trace had been asked
for (``Untrue``; ``grading_student`` does the same when the traced run
raised). A submission whose functions are wrong therefore ends
exactly as it would in one process, and only a trace whose kept calls are
all right, and answered right by the submission, saves the round trips.

So a process without a backward that is right on the loop's own inputs
cannot have its streamed replies used: they are wrong at most calls, and a
kept call catches them. Streaming a few false replies among right ones (a
jump to weights found elsewhere) needs right answers at every other call:
a right backward, which trains the network anyway. The README's threat
model says this with the numbers.
"""

from __future__ import annotations

import copy
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.course.templates import Task
from grader.gradcheck.alternatives import same
from grader.sandbox import state

FIRST = 2  # the first unit calls of a traced run are always checked
SAMPLED = 12  # and this many more, drawn from all the others


Saved = tuple[tuple[Any, ...], dict[str, Any], Any]  # arguments, keywords, object
Reply = dict[str, Any]


@dataclass(frozen=True)
class Kept:
    """One unit call of a traced run, as it was before its reply was applied."""

    position: int
    target: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    owner: Any
    reply: dict[str, Any]


class Reservoir:
    """The first ``FIRST`` calls, and ``SAMPLED`` drawn uniformly from the
    rest (Vitter's algorithm R), whatever their number turns out to be.

    For each call: ``slot()`` says whether it would be kept (so that only a
    kept call's arguments are copied), then ``keep`` counts it once its reply
    was applied; a call whose reply was not taken is never counted."""

    def __init__(self) -> None:
        self.rng = random.Random(secrets.randbits(64))
        self.chosen: list[Kept] = []
        self.seen = 0

    def slot(self) -> int | None:
        """Where the next call would be kept; None if it would not."""
        index = self.seen - FIRST
        if index < SAMPLED:
            return self.seen
        drawn = self.rng.randrange(index + 1)
        return FIRST + drawn if drawn < SAMPLED else None

    def keep(self, slot: int | None, target: str, before: Saved | None, reply: Reply) -> None:
        """Count the next call; keep it in ``slot`` with ``before``, a copy of
        its arguments and object from before its reply was applied."""
        if slot is not None and before is not None:
            kept = Kept(self.seen, target, *before, reply)
            if slot < len(self.chosen):
                self.chosen[slot] = kept
            else:
                self.chosen.append(kept)
        self.seen += 1

    def kept(self) -> list[Kept]:
        return sorted(self.chosen, key=lambda k: k.position)


@dataclass(frozen=True)
class Untrue:
    """A kept call whose streamed reply cannot stand: not what the loop's
    code gives with the reference answering, or ``wrong``, a task whose own
    answer to a call in it was wrong."""

    kept: Kept
    wrong: Task | None


Apply = Callable[[Kept, tuple[Any, ...], dict[str, Any], Any], Any]
Judged = Callable[[str, tuple[Any, ...], dict[str, Any], Any], tuple[Any, list[Task]]]


def check(
    reservoir: Reservoir, apply: Apply, judged: Judged, given: state.IsGiven
) -> Untrue | None:
    """Check the kept calls in order. ``apply`` applies a kept call's reply
    to copies of its arguments and returns its value; ``judged`` computes the call with
    the reference answering and returns its value and the tasks whose own
    answers were wrong. The first kept call that cannot stand, or None."""
    for kept in reservoir.kept():
        claimed_args = copy.deepcopy((kept.args, kept.kwargs, kept.owner))
        try:
            claimed = apply(kept, *claimed_args)
        except state.Refused:  # it applied once, to the same state: it must again
            return Untrue(kept, None)
        right_args = copy.deepcopy((kept.args, kept.kwargs, kept.owner))
        right, wrong = judged(kept.target, *right_args)
        if wrong:
            return Untrue(kept, wrong[0])
        effects = arrays(claimed_args, given), arrays(right_args, given)
        if not (same(claimed, right) and same(*effects)):
            return Untrue(kept, None)
    return None


def judge(reservoir: Reservoir, judged: Judged) -> Untrue | None:
    """The kept calls of a matched run (whose values were the reference's,
    matched by the student's prints) sent to the student's process and
    judged: the first one a task answers wrongly, or None."""
    for kept in reservoir.kept():
        _, wrong = judged(kept.target, *copy.deepcopy((kept.args, kept.kwargs, kept.owner)))
        if wrong:
            return Untrue(kept, wrong[0])
    return None


def arrays(value: Any, given: state.IsGiven) -> list[np.ndarray]:
    """Every array reachable from ``value``, in a fixed order."""
    return [v for _, v in state.nodes(value, given) if type(v) is np.ndarray]


def restore(live: Any, saved: Any, given: state.IsGiven, depth: int = 0) -> Any:
    """Put ``live`` back in the state of ``saved`` (a deep copy of it taken
    earlier), in place where it can, so that the caller's references stay
    good; returns what the caller should hold."""
    if depth > state.MAX_DEPTH:
        return saved
    if type(live) is np.ndarray and type(saved) is np.ndarray:
        if live.shape == saved.shape and live.dtype == saved.dtype and live.flags.writeable:
            np.copyto(live, saved)
            return live
        return saved
    if type(live) is dict and type(saved) is dict:
        for key in [k for k in live if k not in saved]:
            del live[key]
        for key, value in saved.items():
            live[key] = restore(live[key], value, given, depth + 1) if key in live else value
        return live
    if type(live) is tuple and type(saved) is tuple and len(live) == len(saved):
        for a, b in zip(live, saved, strict=True):
            restore(a, b, given, depth + 1)
        return live
    if type(live) is list and type(saved) is list and len(live) == len(saved):
        live[:] = [restore(a, b, given, depth + 1) for a, b in zip(live, saved, strict=True)]
        return live
    if given(live) and type(saved) is type(live):
        restore(vars(live), vars(saved), given, depth + 1)
        return live
    return saved
