"""Probes on a backward function beyond its values: does it modify what it
was given, is it linear in dout, does it give the same answer twice?"""

from __future__ import annotations

import copy
import hashlib
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


def fingerprint(obj: Any) -> dict[str, str]:
    """A checksum per reachable array (shape, dtype and bytes)."""
    prints = {}
    for path, array in arrays_in(obj):
        digest = hashlib.blake2b(digest_size=16)
        digest.update(repr((array.shape, array.dtype.str)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
        prints[path] = digest.hexdigest()
    return prints


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Paths whose arrays differ between two fingerprints."""
    return [path for path, value in before.items() if after.get(path) != value]


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
