"""Probes on a backward function beyond its values: does it modify what it
was given, is it linear in dout, does it give the same answer twice?"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

MAX_DEPTH = 4


def arrays_in(obj: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, np.ndarray]]:
    """Every ndarray reachable from ``obj`` through tuples, lists, dicts and
    plain objects' attributes, with a readable path like ``cache[0]``."""
    if depth > MAX_DEPTH:
        return
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif isinstance(obj, tuple | list):
        for i, item in enumerate(obj):
            yield from arrays_in(item, f"{path}[{i}]", depth + 1)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from arrays_in(item, f"{path}[{key!r}]", depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        for key, item in vars(obj).items():
            yield from arrays_in(item, f"{path}.{key}", depth + 1)


def changed(pristine: Any, used: Any) -> list[str]:
    """Paths of the arrays in ``used`` that differ from their twins in
    ``pristine`` (a deep copy taken before the call): shape, dtype or any
    value, NaNs included. Stricter than a checksum and as cheap."""
    before = dict(arrays_in(pristine))
    after = dict(arrays_in(used))
    modified = []
    for path, old in before.items():
        new = after.get(path)
        if (
            new is None
            or new.shape != old.shape
            or new.dtype != old.dtype
            or not np.array_equal(new, old, equal_nan=old.dtype.kind in "fc")
        ):
            modified.append(path)
    return modified


def fresh(obj: Any) -> Any:
    """A deep copy, so each backward call sees pristine inputs."""
    return copy.deepcopy(obj)


def frozen(obj: Any) -> Any:
    """A deep copy whose arrays are read-only: writing to one raises at the
    student's line, which pinpoints an in-place modification."""
    clone = copy.deepcopy(obj)
    for _, array in arrays_in(clone):
        array.flags.writeable = False
    return clone
