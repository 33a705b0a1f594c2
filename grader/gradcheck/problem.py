"""What one gradient check is about, independent of the front door that
asked for it: the functions, the values, the student's callable and the
budget of finite-difference work."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.gradcheck.alternatives import Explainer
from grader.gradcheck.mistakes import Context
from grader.gradcheck.result import Array
from grader.gradcheck.structure import Structure
from grader.gradcheck.validate import unpack


@dataclass(frozen=True)
class Budget:
    """How much finite-difference work a check may spend.

    A tensor with a declared structure is always checked exactly. Otherwise a
    tensor of at most ``dense_max`` elements is checked element by element;
    a larger one is screened with ``probes`` random projections and, only if
    the screen fails, re-checked element by element (up to
    ``full_on_failure`` elements) or localized by sampling and group testing.
    """

    dense_max: int = 8
    probes: int = 2
    diagnostic_probes: int = 6
    full_on_failure: int = 4096
    sample: int = 16
    taylor: bool = True


@dataclass
class Problem:
    """Everything the engine needs, independent of the front door."""

    function: str
    backward: Callable[..., object]
    args: tuple[Any, ...]
    labels: tuple[str, ...]
    evaluate: Callable[[str, Array], Array]
    values: dict[str, Array]
    like: dict[str, Array]
    grads: list[str]
    out0: Array
    dout: Array | None
    context: Context
    structures: dict[str, Structure] = field(default_factory=dict)
    calls: int = 0
    source: Path | None = None
    explainer: Explainer | None = None

    def call(self, args: tuple[Any, ...]) -> object:
        self.calls += 1
        return self.backward(*args)

    def unpack(self, raw: object) -> list[object] | str:
        if isinstance(raw, Mapping):
            picked = []
            for grad, param in zip(self.grads, self.values, strict=True):
                if grad in raw:
                    picked.append(raw[grad])
                elif param in raw:
                    picked.append(raw[param])
                else:
                    key = grad if grad != f"d{param}" else param  # a key the test asked for
                    return (
                        f"{self.function} returned no key {key!r} (it returned keys "
                        f"{sorted(map(str, raw))})"
                    )
            return picked
        return unpack(raw, self.grads, self.function)


class Shared:
    """The unperturbed inputs, shared read-only by every evaluation instead
    of copied each time. A forward that writes into its inputs gets private
    copies from then on."""

    def __init__(self, values: dict[str, Array]) -> None:
        self.views = {}
        for key, value in values.items():
            view = value.view()
            view.flags.writeable = False
            self.views[key] = view
        self.copying = False

    def with_(self, param: str, value: Array) -> dict[str, Array]:
        if self.copying:
            return {k: (value if k == param else v.copy()) for k, v in self.views.items()}
        return {k: (value if k == param else v) for k, v in self.views.items()}

    def call(self, fn: Callable[[dict[str, Array]], Any], param: str, value: Array) -> Any:
        if not self.copying:
            value.flags.writeable = False  # numpy refuses before writing anything
            try:
                return fn(self.with_(param, value))
            except ValueError as exc:
                if "read-only" not in str(exc):
                    raise
                self.copying = True
        return fn(self.with_(param, value.copy()))


def as_float(value: ArrayLike) -> Array:
    return np.array(value, dtype=np.float64, copy=True)


def dtype_of(like: Array) -> np.dtype[Any]:
    return like.dtype if like.dtype.kind == "f" else np.dtype(np.float64)
