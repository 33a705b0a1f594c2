"""Tolerances and error metrics: is a student's gradient close enough?

An element is wrong when ``|got - expected| > atol * scale + rtol * |expected|
+ 10 * noise``, where ``scale`` is the largest expected magnitude of the
tensor (so entries that should be ~0 are judged against the tensor, not
against themselves) and ``noise`` is the finite-difference round-off estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.gradcheck.result import Array, Element, Metrics


@dataclass(frozen=True)
class Tolerance:
    """How close a gradient must be.

    ``rtol``/``atol`` judge single elements; ``screen`` is the largest
    normwise relative error a random projection may show.
    """

    rtol: float = 1e-5
    atol: float = 1e-7
    screen: float = 1e-5

    @classmethod
    def for_dtype(cls, dtype: np.dtype[np.generic] | type) -> Tolerance:
        """The default tolerance for gradients computed in ``dtype``."""
        if np.dtype(dtype) == np.float64:
            return cls()
        return cls(rtol=2e-3, atol=2e-4, screen=2e-3)


@dataclass(frozen=True)
class Comparison:
    """Elementwise comparison of a gradient with its expected values."""

    expected: Array
    got: Array
    allowed: Array
    wrong: NDArray[np.bool_]
    rel_error: Array

    @property
    def passed(self) -> bool:
        return not bool(self.wrong.any())


def rel_error(got: Array, expected: Array, floor: float) -> Array:
    """cs231n's relative error |a - b| / max(|a| + |b|, floor), elementwise."""
    return np.asarray(np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), floor))


def compare(
    got: Array,
    expected: Array,
    tol: Tolerance,
    noise: Array | None = None,
    low: Array | None = None,
    high: Array | None = None,
) -> Comparison:
    """Compare elementwise. Where ``low``/``high`` are given (kinks), any
    value between them counts as the expected value."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if low is not None and high is not None:
        expected = np.clip(got, low, high)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    floor = max(tol.atol * scale, 1e-300)
    allowed = tol.atol * scale + tol.rtol * np.abs(expected)
    if noise is not None:
        allowed = allowed + 10.0 * noise
    wrong = np.asarray(np.abs(got - expected) > allowed)
    return Comparison(expected, got, allowed, wrong, rel_error(got, expected, floor))


def normwise(got: Array, expected: Array) -> float:
    """||got - expected|| / ||expected|| (1.0 against an all-zero expectation)."""
    denominator = float(np.linalg.norm(expected))
    difference = float(np.linalg.norm(np.asarray(got, dtype=np.float64) - expected))
    if denominator == 0.0:
        return 0.0 if difference == 0.0 else 1.0
    return difference / denominator


def metrics(c: Comparison, size: int | None = None) -> Metrics:
    """Summary numbers of a comparison."""
    n = int(c.expected.size)
    return Metrics(
        max_rel_error=float(c.rel_error.max()) if n else 0.0,
        max_abs_error=float(np.abs(c.got - c.expected).max()) if n else 0.0,
        normwise_rel=normwise(c.got, c.expected),
        fraction_wrong=float(c.wrong.mean()) if n else 0.0,
        checked=n,
        size=n if size is None else size,
    )


def worst(
    c: Comparison, count: int = 5, index_of: NDArray[np.intp] | None = None
) -> tuple[Element, ...]:
    """The elements furthest outside their tolerance, worst first.

    ``index_of`` maps positions of a sampled comparison back to full-tensor
    multi-indices (rows of indices); without it, positions are the indices.
    """
    badness = np.abs(c.got - c.expected) / np.maximum(c.allowed, 1e-300)
    order = np.argsort(-badness.ravel(), kind="stable")[:count]
    elements = []
    for flat in order:
        if not c.wrong.ravel()[flat]:
            break
        if index_of is None:
            index = tuple(int(i) for i in np.unravel_index(flat, c.expected.shape))
        else:
            index = tuple(int(i) for i in index_of[flat])
        elements.append(
            Element(
                index=index,
                expected=float(c.expected.ravel()[flat]),
                got=float(c.got.ravel()[flat]),
                rel_error=float(c.rel_error.ravel()[flat]),
            )
        )
    return tuple(elements)
