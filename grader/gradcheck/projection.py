"""Directional screening of large gradient tensors, and localizing the wrong
elements when a screen fails.

A screen compares <g, u> with the finite-difference directional derivative
along random Gaussian directions u. The error is judged against ||g|| and the
measured derivatives, not against sum(u) * sum(v) as torch's fast gradcheck
once did (pytorch issues #59584 and #59615): for a Gaussian u, <g - g*, u> has
standard deviation ||g - g*||, so the screen estimates the normwise relative
error directly and a wrong gradient cannot hide behind a loose scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.gradcheck.finite_diff import CBRT_EPS, Counter, directional, scale_of
from grader.gradcheck.metrics import Tolerance
from grader.gradcheck.result import Array, Element

SHRINK = (1e-2, 1e-4)  # re-measure a disagreeing projection at these smaller steps


@dataclass(frozen=True)
class Projections:
    """k directions and the derivatives measured along them, with the
    interval [low, high] accepted for each (wider only across a kink)."""

    directions: list[Array]
    measured: Array
    low: Array
    high: Array
    noise: Array

    def of(self, g: Array) -> Array:
        """<g, u_i> for every direction."""
        return np.array([float(np.sum(g * u)) for u in self.directions])

    def __add__(self, other: Projections) -> Projections:
        return Projections(
            self.directions + other.directions,
            np.concatenate([self.measured, other.measured]),
            np.concatenate([self.low, other.low]),
            np.concatenate([self.high, other.high]),
            np.concatenate([self.noise, other.noise]),
        )


def project(
    f: Counter,
    x: Array,
    dout: Array | None,
    out0: Array,
    rng: np.random.Generator,
    count: int,
    mask: Array | None = None,
) -> Projections:
    """Measure ``count`` random directional derivatives (optionally only
    over the elements where ``mask`` is True)."""
    step = CBRT_EPS * scale_of(x)
    directions, measured, noise = [], [], []
    for _ in range(count):
        u = rng.standard_normal(x.shape)
        if mask is not None:
            u = np.where(mask, u, 0.0)
        d = directional(f, x, u, dout, out0, step)
        directions.append(u)
        measured.append(d.central)
        noise.append(d.noise)
    values = np.array(measured)
    return Projections(directions, values, values.copy(), values.copy(), np.array(noise))


def errors(p: Projections, got: Array) -> tuple[Array, float]:
    """Per-direction error of <got, u> beyond the accepted interval and the
    noise, and the scale it is judged against."""
    projected = p.of(got)
    error = np.maximum(np.maximum(p.low - projected, projected - p.high), 0.0)
    scale = max(float(np.linalg.norm(got)), float(np.max(np.abs(p.measured))), 1e-300)
    return error - 10.0 * p.noise, scale


def passes(p: Projections, got: Array, tol: Tolerance) -> tuple[bool, float]:
    """Whether every projection agrees; and the normwise error estimate."""
    error, scale = errors(p, got)
    rms_measured = float(np.sqrt(np.mean(np.square(p.measured))))
    raw = np.maximum(error + 10.0 * p.noise, 0.0)  # the estimate reports noise too
    estimate = float(np.sqrt(np.mean(np.square(raw))))
    estimate /= max(rms_measured, 1e-300)
    return bool(np.all(error <= tol.screen * scale)), estimate


def refine(
    f: Counter,
    x: Array,
    got: Array,
    dout: Array | None,
    out0: Array,
    p: Projections,
    tol: Tolerance,
) -> Projections:
    """Re-measure the disagreeing projections with smaller steps.

    A smooth function gives the same central difference at every small step;
    only a kink inside [-t, t] makes it change. So a disagreement that
    vanishes at a smaller step was a kink crossing, not a wrong gradient; and
    if the point sits on a kink, the one-sided values bound what is accepted.
    """
    error, scale = errors(p, got)
    low, high, measured, noise = p.low.copy(), p.high.copy(), p.measured.copy(), p.noise.copy()
    projected = p.of(got)
    base_step = CBRT_EPS * scale_of(x)
    for i in np.flatnonzero(error > tol.screen * scale):
        for shrink in SHRINK:
            d = directional(f, x, p.directions[i], dout, out0, base_step * shrink)
            lo = min(d.forward, d.backward) if d.kinked else d.central
            hi = max(d.forward, d.backward) if d.kinked else d.central
            if abs(d.central - measured[i]) <= tol.screen * scale + 10 * (d.noise + noise[i]):
                break  # the measurement is stable: no kink, the disagreement is real
            measured[i], low[i], high[i], noise[i] = d.central, lo, hi, d.noise
            if lo - 10 * d.noise <= projected[i] <= hi + 10 * d.noise:
                break
    return Projections(p.directions, measured, low, high, noise)


def sample_elements(
    f: Counter,
    x: Array,
    got: Array,
    dout: Array | None,
    out0: Array,
    rng: np.random.Generator,
    count: int,
) -> tuple[NDArray[np.intp], Array, Array]:
    """Check ``count`` random elements one by one: (flat indices, expected, got)."""
    picks = rng.choice(x.size, size=min(count, x.size), replace=False).astype(np.intp)
    expected = np.empty(len(picks))
    for j, flat in enumerate(picks):
        u = np.zeros(x.size)
        u[flat] = 1.0
        expected[j] = _element(f, x, dout, out0, u.reshape(x.shape))
    sampled: Array = got.ravel()[picks]
    return picks, expected, sampled


def bisect(
    f: Counter,
    x: Array,
    got: Array,
    dout: Array | None,
    out0: Array,
    rng: np.random.Generator,
    tol: Tolerance,
    branches: int = 3,
) -> list[Element]:
    """Group testing: split the tensor in halves, keep the halves whose
    projection disagrees, down to single elements. Follows at most
    ``branches`` wrong groups, so it finds isolated wrong elements cheaply."""
    found: list[Element] = []
    groups = [np.arange(x.size)]
    while groups:
        next_groups = []
        for group in groups:
            if len(group) == 1:
                flat = int(group[0])
                u = np.zeros(x.size)
                u[flat] = 1.0
                expected = _element(f, x, dout, out0, u.reshape(x.shape))
                index = tuple(int(i) for i in np.unravel_index(flat, x.shape))
                value = float(got.ravel()[flat])
                rel = abs(value - expected) / max(abs(value) + abs(expected), 1e-300)
                found.append(Element(index, expected, value, rel))
                continue
            for half in np.array_split(group, 2):
                mask = np.zeros(x.size, dtype=bool)
                mask[half] = True
                p = project(f, x, dout, out0, rng, 1, mask.reshape(x.shape))
                ok, _ = passes(p, got * mask.reshape(x.shape), tol)
                if not ok:
                    next_groups.append(half)
        groups = next_groups[:branches]
    return found


def _element(f: Counter, x: Array, dout: Array | None, out0: Array, unit: Array) -> float:
    """One gradient element: a directional derivative along a unit vector,
    with the element's own step."""
    flat = int(np.argmax(unit.ravel()))
    value = float(x.ravel()[flat])
    step = CBRT_EPS * max(abs(value), 0.1 * scale_of(x))
    return directional(f, x, unit, dout, out0, step).central
