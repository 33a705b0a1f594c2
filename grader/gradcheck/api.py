"""Check a backward function against finite differences of its forward.

Three front doors share one engine:

* ``check_layer``: the cs231n contract, ``out, cache = forward(*inputs)`` and
  ``grads = backward(dout, cache)``;
* ``check_loss``: ``loss, cache = forward(*inputs)`` and
  ``grads = backward(cache)``;
* ``check_function``: a scalar ``loss(params)`` and ``gradient(params)``
  returning one gradient per parameter (a whole network).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.gradcheck.alternatives import Explainer
from grader.gradcheck.engine import run
from grader.gradcheck.metrics import Tolerance
from grader.gradcheck.mistakes import Context
from grader.gradcheck.problem import Budget, Problem, Shared, as_float, dtype_of
from grader.gradcheck.result import Array, CheckResult
from grader.gradcheck.structure import ELEMENTWISE, ROWS, Blocks, Structure

__all__ = ["KIND_STRUCTURES", "Budget", "check_function", "check_layer", "check_loss"]


KIND_STRUCTURES: dict[str, dict[str, Structure]] = {
    "linear": {"x": ROWS, "w": Blocks(1, 1), "b": Blocks(0, 1)},
    "relu": {"x": ELEMENTWISE},
    "leaky_relu": {"x": ELEMENTWISE},
    "sigmoid": {"x": ELEMENTWISE},
    "tanh": {"x": ELEMENTWISE},
}


def check_layer(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[..., object],
    inputs: Mapping[str, ArrayLike],
    *,
    constants: Mapping[str, Any] | None = None,
    grads: Sequence[str] | None = None,
    dout: ArrayLike | None = None,
    kind: str | None = None,
    structure: Mapping[str, Structure] | None = None,
    reg: Mapping[str, ArrayLike] | None = None,
    name: str | None = None,
    seed: int = 0,
    tolerance: Tolerance | None = None,
    budget: Budget | None = None,
    source: Path | None = None,
    explainer: Explainer | None = None,
) -> CheckResult:
    """Check ``backward(dout, cache)`` against finite differences of
    ``forward(*inputs.values(), **constants)``, which returns (out, cache).

    ``inputs`` are the differentiated arrays, in the forward's argument
    order; the gradients are named ``d<input>`` unless ``grads`` says
    otherwise. ``kind`` (linear, relu, leaky_relu, sigmoid, tanh, ...) turns on
    cheap exact structures and mistake names for that layer.
    """
    constants = dict(constants or {})
    originals = {k: np.array(v, copy=True) for k, v in inputs.items()}
    rng = _rng(seed)
    out, cache = forward(*[v.copy() for v in originals.values()], **constants)
    out_array = np.asarray(out)
    if dout is None:
        dout_array = rng.standard_normal(out_array.shape).astype(dtype_of(out_array))
    else:
        dout_array = np.array(dout, copy=True)
    values = {k: as_float(v) for k, v in originals.items()}
    problem = _build(
        name or str(getattr(backward, "__name__", "backward")),
        backward,
        (dout_array, cache),
        ("dout", "cache"),
        _evaluator(forward, values, constants),
        originals,
        grads,
        dout_array.astype(np.float64),
        {"kind": kind, "constants": constants, "reg": reg, "batch": _batch_of(values)},
        {**KIND_STRUCTURES.get(kind or "", {}), **dict(structure or {})},
    )
    problem.source = source
    problem.explainer = explainer
    return run(problem, rng, tolerance, budget or Budget())


def check_loss(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[..., object],
    inputs: Mapping[str, ArrayLike],
    *,
    constants: Mapping[str, Any] | None = None,
    grads: Sequence[str] | None = None,
    kind: str | None = None,
    reg: Mapping[str, ArrayLike] | None = None,
    name: str | None = None,
    seed: int = 0,
    tolerance: Tolerance | None = None,
    budget: Budget | None = None,
    source: Path | None = None,
    explainer: Explainer | None = None,
) -> CheckResult:
    """Check ``backward(cache)`` against finite differences of the scalar
    loss ``forward(*inputs.values(), **constants)``, which returns (loss, cache)."""
    constants = dict(constants or {})
    originals = {k: np.array(v, copy=True) for k, v in inputs.items()}
    rng = _rng(seed)
    _, cache = forward(*[v.copy() for v in originals.values()], **constants)
    values = {k: as_float(v) for k, v in originals.items()}
    problem = _build(
        name or str(getattr(backward, "__name__", "backward")),
        backward,
        (cache,),
        ("cache",),
        _evaluator(forward, values, constants),
        originals,
        grads,
        None,
        {"kind": kind, "constants": constants, "reg": reg, "batch": _batch_of(values)},
        {},
    )
    problem.source = source
    problem.explainer = explainer
    return run(problem, rng, tolerance, budget or Budget())


def check_function(
    loss: Callable[[dict[str, Array]], float],
    gradient_of: Callable[[dict[str, Array]], object],
    params: Mapping[str, ArrayLike],
    *,
    grads: Sequence[str] | None = None,
    reg: Mapping[str, ArrayLike] | None = None,
    batch: int | None = None,
    structure: Mapping[str, Structure] | None = None,
    name: str | None = None,
    seed: int = 0,
    tolerance: Tolerance | None = None,
    budget: Budget | None = None,
    source: Path | None = None,
    explainer: Explainer | None = None,
) -> CheckResult:
    """Check ``gradient_of(params)`` (a dict or tuple of gradients, one per
    parameter) against finite differences of the scalar ``loss(params)``.

    ``reg`` gives the regularization part of each parameter's gradient (for
    example ``{"W1": reg * W1}``) so a missing or doubled one can be named;
    ``batch`` is N, for naming a missing or doubled 1/N.
    """
    originals = {k: np.array(v, copy=True) for k, v in params.items()}
    values = {k: as_float(v) for k, v in originals.items()}
    rng = _rng(seed)
    shared = Shared(values)

    def evaluate(param: str, value: Array) -> Array:
        return np.asarray(shared.call(loss, param, value), dtype=np.float64)

    problem = _build(
        name or str(getattr(gradient_of, "__name__", "gradient")),
        gradient_of,
        (dict(originals),),
        ("params",),
        evaluate,
        originals,
        grads,
        None,
        {"reg": reg, "batch": batch},
        dict(structure or {}),
    )
    problem.source = source
    problem.explainer = explainer
    return run(problem, rng, tolerance, budget or Budget())


def _evaluator(
    forward: Callable[..., tuple[Any, Any]], values: dict[str, Array], constants: dict[str, Any]
) -> Callable[[str, Array], Array]:
    """The trusted output of ``forward`` with one input replaced."""
    shared = Shared(values)

    def evaluate(param: str, value: Array) -> Array:
        out = shared.call(lambda args: forward(*args.values(), **constants)[0], param, value)
        return np.asarray(out, dtype=np.float64)

    return evaluate


def _build(
    function: str,
    backward: Callable[..., object],
    args: tuple[Any, ...],
    labels: tuple[str, ...],
    evaluate: Callable[[str, Array], Array],
    originals: dict[str, Array],
    grads: Sequence[str] | None,
    dout: Array | None,
    context: dict[str, Any],
    structures: dict[str, Structure],
) -> Problem:
    """The problem every front door hands to the engine."""
    values = {k: as_float(v) for k, v in originals.items()}
    first = next(iter(values))
    names = list(grads or [f"d{k}" for k in values])
    out0 = evaluate(first, values[first].copy())
    reg = {k: as_float(v) for k, v in (context.pop("reg", None) or {}).items()}
    return Problem(
        function=function,
        backward=backward,
        args=args,
        labels=labels,
        evaluate=evaluate,
        values=values,
        like=originals,
        grads=names,
        out0=out0,
        dout=dout,
        context=Context(
            function=function,
            inputs=values,
            dout=dout,
            output=out0 if dout is not None else None,
            reg=reg,
            grads=tuple(names),
            **context,
        ),
        structures=structures,
    )


def _rng(seed: int) -> np.random.Generator:
    """The checker's own stream: distinct from ``default_rng(seed)``, which
    callers often use for their inputs (dout must not equal x)."""
    return np.random.default_rng([seed, 0x6AD1E7])


def _batch_of(values: Mapping[str, Array]) -> int | None:
    first = next(iter(values.values()), None)
    return int(first.shape[0]) if first is not None and first.ndim >= 1 else None
