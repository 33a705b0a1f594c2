"""Validate what a backward function returned, as data, before any comparison.

Only a plain ``numpy.ndarray`` of a real floating dtype is accepted: an
ndarray subclass or an object whose ``__eq__`` is always True must not pass,
so nothing a student returns is asked to compare itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.gradcheck.codes import Code
from grader.gradcheck.result import Array


@dataclass(frozen=True)
class Returned:
    """One returned gradient after validation.

    ``problem`` is None for a usable array; otherwise a code (not_attempted,
    type, dtype, shape, non_finite) with a one-line ``message``. ``value`` is
    set for usable arrays and for shape problems (so a transposed gradient can
    still be diagnosed from its values).
    """

    name: str
    value: Array | None
    problem: Code | None = None
    message: str = ""


class Opaque:
    """Stands for a value that could not be brought into this process as data
    (an object of the student's process); ``type_name`` names its type."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<unsupported value of type {self.type_name}>"


def _type_name(value: object) -> str:
    if isinstance(value, Opaque):
        return value.type_name
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def unpack(returned: object, names: Sequence[str], function: str) -> list[object] | str:
    """Split a backward's return value into one object per gradient name.

    Returns an error sentence when the count is wrong.
    """
    if len(names) == 1 and not isinstance(returned, tuple | list):
        return [returned]
    if not isinstance(returned, tuple | list):
        return (
            f"{function} returned a {_type_name(returned)}; it must return "
            f"{len(names)} gradients ({', '.join(names)}) as a tuple"
        )
    if len(returned) != len(names):
        return (
            f"{function} returned {len(returned)} values; it must return {len(names)} "
            f"({', '.join(names)})"
        )
    return list(returned)


def validate(name: str, value: object, like: Array, param: str) -> Returned:
    """Check one gradient against the parameter it belongs to."""
    if value is None:
        return Returned(name, None, Code.NOT_ATTEMPTED, f"{name} was not computed (got None)")
    if type(value) in (float, np.float64, np.float32, np.float16):
        value = np.asarray(value)  # a plain scalar is data; judge its shape below
    if type(value) is not np.ndarray:
        if isinstance(value, np.ndarray):
            return Returned(
                name,
                None,
                Code.TYPE,
                f"{name} is a {_type_name(value)} (an ndarray subclass); return a plain numpy "
                "array, e.g. np.asarray(...)",
            )
        return Returned(
            name,
            None,
            Code.TYPE,
            f"{name} is a {_type_name(value)}, not a numpy array; return an np.ndarray of "
            f"shape {like.shape}",
        )
    if value.dtype.kind != "f":
        return Returned(
            name,
            None,
            Code.DTYPE,
            f"{name} has dtype {value.dtype}; it must be a floating array like {param} "
            f"({like.dtype})",
        )
    if value.shape != like.shape:
        return Returned(
            name,
            np.array(value, dtype=np.float64),
            Code.WRONG_SHAPE,
            f"{name} has shape {value.shape} but {param} has shape {like.shape}",
        )
    if value.dtype != like.dtype:
        return Returned(
            name,
            None,
            Code.DTYPE,
            f"{name} has dtype {value.dtype} but {param} is {like.dtype}; keep the dtype of "
            f"the inputs (avoid mixing in {value.dtype} arrays)",
        )
    finite = np.isfinite(value)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        kinds = "NaN" if np.isnan(value).any() else "infinite"
        return Returned(
            name,
            None,
            Code.NON_FINITE,
            f"{name} has {len(bad)} {kinds} value(s), first at {list(first)}; look for a "
            "division by zero, log(0) or an overflowing exp",
        )
    return Returned(name, np.array(value, dtype=np.float64))
