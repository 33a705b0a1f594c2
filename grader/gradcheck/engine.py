"""The engine behind every check: call the student's backward, probe it,
compare each gradient with finite differences, and name the mistake."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.gradcheck import probes as hygiene
from grader.gradcheck import projection as screen
from grader.gradcheck.alternatives import explain
from grader.gradcheck.codes import Code
from grader.gradcheck.diagnose import diagnose, explains, regularization, scale
from grader.gradcheck.finite_diff import Counter, gradient
from grader.gradcheck.metrics import Tolerance, compare, metrics, normwise, worst
from grader.gradcheck.problem import Budget, Problem, dtype_of
from grader.gradcheck.result import (
    Array,
    CheckResult,
    Diagnosis,
    Element,
    Metrics,
    Probe,
    Status,
    TensorCheck,
)
from grader.gradcheck.structure import DENSE, Structure
from grader.gradcheck.taylor import taylor_test
from grader.gradcheck.tracebacks import ProcessEnded, describe
from grader.gradcheck.validate import Returned, validate

# generic diagnoses that say little about where a function went wrong: a
# known wrong version of the function (a mutant of the reference) may say more
WEAK = {
    Code.UNRECOGNISED,
    Code.WRONG_SHAPE,
    Code.WRONG_RETURN,
    Code.CONSTANT_FACTOR,
    Code.ZERO,
    Code.DOUT_IGNORED,
    Code.NOT_LINEAR_IN_DOUT,
    Code.NONDETERMINISTIC,
    Code.INVALID,
}

# a failed hygiene probe, by the probe's name
PROBE_CODES = {
    "inputs_unchanged": Code.MODIFIED_INPUT,
    "uses_dout": Code.DOUT_IGNORED,
    "linear_in_dout": Code.NOT_LINEAR_IN_DOUT,
    "deterministic": Code.NONDETERMINISTIC,
}


def run(
    problem: Problem, rng: np.random.Generator, tol: Tolerance | None, budget: Budget
) -> CheckResult:
    start = time.perf_counter()
    first_args = hygiene.fresh(problem.args)
    try:
        raw = problem.call(first_args)
    except NotImplementedError as exc:
        detail = str(exc).strip()
        message = f"{problem.function} is not attempted yet" + (f" ({detail})" if detail else "")
        diagnosis = Diagnosis(Code.NOT_ATTEMPTED, message)
        return _result(problem, Status.NOT_ATTEMPTED, diagnosis, (), (), start)
    except Exception as exc:  # student code may raise anything
        text = describe(exc, problem.backward, problem.function, root=problem.source)
        named = _explained(problem, exc, None)
        if named is not None and named.code is not Code.CASCADE:
            named = replace(named, message=f"{named.message} ({text})")
        diagnosis = named or Diagnosis(Code.EXCEPTION, text)
        return _result(problem, Status.ERROR, diagnosis, (), (), start)
    if raw is None:
        message = f"{problem.function} returned None: it is not attempted yet"
        return _result(
            problem, Status.NOT_ATTEMPTED, Diagnosis(Code.NOT_ATTEMPTED, message), (), (), start
        )

    probes = [_mutation_probe(problem, first_args)]
    parts = problem.unpack(raw)
    if isinstance(parts, str):
        named = _explained(problem, raw, None) or Diagnosis(Code.WRONG_RETURN, parts)
        return _result(problem, Status.FAILED, named, (), tuple(probes), start)
    if isinstance(raw, Mapping):
        _by_key(problem, raw)
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
    if status is Status.FAILED:
        named = _explained(problem, raw, named) or named
    return _result(problem, status, named, tuple(tensors), tuple(probes), start, evaluations)


def _by_key(problem: Problem, raw: Mapping[Any, object]) -> None:
    """A dict of gradients keyed like the handout's parameters ("W1", not
    "dW1"): each gradient is called by its key, quoted, in every message."""
    keyed = [
        grad if grad in raw else f'"{param}"'
        for grad, param in zip(problem.grads, problem.values, strict=True)
    ]
    problem.grads = keyed
    problem.context = replace(problem.context, grads=tuple(keyed))


def _explained(problem: Problem, raw: object, named: Diagnosis | None) -> Diagnosis | None:
    """A failed check named by the explainer, if the check has one: another
    task's function that makes it fail, else (when the generic diagnosis says
    little) a known wrong version of this function."""
    if problem.explainer is None:
        return None
    weak = named is None or named.code in WEAK
    try:
        found = explain(
            problem.explainer,
            lambda: hygiene.fresh(problem.args),
            raw,
            _namer(problem, raw),
            mutants=weak,
        )
    except Exception:  # the explainer must never turn a result into a crash
        return None
    # "it ignores dout" says more than "a factor is left out"; a forward value
    # handed down in its place says why, and wins
    vaguer = named is not None and named.code is Code.DOUT_IGNORED
    if vaguer and found is not None and found.code is Code.DROPPED_FACTOR:
        return None
    return found


def _namer(problem: Problem, raw: object) -> Callable[[str], str]:
    """The student-facing name of a returned value, from its path in ``raw``:
    the check's gradient names by position, the returned dict's own keys."""

    def name(path: str) -> str:
        if isinstance(raw, Mapping):
            key = path[1:].split("]", 1)[0].strip("'\"")
            return f'"{key}"'
        index = path[1:].split("]", 1)[0] if path.startswith("[") else ""
        if index.isdigit() and int(index) < len(problem.grads) and path.count("[") == 1:
            return problem.grads[int(index)]
        if not path and len(problem.grads) == 1:
            return problem.grads[0]
        return f"the returned value {path}" if path else "the returned value"

    return name


def _mutation_probe(problem: Problem, used: tuple[Any, ...]) -> Probe:
    """Did the backward modify dout, the cache or its inputs in place?"""
    modified = hygiene.changed(problem.args, used)
    if not modified:
        return Probe("inputs_unchanged", True)
    paths = [_path_label(problem, path) for path in modified]
    where = ""
    try:
        problem.call(hygiene.frozen(problem.args))
    except ProcessEnded:
        raise
    except Exception as exc:  # the read-only rerun points at the writing line
        frame_text = describe(exc, problem.backward, problem.function, root=problem.source)
        if "(at " in frame_text:
            where = " " + frame_text[frame_text.index("(at ") :]
    message = (
        f"{problem.function} modified {', '.join(paths)} in place{where}; work on a copy "
        "(for example x = x.copy()) so the values it was given stay intact"
    )
    return Probe("inputs_unchanged", False, message)


def _path_label(problem: Problem, path: str) -> str:
    index = int(path[1 : path.index("]")])
    return problem.labels[index] + path[path.index("]") + 1 :]


def _repeat_probes(problem: Problem, first: list[Returned]) -> list[Probe]:
    """Call again: same answer twice; linear in dout (2*dout, zero dout)."""
    usable = [(r.name, r.value) for r in first if r.value is not None and r.problem is None]
    if not usable:
        return []

    def again(args: tuple[Any, ...]) -> dict[str, Array] | None:
        try:
            parts = problem.unpack(problem.call(args))
        except ProcessEnded:
            raise  # the student's process is gone: that is the verdict, not this probe
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
    problem: Problem,
    grad: str,
    param: str,
    item: Returned,
    rng: np.random.Generator,
    tol: Tolerance | None,
    budget: Budget,
) -> tuple[TensorCheck, int]:
    x = problem.values[param]
    shape = tuple(x.shape)
    tolerance = tol or Tolerance.for_dtype(dtype_of(problem.like[param]))
    if item.problem is Code.NOT_ATTEMPTED:
        diagnosis = Diagnosis(Code.NOT_ATTEMPTED, item.message, grad)
        return TensorCheck(grad, param, shape, Status.NOT_ATTEMPTED, "none", diagnosis=diagnosis), 0
    if item.value is None:
        diagnosis = Diagnosis(item.problem or Code.INVALID, item.message, grad)
        return TensorCheck(grad, param, shape, Status.FAILED, "none", diagnosis=diagnosis), 0
    f = Counter(lambda value: problem.evaluate(param, value))
    got = item.value
    structure = problem.structures.get(param)
    if item.problem is Code.WRONG_SHAPE:
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
    problem: Problem,
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
    problem: Problem,
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
    problem: Problem,
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
    problem: Problem,
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
        Code.UNRECOGNISED,
        f"{grad} is wrong in a way we do not recognise: about {fraction:.0%} of sampled "
        f"elements are wrong (normwise error {normwise(projected, measured):.2g})",
        grad,
    )


def _check_shape(
    problem: Problem,
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
            Code.TRANSPOSED if is_transposed else Code.WRONG_SHAPE,
            f"{grad} has shape {got.shape} but {param} has shape {x.shape}"
            + ("; its values are the right gradient transposed" if is_transposed else ""),
            grad,
        )
    tensor = TensorCheck(grad, param, tuple(x.shape), Status.FAILED, "shape", diagnosis=diagnosis)
    return tensor, f.calls


def _verdict(
    problem: Problem, tensors: list[TensorCheck], probes: list[Probe]
) -> tuple[Status, Diagnosis | None]:
    """Overall status, and the one diagnosis that explains it best."""
    attempted = [t for t in tensors if t.status is not Status.NOT_ATTEMPTED]
    if not attempted:
        missing = ", ".join(t.name for t in tensors)
        return Status.NOT_ATTEMPTED, Diagnosis(
            Code.NOT_ATTEMPTED, f"{problem.function} returned no gradients yet ({missing} are None)"
        )
    for probe in probes:
        if not probe.passed:
            code = PROBE_CODES[probe.name]
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
    problem: Problem,
    status: Status,
    diagnosis: Diagnosis | None,
    tensors: tuple[TensorCheck, ...],
    probes: tuple[Probe, ...],
    start: float,
    evaluations: int = 1,
) -> CheckResult:
    if diagnosis is not None:
        message = diagnosis.message
        named = diagnosis.tensor  # a gradient's name, or its dict key quoted ('"W"')
        others = [
            t.name
            for t in tensors
            if t.status is Status.FAILED and named not in (t.name, f'"{t.param}"')
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
