"""Name the most likely mistake behind a wrong gradient.

Each hypothesis rebuilds the student's gradient from the right one (for
example its transpose, or N times it) and accepts only when that explains
the student's numbers almost exactly. What nothing explains is reported as
unrecognised, with the pattern of the errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from grader.gradcheck.codes import Code
from grader.gradcheck.metrics import normwise
from grader.gradcheck.mistakes import FORMULAS, TRANSPOSED, Context, candidates
from grader.gradcheck.result import Array, Diagnosis

EXPLAINS = 1e-4  # normwise error under which a hypothesis explains the data


def explains(got: Array, candidate: Array) -> bool:
    return got.shape == candidate.shape and normwise(got, candidate) <= EXPLAINS


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= 1e-3 * abs(target)


def _factor_words(c: float, batch: int | None) -> tuple[Code, str] | None:
    """(code, phrase) for a known scale factor c = got / expected."""
    named: list[tuple[float, Code, str]] = [
        (-1.0, Code.SIGN_FLIP, "has the wrong sign everywhere: check the order of a subtraction"),
        (2.0, Code.EXTRA_FACTOR_2, "is twice the right value: drop the extra factor 2"),
        (
            0.5,
            Code.MISSING_FACTOR_2,
            "is half the right value: the factor 2 from the square (d/dx x**2 = 2x) is missing",
        ),
    ]
    if batch and batch > 2:
        named += [
            (
                float(batch),
                Code.MISSING_1_OVER_N,
                f"is N = {batch} times too large: divide by the batch size N (missing 1/N)",
            ),
            (
                1.0 / batch,
                Code.EXTRA_1_OVER_N,
                f"is N = {batch} times too small: it is divided by N twice (or averaged "
                "where the loss already averages)",
            ),
            (
                -float(batch),
                Code.SIGN_FLIP_MISSING_1_OVER_N,
                f"has the wrong sign and is N = {batch} times too large",
            ),
            (
                -1.0 / batch,
                Code.SIGN_FLIP_EXTRA_1_OVER_N,
                f"has the wrong sign and is N = {batch} times too small",
            ),
        ]
    for target, code, phrase in named:
        if _near(c, target):
            return code, phrase
    return None


def scale(name: str, got: Array, expected: Array, batch: int | None) -> Diagnosis | None:
    """got = c * expected for one constant c."""
    energy = float(np.sum(expected * expected))
    if got.shape != expected.shape or energy == 0.0:
        return None
    c = float(np.sum(got * expected)) / energy
    if not explains(got, c * expected) or abs(c - 1.0) <= 1e-6:
        return None
    if abs(c) < 1e-12 or not got.any():
        return Diagnosis(Code.ZERO, f"{name} is all zeros; it should not be", name, {"factor": c})
    words = _factor_words(c, batch)
    if words is None:
        return Diagnosis(
            Code.CONSTANT_FACTOR,
            f"{name} is the right gradient times {c:.4g}: look for a wrong constant factor",
            name,
            {"factor": c},
        )
    return Diagnosis(words[0], f"{name} {words[1]}", name, {"factor": c})


def transposed(name: str, got: Array, expected: Array, kind: str | None) -> Diagnosis | None:
    if got.ndim != 2 or got.shape != expected.shape[::-1] or not explains(got.T, expected):
        return None
    if got.shape == expected.shape and explains(got, expected):
        return None
    right = FORMULAS.get(kind or "", {}).get(name)
    wrong = TRANSPOSED.get(kind or "", {}).get(name)
    if right and wrong:
        fix = f"you computed {wrong} instead of {right}"
    else:
        fix = f"return its transpose ({name}.T) or swap the order of the product"
    return Diagnosis(Code.TRANSPOSED, f"{name} has the right values but transposed: {fix}", name)


def reshaped(name: str, got: Array, expected: Array) -> Diagnosis | None:
    """The transposed gradient reshaped to fit (``(dy.T @ x).reshape(w.shape)``):
    the right shape, its elements in the transpose's order."""
    if got.ndim != 2 or got.shape != expected.shape or got.shape[0] == got.shape[1]:
        return None
    if got.shape[0] == 1 or got.shape[1] == 1 or explains(got, expected):
        return None  # a row or a column reads the same either way
    if not explains(got, expected.T.reshape(expected.shape)):
        return None
    return Diagnosis(
        Code.TRANSPOSED,
        f"{name} holds the transposed values reshaped to fit: reshape keeps the elements' "
        "order, so it does not transpose; swap the order of the product (or use .T)",
        name,
    )


def regularization(
    name: str, got: Array, expected: Array, reg: Array | None, batch: int | None = None
) -> Diagnosis | None:
    """Least-squares fit got = a * g_data + b * g_reg; explain a and b."""
    if reg is None or got.shape != expected.shape or not reg.any():
        return None
    data = expected - reg
    basis = np.stack([data.ravel(), reg.ravel()], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, got.ravel(), rcond=None)
    a, b = float(a), float(b)
    if not explains(got, a * data + b * reg) or (_near(a, 1.0) and _near(b, 1.0)):
        return None
    evidence = {"data_coefficient": a, "reg_coefficient": b}
    if not _near(a, 1.0):
        words = _factor_words(a, batch) if _near(b, 1.0) else None
        if words is None:
            return None
        message = f"the data part of {name} {words[1]} (its regularization part is right)"
        return Diagnosis(words[0], message, name, evidence)
    if abs(b) < 1e-6:
        message = f"{name} is missing the regularization gradient: add reg * {name[1:]}"
        return Diagnosis(Code.REG_MISSING, message, name, evidence)
    if _near(b, 2.0):
        message = f"{name} adds the regularization gradient twice: add reg * {name[1:]} once"
        return Diagnosis(Code.REG_DOUBLED, message, name, evidence)
    if _near(b, 0.5):
        message = (
            f"{name} adds 0.5 * reg * {name[1:]}; the derivative of "
            f"0.5 * reg * sum({name[1:]}**2) is reg * {name[1:]}"
        )
        return Diagnosis(Code.REG_HALVED, message, name, evidence)
    message = f"{name} scales the regularization gradient by {b:.3g} instead of 1"
    return Diagnosis(Code.REG_SCALED, message, name, evidence)


def bias_shape(name: str, got: Array, expected: Array, ctx: Context) -> Diagnosis | None:
    """Slips of a bias gradient: keepdims, the wrong axis, not summed."""
    if got.shape == expected.shape:
        return None
    param = name[1:]
    if got.size == expected.size and explains(got.reshape(expected.shape), expected):
        return Diagnosis(
            Code.BIAS_SHAPE,
            f"{name} has the right values but shape {got.shape} instead of {expected.shape}: "
            "reshape it (check keepdims=True)",
            name,
        )
    dout = ctx.dout
    if expected.ndim != 1 or dout is None or dout.ndim != 2:
        return None
    if got.shape == dout.shape and explains(got.sum(axis=0), expected):
        return Diagnosis(
            Code.BIAS_NOT_SUMMED,
            f"{name} was not summed over the batch: use dout.sum(axis=0), one value per "
            f"entry of {param}",
            name,
        )
    if got.size == dout.shape[0] and explains(got.ravel(), dout.sum(axis=1)):
        return Diagnosis(
            Code.BIAS_WRONG_AXIS,
            f"{name} is summed over axis 1 (the features) instead of axis 0 (the batch): "
            "use dout.sum(axis=0)",
            name,
        )
    if got.size == 1 and np.isclose(float(got.ravel()[0]), float(dout.sum())):
        return Diagnosis(
            Code.BIAS_SUMMED_ALL,
            f"{name} is summed over every axis: sum over the batch only, dout.sum(axis=0)",
            name,
        )
    return None


def pattern(name: str, wrong: NDArray[np.bool_], ctx: Context) -> str:
    """Describe where the wrong elements are, for an unrecognised mistake."""
    count, total = int(wrong.sum()), int(wrong.size)
    text = f"{count} of {total} elements of {name} are wrong"
    if wrong.ndim == 2 and 0 < count < total:
        rows = np.flatnonzero(wrong.any(axis=1))
        cols = np.flatnonzero(wrong.any(axis=0))
        if len(rows) < wrong.shape[0] and wrong[rows].all():
            text += f", exactly rows {rows.tolist()}"
        elif len(cols) < wrong.shape[1] and wrong[:, cols].all():
            text += f", exactly columns {cols.tolist()}"
    for label, tensor in _same_shape(wrong, ctx):
        for sign, mask in (("< 0", tensor < 0), ("> 0", tensor > 0)):
            if 0 < count < total and np.array_equal(mask, wrong):
                text += f", exactly where {label} {sign}"
                return text
    return text


def _same_shape(wrong: NDArray[np.bool_], ctx: Context) -> Iterator[tuple[str, Array]]:
    for label, tensor in ctx.inputs.items():
        if tensor.shape == wrong.shape:
            yield label, tensor
    if ctx.dout is not None and ctx.dout.shape == wrong.shape:
        yield "dout", ctx.dout


def diagnose(
    name: str,
    param: str,
    got: Array,
    expected: Array,
    ctx: Context,
    wrong: NDArray[np.bool_] | None,
) -> Diagnosis:
    """The most likely mistake for one wrong gradient tensor."""
    for candidate in candidates(ctx):
        if candidate.grad == name and explains(got, candidate.value):
            return Diagnosis(candidate.code, candidate.message, name)
    found = (
        transposed(name, got, expected, ctx.kind)
        or reshaped(name, got, expected)
        or bias_shape(name, got, expected, ctx)
        or regularization(name, got, expected, ctx.reg.get(param), ctx.batch)
        or scale(name, got, expected, ctx.batch)
    )
    if found is not None:
        return found
    if got.shape != expected.shape:
        return Diagnosis(
            Code.WRONG_SHAPE,
            f"{name} has shape {got.shape} but {param} has shape {expected.shape}; a gradient "
            "always has the shape of what it differentiates",
            name,
        )
    text = pattern(name, wrong if wrong is not None else np.ones(got.shape, bool), ctx)
    return Diagnosis(
        Code.UNRECOGNISED,
        f"{name} is wrong in a way we do not recognise: {text}",
        name,
        {"normwise_rel": normwise(got, expected)},
    )
