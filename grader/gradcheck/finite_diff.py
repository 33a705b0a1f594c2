"""Finite differences in float64.

The quantity differentiated is always a scalar ``L = sum(dout * f(x))``
(``dout = 1`` for a scalar f), the cs231n ``eval_numerical_gradient_array``
semantics. Every evaluation works on a fresh copy of ``x`` and copies the
output, so neither a forward that edits its input nor one that returns a view
into it can fool the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.gradcheck.result import Array
from grader.gradcheck.structure import Structure

CBRT_EPS = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)
EPS = float(np.finfo(np.float64).eps)

Forward = Callable[[Array], object]


class Counter:
    """Wraps the function being differentiated and counts its evaluations.

    Callers pass a temporary they own (x + h, never x itself), so the
    function may scribble on it; the output is copied, so a forward that
    returns a view of its input cannot change a result after the fact.
    """

    def __init__(self, f: Forward) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, x: Array) -> Array:
        self.calls += 1
        copied: Array = np.array(self.f(x), dtype=np.float64, copy=True)
        return copied


def scale_of(x: Array) -> float:
    """A typical magnitude of x's entries (1.0 for an all-zero tensor)."""
    rms = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    return rms if rms > 0 and np.isfinite(rms) else 1.0


def steps(x: Array) -> Array:
    """Per-element central-difference steps, about cbrt(eps) times the scale.

    The returned steps are exactly representable: (x + h) - (x - h) == 2h.
    """
    h = CBRT_EPS * np.maximum(np.abs(x), 0.1 * scale_of(x))
    exact: Array = ((x + h) - (x - h)) / 2.0
    return exact


@dataclass(frozen=True)
class Numeric:
    """A numerical gradient with its one-sided twins and a noise estimate.

    ``kinks`` marks elements whose left and right one-sided derivatives
    disagree: a perturbation crossed a non-differentiable point, so any value
    between ``backward`` and ``forward`` is an acceptable subgradient.
    """

    central: Array
    forward: Array
    backward: Array
    noise: Array
    evaluations: int

    @property
    def kinks(self) -> Array:
        gap = np.abs(self.forward - self.backward)
        size = np.maximum(np.abs(self.forward), np.abs(self.backward))
        return np.asarray(gap > 1e-3 * size + 100.0 * self.noise + 1e-300)


def gradient(
    f: Forward,
    x: Array,
    dout: Array | None,
    structure: Structure,
    base: Array | None = None,
) -> Numeric:
    """Numerical dL/dx for L = sum(dout * f(x)), exploiting ``structure``.

    ``base`` is f(x) when the caller already has it (saves one evaluation).
    """
    counted = Counter(f)
    x = np.array(x, dtype=np.float64, copy=True)
    out0 = counted(x.copy()) if base is None else np.array(base, dtype=np.float64)
    weight = np.ones_like(out0) if dout is None else np.asarray(dout, dtype=np.float64)
    if weight.shape != out0.shape:
        raise ValueError(f"dout has shape {weight.shape} but the output has shape {out0.shape}")
    h = steps(x)
    size = x.size
    central = np.zeros(size)
    ahead = np.zeros(size)
    behind = np.zeros(size)
    noise = np.zeros(size)
    flat_x, flat_h = x.ravel(), h.ravel()
    w_out0 = (weight * out0).ravel()
    w_flat = weight.ravel()
    for group in structure.groups(x.shape, out0.shape):
        idx = group.inputs
        plus = flat_x.copy()
        minus = flat_x.copy()
        plus[idx] += flat_h[idx]
        minus[idx] -= flat_h[idx]
        up = (w_flat * counted(plus.reshape(x.shape)).ravel()) - w_out0
        down = w_out0 - (w_flat * counted(minus.reshape(x.shape)).ravel())
        if group.owners is None:
            sums_up = np.array([up.sum()])
            sums_down = np.array([down.sum()])
            magnitude = np.array([np.abs(w_out0).sum()])
        else:
            sums_up = np.bincount(group.owners, up, minlength=size)[idx]
            sums_down = np.bincount(group.owners, down, minlength=size)[idx]
            magnitude = np.bincount(group.owners, np.abs(w_out0), minlength=size)[idx]
        step = flat_h[idx]
        ahead[idx] = sums_up / step
        behind[idx] = sums_down / step
        central[idx] = (sums_up + sums_down) / (2.0 * step)
        noise[idx] = 4.0 * EPS * (magnitude + 1e-300) / step
    shape = x.shape
    return Numeric(
        central.reshape(shape),
        ahead.reshape(shape),
        behind.reshape(shape),
        noise.reshape(shape),
        counted.calls,
    )


@dataclass(frozen=True)
class Directional:
    """d/dt L(x + t u) at t = 0 by central difference, with one-sided twins."""

    central: float
    forward: float
    backward: float
    noise: float
    step: float

    @property
    def kinked(self) -> bool:
        gap = abs(self.forward - self.backward)
        size = max(abs(self.forward), abs(self.backward))
        return gap > 1e-3 * size + 100.0 * self.noise


def directional(
    f: Counter, x: Array, u: Array, dout: Array | None, out0: Array, step: float
) -> Directional:
    """Directional derivative of L along u; ``out0`` is f(x)."""
    base = weighted_loss(out0, dout)
    magnitude = float(np.sum(np.abs(out0 if dout is None else dout * out0)))
    up = weighted_loss(f(x + step * u), dout) - base
    down = base - weighted_loss(f(x - step * u), dout)
    noise = 4.0 * EPS * (magnitude + 1e-300) / step
    return Directional((up + down) / (2 * step), up / step, down / step, noise, step)


def weighted_loss(out: Array, dout: Array | None) -> float:
    """L = sum(dout * out), or sum(out) for a scalar loss."""
    return float(np.sum(out if dout is None else dout * out))
