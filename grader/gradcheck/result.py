"""The structured result of one gradient check.

Everything a user sees (terminal text, HTML report, results JSON) is rendered
from these records, so they hold numbers and short sentences, never
pre-formatted output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.gradcheck.codes import Code

Array = NDArray[np.float64]


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "error"


@dataclass(frozen=True)
class Element:
    """One element of a gradient: where it is, what it should be, what it was."""

    index: tuple[int, ...]
    expected: float
    got: float
    rel_error: float


@dataclass(frozen=True)
class Taylor:
    """Taylor test along one direction d: r(h) = |f(x+hd) - f(x) - h<g,d>|.

    A right gradient makes r shrink like h**2 (order 2), a wrong one like h
    (order 1). ``verdict`` is "consistent", "inconsistent", "exact" (f is
    linear along d and g matches) or "unclear".
    """

    steps: tuple[float, ...]
    remainders: tuple[float, ...]
    order: float
    verdict: str


@dataclass(frozen=True)
class Metrics:
    """Error metrics of one gradient tensor against the numerical gradient.

    With ``method == "projection"`` the elementwise metrics cover only the
    sampled elements (``checked`` of ``size``) and ``normwise_rel`` is the
    estimate from random projections.
    """

    max_rel_error: float
    max_abs_error: float
    normwise_rel: float
    fraction_wrong: float
    checked: int
    size: int


@dataclass(frozen=True)
class Diagnosis:
    """The most likely mistake, in one sentence, with the numbers behind it.
    ``code`` is one of ``Code`` (a plain string naming one is converted)."""

    code: Code
    message: str
    tensor: str | None = None
    evidence: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", Code(self.code))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, as inside ``CheckResult.to_dict()``."""
        out: dict[str, Any] = _jsonable(self, False)
        return out


@dataclass(frozen=True)
class Probe:
    """A hygiene probe on the backward function (mutation, linearity, ...)."""

    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class TensorCheck:
    """The check of one returned gradient, e.g. ``dw`` against ``w``."""

    name: str
    param: str
    shape: tuple[int, ...]
    status: Status
    method: str
    metrics: Metrics | None = None
    worst: tuple[Element, ...] = ()
    kinks: int = 0
    taylor: Taylor | None = None
    diagnosis: Diagnosis | None = None
    error_map: Array | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one backward function."""

    name: str
    status: Status
    message: str
    tensors: tuple[TensorCheck, ...] = ()
    probes: tuple[Probe, ...] = ()
    diagnosis: Diagnosis | None = None
    evaluations: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def tensor(self, name: str) -> TensorCheck:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(f"no gradient named {name!r} in this check; have {self.names()}")

    def names(self) -> list[str]:
        return [t.name for t in self.tensors]

    def to_dict(self, *, error_maps: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (non-finite floats become None)."""
        out: dict[str, Any] = _jsonable(self, error_maps)
        return out


def _jsonable(value: Any, error_maps: bool) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        if not error_maps:
            return None
        plain = value.tolist()
        finite = value.dtype.kind != "f" or bool(np.isfinite(value).all())
        return plain if finite else _jsonable(plain, error_maps)
    if isinstance(value, tuple | list):
        return [_jsonable(v, error_maps) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, error_maps) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        out = {}
        for name in value.__dataclass_fields__:
            if name == "error_map" and not error_maps:
                continue
            out[name] = _jsonable(getattr(value, name), error_maps)
        return out
    return value
