"""A cheap print of a call's arguments, taken on both sides of a traced run.

The student's process sends, with each call it records, the print of the
arguments it made that call with; the trusted side takes the reply only if
its own arguments at that point print the same (see
``grader.sandbox.trace_replay``). It tells an honest copy of a loop that went
another way (other random draws, an edited learning rate) from the grader's
at the first call where they part. It is not a security boundary: a hostile
process can send any print, and what keeps a trace honest is the check of
calls sampled after the run (``grader.plugin.verified``).

An array prints as its shape (and a float array as its sum of squares),
a number as itself; containers
are walked, anything else (an object of the assignment's classes, a
function) adds nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.sandbox import state

Shape = tuple[int, ...]

MAX_DEPTH = 8
RTOL, ATOL = 1e-6, 1e-12


def take(value: Any) -> tuple[np.ndarray, list[Shape]]:
    """The print of ``value`` (one float64 array: it crosses as one buffer,
    not a list of numbers to encode one by one) and the shapes of its arrays."""
    values: list[float] = []
    shapes: list[Shape] = []
    _walk(value, 0, values, shapes)
    return np.array(values, dtype=np.float64), shapes


def held(owner: Any, given: state.IsGiven) -> list[Shape]:
    """The shapes of the arrays a method's object holds: with the arguments'
    shapes, they bound the reply (``wire.Bound.expecting``)."""
    if owner is None:
        return []
    return [tuple(v.shape) for _, v in state.nodes(owner, given) if type(v) is np.ndarray]


def _walk(value: Any, depth: int, values: list[float], shapes: list[Shape]) -> None:
    if depth > MAX_DEPTH:
        return
    kind = type(value)
    if kind is np.ndarray:
        shape = tuple(value.shape)
        shapes.append(shape)
        values.append(float(len(shape)))
        values.extend(float(n) for n in shape)
        if value.dtype.kind == "f" and value.size:
            flat = value.reshape(-1)
            values.append(float(np.dot(flat, flat)))
        return
    if kind is bool or kind is int or kind is float:
        values.append(float(value))
        return
    if kind in (list, tuple):
        values.append(float(len(value)))
        for item in value:
            _walk(item, depth + 1, values, shapes)
    elif kind is dict:
        values.append(float(len(value)))
        for item in value.values():
            _walk(item, depth + 1, values, shapes)


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
