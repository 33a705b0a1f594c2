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

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grader import hygiene, screen
from grader.compare import Tolerance, compare, metrics, normwise, worst
from grader.diagnose import diagnose, explains, regularization, scale
from grader.errors import describe
from grader.mistakes import Context
from grader.numeric import Counter, gradient
from grader.record import (
    Array,
    CheckResult,
    Diagnosis,
    Element,
    Metrics,
    Probe,
    Status,
    TensorCheck,
)
from grader.structure import DENSE, ELEMENTWISE, ROWS, Blocks, Structure
from grader.taylor import taylor_test
from grader.validate import Returned, unpack, validate


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


KIND_STRUCTURES: dict[str, dict[str, Structure]] = {
    "linear": {"x": ROWS, "w": Blocks(1, 1), "b": Blocks(0, 1)},
    "relu": {"x": ELEMENTWISE},
    "leaky_relu": {"x": ELEMENTWISE},
    "sigmoid": {"x": ELEMENTWISE},
    "tanh": {"x": ELEMENTWISE},
}


@dataclass
class _Problem:
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
                    return f"{self.function} returned no {grad!r} (keys: {sorted(map(str, raw))})"
            return picked
        return unpack(raw, self.grads, self.function)


class _Shared:
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


def _as_float(value: ArrayLike) -> Array:
    return np.array(value, dtype=np.float64, copy=True)


def _dtype_of(like: Array) -> np.dtype[Any]:
    return like.dtype if like.dtype.kind == "f" else np.dtype(np.float64)


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
        dout_array = rng.standard_normal(out_array.shape).astype(_dtype_of(out_array))
    else:
        dout_array = np.array(dout, copy=True)
    values = {k: _as_float(v) for k, v in originals.items()}
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
    return _run(problem, rng, tolerance, budget or Budget())


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
) -> CheckResult:
    """Check ``backward(cache)`` against finite differences of the scalar
    loss ``forward(*inputs.values(), **constants)``, which returns (loss, cache)."""
    constants = dict(constants or {})
    originals = {k: np.array(v, copy=True) for k, v in inputs.items()}
    rng = _rng(seed)
    _, cache = forward(*[v.copy() for v in originals.values()], **constants)
    values = {k: _as_float(v) for k, v in originals.items()}
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
    return _run(problem, rng, tolerance, budget or Budget())


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
) -> CheckResult:
    """Check ``gradient_of(params)`` (a dict or tuple of gradients, one per
    parameter) against finite differences of the scalar ``loss(params)``.

    ``reg`` gives the regularization part of each parameter's gradient (for
    example ``{"W1": reg * W1}``) so a missing or doubled one can be named;
    ``batch`` is N, for naming a missing or doubled 1/N.
    """
    originals = {k: np.array(v, copy=True) for k, v in params.items()}
    values = {k: _as_float(v) for k, v in originals.items()}
    rng = _rng(seed)
    shared = _Shared(values)

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
    return _run(problem, rng, tolerance, budget or Budget())


def _evaluator(
    forward: Callable[..., tuple[Any, Any]], values: dict[str, Array], constants: dict[str, Any]
) -> Callable[[str, Array], Array]:
    """The trusted output of ``forward`` with one input replaced."""
    shared = _Shared(values)

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
) -> _Problem:
    """The problem every front door hands to the engine."""
    values = {k: _as_float(v) for k, v in originals.items()}
    first = next(iter(values))
    names = list(grads or [f"d{k}" for k in values])
    out0 = evaluate(first, values[first].copy())
    reg = {k: _as_float(v) for k, v in (context.pop("reg", None) or {}).items()}
    return _Problem(
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


# --- the engine -------------------------------------------------------------


def _run(
    problem: _Problem, rng: np.random.Generator, tol: Tolerance | None, budget: Budget
) -> CheckResult:
    start = time.perf_counter()
    first_args = hygiene.fresh(problem.args)
    try:
        raw = problem.call(first_args)
    except NotImplementedError as exc:
        detail = str(exc).strip()
        message = f"{problem.function} is not attempted yet" + (f" ({detail})" if detail else "")
        diagnosis = Diagnosis("not_attempted", message)
        return _result(problem, Status.NOT_ATTEMPTED, diagnosis, (), (), start)
    except Exception as exc:  # student code may raise anything
        text = describe(exc, problem.backward, problem.function, root=problem.source)
        diagnosis = Diagnosis("exception", text)
        return _result(problem, Status.ERROR, diagnosis, (), (), start)
    if raw is None:
        message = f"{problem.function} returned None: it is not attempted yet"
        return _result(
            problem, Status.NOT_ATTEMPTED, Diagnosis("not_attempted", message), (), (), start
        )

    probes = [_mutation_probe(problem, first_args)]
    parts = problem.unpack(raw)
    if isinstance(parts, str):
        return _result(
            problem, Status.FAILED, Diagnosis("wrong_return", parts), (), tuple(probes), start
        )
    returned = [
        validate(grad, part, problem.like[param], param)
        for grad, part, param in zip(problem.grads, parts, problem.values, strict=True)
    ]
    probes += _repeat_probes(problem, returned)

    evaluations = 1
    tensors = []
    for grad, param, item in zip(problem.grads, problem.values, returned, strict=True):
        tensor, spent = _check_tensor(problem, grad, param, item, rng, tol, budget)
        tensors.append(tensor)
        evaluations += spent

    status, named = _verdict(problem, tensors, probes)
    return _result(problem, status, named, tuple(tensors), tuple(probes), start, evaluations)


def _mutation_probe(problem: _Problem, used: tuple[Any, ...]) -> Probe:
    """Did the backward modify dout, the cache or its inputs in place?"""
    modified = hygiene.changed(problem.args, used)
    if not modified:
        return Probe("inputs_unchanged", True)
    paths = [_path_label(problem, path) for path in modified]
    where = ""
    try:
        problem.call(hygiene.frozen(problem.args))
    except Exception as exc:  # the read-only rerun points at the writing line
        frame_text = describe(exc, problem.backward, problem.function, root=problem.source)
        if "(at " in frame_text:
            where = " " + frame_text[frame_text.index("(at ") :]
    message = (
        f"{problem.function} modified {', '.join(paths)} in place{where}; work on a copy "
        "(for example x = x.copy()) so the values it was given stay intact"
    )
    return Probe("inputs_unchanged", False, message)


def _path_label(problem: _Problem, path: str) -> str:
    index = int(path[1 : path.index("]")])
    return problem.labels[index] + path[path.index("]") + 1 :]


def _repeat_probes(problem: _Problem, first: list[Returned]) -> list[Probe]:
    """Call again: same answer twice; linear in dout (2*dout, zero dout)."""
    usable = [(r.name, r.value) for r in first if r.value is not None and r.problem is None]
    if not usable:
        return []

    def again(args: tuple[Any, ...]) -> dict[str, Array] | None:
        try:
            parts = problem.unpack(problem.call(args))
        except Exception:
            return None
        if isinstance(parts, str):
            return None
        values = {}
        for grad, part in zip(problem.grads, parts, strict=True):
            if type(part) is np.ndarray and part.dtype.kind == "f":
                values[grad] = np.array(part, dtype=np.float64)
        return values

    probes = []
    repeat = again(hygiene.fresh(problem.args))
    same = repeat is not None and all(
        name in repeat and np.array_equal(repeat[name], value, equal_nan=True)
        for name, value in usable
    )
    probes.append(
        Probe(
            "deterministic",
            same,
            ""
            if same
            else f"{problem.function} returned different gradients on a second call "
            "with the same inputs; avoid randomness and leftover state",
        )
    )
    if "dout" not in problem.labels:
        return probes
    doubled_args = hygiene.fresh(problem.args)
    doubled_args = (doubled_args[0] * 2, *doubled_args[1:])
    doubled = again(doubled_args)
    ignored = (
        doubled is not None
        and all(
            name in doubled and np.allclose(doubled[name], value, rtol=1e-9, atol=0)
            for name, value in usable
        )
        and any(np.any(value) for _, value in usable)
    )
    linear = doubled is not None and all(
        name in doubled and np.allclose(doubled[name], 2 * value, rtol=1e-6, atol=1e-12)
        for name, value in usable
    )
    if ignored:
        probes.append(
            Probe(
                "uses_dout",
                False,
                f"{problem.function} gives the same gradients for 2 * dout as for dout: it ignores "
                "the upstream gradient; multiply the local derivative by dout (chain rule)",
            )
        )
    else:
        probes.append(
            Probe(
                "linear_in_dout",
                linear,
                ""
                if linear
                else f"{problem.function} is not linear in dout (2 * dout does not "
                "give twice the gradient); use dout only through products and sums",
            )
        )
    return probes


def _check_tensor(
    problem: _Problem,
    grad: str,
    param: str,
    item: Returned,
    rng: np.random.Generator,
    tol: Tolerance | None,
    budget: Budget,
) -> tuple[TensorCheck, int]:
    x = problem.values[param]
    shape = tuple(x.shape)
    tolerance = tol or Tolerance.for_dtype(_dtype_of(problem.like[param]))
    if item.problem == "not_attempted":
        diagnosis = Diagnosis("not_attempted", item.message, grad)
        return TensorCheck(grad, param, shape, Status.NOT_ATTEMPTED, "none", diagnosis=diagnosis), 0
    if item.value is None:
        diagnosis = Diagnosis(item.problem or "invalid", item.message, grad)
        return TensorCheck(grad, param, shape, Status.FAILED, "none", diagnosis=diagnosis), 0
    f = Counter(lambda value: problem.evaluate(param, value))
    got = item.value
    structure = problem.structures.get(param)
    if item.problem == "shape":
        return _check_shape(problem, grad, param, got, f, structure, rng, tolerance, budget)
    if structure is not None or x.size <= budget.dense_max:
        tensor = _check_exact(problem, grad, param, got, f, structure or DENSE, tolerance)
    else:
        tensor = _check_projected(problem, grad, param, got, f, rng, tolerance, budget)
    if budget.taylor:
        taylor = taylor_test(f, x, got, problem.dout, problem.out0, rng)
        if tensor.kinks:
            taylor = replace(taylor, verdict="unclear")
        tensor = replace(tensor, taylor=taylor)
    return tensor, f.calls


def _check_exact(
    problem: _Problem,
    grad: str,
    param: str,
    got: Array,
    f: Counter,
    structure: Structure,
    tol: Tolerance,
    method: str | None = None,
) -> TensorCheck:
    """Every element checked: grouped by ``structure`` or one by one."""
    x = problem.values[param]
    numeric = gradient(f, x, problem.dout, structure, base=problem.out0)
    kinks = numeric.kinks
    gap = 1e-3 * np.abs(numeric.forward - numeric.backward)  # the kink may sit just off x
    low = np.where(kinks, np.minimum(numeric.forward, numeric.backward) - gap, numeric.central)
    high = np.where(kinks, np.maximum(numeric.forward, numeric.backward) + gap, numeric.central)
    c = compare(got, numeric.central, tol, numeric.noise, low, high)
    status = Status.PASSED if c.passed else Status.FAILED
    diagnosis = None
    if not c.passed:
        diagnosis = diagnose(grad, param, got, numeric.central, problem.context, c.wrong)
    return TensorCheck(
        grad,
        param,
        tuple(x.shape),
        status,
        method or structure.label,
        metrics=metrics(c),
        worst=worst(c),
        kinks=int(kinks.sum()),
        diagnosis=diagnosis,
        error_map=c.rel_error,
    )


def _check_projected(
    problem: _Problem,
    grad: str,
    param: str,
    got: Array,
    f: Counter,
    rng: np.random.Generator,
    tol: Tolerance,
    budget: Budget,
) -> TensorCheck:
    """Screen with random projections; dig deeper only when it fails."""
    x = problem.values[param]
    p = screen.project(f, x, problem.dout, problem.out0, rng, budget.probes)
    ok, estimate = screen.passes(p, got, tol)
    if not ok:
        p = screen.refine(f, x, got, problem.dout, problem.out0, p, tol)
        ok, estimate = screen.passes(p, got, tol)
    if ok:
        m = Metrics(float("nan"), float("nan"), estimate, 0.0, 0, int(x.size))
        return TensorCheck(grad, param, tuple(x.shape), Status.PASSED, "projection", metrics=m)
    if x.size <= budget.full_on_failure:
        return _check_exact(problem, grad, param, got, f, DENSE, tol, "projection, then dense")
    return _localize(problem, grad, param, got, f, p, rng, tol, budget)


def _localize(
    problem: _Problem,
    grad: str,
    param: str,
    got: Array,
    f: Counter,
    first: screen.Projections,
    rng: np.random.Generator,
    tol: Tolerance,
    budget: Budget,
) -> TensorCheck:
    """A failed screen of a large tensor: sample elements, bisect for
    isolated wrong ones, and diagnose from projections."""
    x = problem.values[param]
    p = first + screen.project(f, x, problem.dout, problem.out0, rng, budget.diagnostic_probes)
    _, estimate = screen.passes(p, got, tol)
    picks, expected, sampled = screen.sample_elements(
        f, x, got, problem.dout, problem.out0, rng, budget.sample
    )
    c = compare(sampled, expected, tol)
    index_of = np.stack(np.unravel_index(picks, x.shape), axis=1).astype(np.intp)
    elements: list[Element] = list(worst(c, index_of=index_of))
    if c.wrong.mean() < 0.5:
        elements = screen.bisect(f, x, got, problem.dout, problem.out0, rng, tol) + elements
    m = Metrics(
        max_rel_error=float(c.rel_error.max()),
        max_abs_error=float(np.abs(c.got - c.expected).max()),
        normwise_rel=estimate,
        fraction_wrong=float(c.wrong.mean()),
        checked=int(c.expected.size),
        size=int(x.size),
    )
    diagnosis = _diagnose_projected(problem, grad, param, got, p, c.wrong)
    return TensorCheck(
        grad,
        param,
        tuple(x.shape),
        Status.FAILED,
        "projection, then sampled",
        metrics=m,
        worst=tuple(elements[:5]),
        diagnosis=diagnosis,
    )


def _diagnose_projected(
    problem: _Problem,
    grad: str,
    param: str,
    got: Array,
    p: screen.Projections,
    sampled_wrong: NDArray[np.bool_],
) -> Diagnosis:
    """The generic hypotheses, tested on projections <g, u_i> instead of
    whole tensors (the same algebra works on the projected vectors)."""
    measured = p.measured
    projected = p.of(got)
    reg = problem.context.reg.get(param)
    found = regularization(
        grad, projected, measured, p.of(reg) if reg is not None else None, problem.context.batch
    ) or scale(grad, projected, measured, problem.context.batch)
    if found is not None:
        return found
    fraction = float(sampled_wrong.mean()) if sampled_wrong.size else 1.0
    return Diagnosis(
        "unrecognised",
        f"{grad} is wrong in a way we do not recognise: about {fraction:.0%} of sampled "
        f"elements are wrong (normwise error {normwise(projected, measured):.2g})",
        grad,
    )


def _check_shape(
    problem: _Problem,
    grad: str,
    param: str,
    got: Array,
    f: Counter,
    structure: Structure | None,
    rng: np.random.Generator,
    tol: Tolerance,
    budget: Budget,
) -> tuple[TensorCheck, int]:
    """A gradient of the wrong shape: fail, but say why from its values."""
    x = problem.values[param]
    if structure is not None or x.size <= budget.full_on_failure:
        numeric = gradient(f, x, problem.dout, structure or DENSE, base=problem.out0)
        diagnosis = diagnose(grad, param, got, numeric.central, problem.context, None)
    else:
        p = screen.project(f, x, problem.dout, problem.out0, rng, budget.probes)
        is_transposed = got.shape == x.shape[::-1] and explains(p.of(got.T), p.measured)
        diagnosis = Diagnosis(
            "transposed" if is_transposed else "wrong_shape",
            f"{grad} has shape {got.shape} but {param} has shape {x.shape}"
            + ("; its values are the right gradient transposed" if is_transposed else ""),
            grad,
        )
    tensor = TensorCheck(grad, param, tuple(x.shape), Status.FAILED, "shape", diagnosis=diagnosis)
    return tensor, f.calls


def _verdict(
    problem: _Problem, tensors: list[TensorCheck], probes: list[Probe]
) -> tuple[Status, Diagnosis | None]:
    """Overall status, and the one diagnosis that explains it best."""
    attempted = [t for t in tensors if t.status is not Status.NOT_ATTEMPTED]
    if not attempted:
        missing = ", ".join(t.name for t in tensors)
        return Status.NOT_ATTEMPTED, Diagnosis(
            "not_attempted", f"{problem.function} returned no gradients yet ({missing} are None)"
        )
    for probe in probes:
        if not probe.passed:
            code = {
                "inputs_unchanged": "modified_input",
                "uses_dout": "dout_ignored",
                "deterministic": "nondeterministic",
            }.get(probe.name, probe.name)
            return Status.FAILED, Diagnosis(code, probe.message)
    for t in tensors:
        if t.status is not Status.PASSED:
            return Status.FAILED, t.diagnosis
    return Status.PASSED, None


def _largest_error(m: Metrics) -> float:
    """The elementwise max relative error, or the projection estimate."""
    elementwise = m.max_rel_error if np.isfinite(m.max_rel_error) else 0.0
    return max(elementwise, m.normwise_rel)


def _result(
    problem: _Problem,
    status: Status,
    diagnosis: Diagnosis | None,
    tensors: tuple[TensorCheck, ...],
    probes: tuple[Probe, ...],
    start: float,
    evaluations: int = 1,
) -> CheckResult:
    if diagnosis is not None:
        message = diagnosis.message
        others = [
            t.name for t in tensors if t.status is Status.FAILED and t.name != diagnosis.tensor
        ]
        if others and diagnosis.tensor is not None:
            message += f"; {', '.join(others)} {'is' if len(others) == 1 else 'are'} also wrong"
    else:
        worst_error = max(
            (_largest_error(t.metrics) for t in tensors if t.metrics is not None), default=0.0
        )
        message = (
            f"{problem.function}: all gradients are right (largest relative error "
            f"{worst_error:.1e})"
        )
    return CheckResult(
        name=problem.function,
        status=status,
        message=message,
        tensors=tensors,
        probes=probes,
        diagnosis=diagnosis,
        evaluations=evaluations,
        seconds=time.perf_counter() - start,
    )
