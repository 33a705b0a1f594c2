"""A cheap print of a call's arguments, taken on both sides of a traced run.

The student's process sends, with each call it records, the print of the
arguments it made that call with; the trusted side takes the reply only if
its own arguments at that point print the same (see
``grader.sandbox.trace_replay``). It tells an honest copy of a loop that went
another way (other random draws, an edited learning rate) from the grader's
at the first call where they part. It is not a security boundary: a hostile
process can send any print, and what keeps a trace honest is the check of
calls sampled after the run (``grader.plugin.verified``).

An array prints as its shape and, for numbers, its sum of squares and a
sum weighted by fixed weights between 1 and 2 (a slip of sign or order
changes the second where it keeps the first); a number prints as itself;
containers are walked. An object of the assignment's classes is walked
through the attributes named in ``declared`` (the names its classes' code
uses, so that an attribute only the student's code adds prints nothing);
anything else (a function, another object) adds nothing.

A matched run (``grader.sandbox.trace_match``) compares the prints of
every unit call's arguments, and of its value and what it left in its
arguments and object, between the student's run and the trusted one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.sandbox import state

Shape = tuple[int, ...]

MAX_DEPTH = 8
RTOL, ATOL = 1e-6, 1e-12
NO_NAMES: frozenset[str] = frozenset()
BATCH = 64  # unit calls' prints per message of a matched run
MAX_PRINT = 4096  # numbers in one unit call's print (the grader reads no more)
PRINT_FIRST, PRINT_EVERY = 4, 8  # the unit calls a matched run prints (``printed``)


def printed(index: int) -> bool:
    """Whether a matched run prints its ``index``-th unit call: the first
    few, then one in ``PRINT_EVERY``. A call left out still shows: a wrong
    value changes the arguments of the calls after it, or what the driver
    returns, and any call may be drawn to be judged after the run."""
    return index < PRINT_FIRST or index % PRINT_EVERY == 0


def _never(value: Any) -> bool:
    return False


def take(
    value: Any, given: state.IsGiven = _never, declared: frozenset[str] = NO_NAMES
) -> tuple[np.ndarray, list[Shape]]:
    """The print of ``value`` (one float64 array: it crosses as one buffer,
    not a list of numbers to encode one by one) and the shapes of its arrays.
    ``given`` tells an object of the assignment's classes, walked through its
    ``declared`` attributes."""
    values: list[float] = []
    shapes: list[Shape] = []
    _walk(value, 0, values, shapes, given, declared)
    return np.array(values, dtype=np.float64), shapes


def held(owner: Any, given: state.IsGiven) -> list[Shape]:
    """The shapes of the arrays a method's object holds: with the arguments'
    shapes, they bound the reply (``wire.Bound.expecting``)."""
    if owner is None:
        return []
    return [tuple(v.shape) for _, v in state.nodes(owner, given) if type(v) is np.ndarray]


def _walk(
    value: Any,
    depth: int,
    values: list[float],
    shapes: list[Shape],
    given: state.IsGiven,
    declared: frozenset[str],
) -> None:
    if depth > MAX_DEPTH:
        return
    kind = type(value)
    if kind is np.ndarray:
        shape = tuple(value.shape)
        shapes.append(shape)
        values.append(float(len(shape)))
        values.extend(float(n) for n in shape)
        if value.dtype.kind in "fiub" and value.size:
            flat = value.reshape(-1)
            if flat.dtype.kind != "f":
                flat = flat.astype(np.float64)
            values.append(float(np.dot(flat, flat)))
            values.append(float(np.dot(flat, _weights(flat.size))))
        return
    if kind is bool or kind is int or kind is float or kind in _SCALARS:
        values.append(float(value))  # a numpy scalar prints as the number it holds
        return
    if kind in (list, tuple):
        values.append(float(len(value)))
        for item in value:
            _walk(item, depth + 1, values, shapes, given, declared)
    elif kind is dict:
        values.append(float(len(value)))
        for item in value.values():
            _walk(item, depth + 1, values, shapes, given, declared)
    elif declared and given(value):
        attributes = vars(value)
        names = sorted(n for n in attributes if n in declared)
        values.append(float(len(names)))
        for name in names:
            _walk(attributes[name], depth + 1, values, shapes, given, declared)


_SCALARS = frozenset(
    {np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.bool_}
    | {np.uint64, np.uint32, np.uint16, np.uint8}
)
_WEIGHTS: dict[int, np.ndarray] = {}
GOLDEN = 0.6180339887498949


def _weights(size: int) -> np.ndarray:
    """Fixed weights in [1, 2) for an array of ``size`` elements, spread so
    that no two neighbours weigh the same."""
    found = _WEIGHTS.get(size)
    if found is None:
        found = 1.0 + (np.arange(size, dtype=np.float64) * GOLDEN) % 1.0
        if len(_WEIGHTS) < 256:
            _WEIGHTS[size] = found
    return found


def same(mine: np.ndarray, theirs: Any) -> bool:
    """Whether a print the other side sent is ``mine``, up to rounding."""
    if type(theirs) is not np.ndarray or theirs.dtype != np.float64 or theirs.shape != mine.shape:
        return False
    if mine.tobytes() == theirs.tobytes():
        return True  # the common case: the same numbers computed the same way
    # a loop that diverged to nan diverges the same way on both sides
    both_nan = np.isnan(mine) & np.isnan(theirs)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.abs(mine), np.abs(theirs))
        close = (mine == theirs) | (np.abs(mine - theirs) <= RTOL * scale + ATOL)
    return bool(np.all(close | both_nan))
