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

from grader.compare import Tolerance
from grader.numeric import CBRT_EPS, Counter, Directional, directional, scale_of
from grader.record import Array, Element

KINK_RETRIES = 2


@dataclass(frozen=True)
class Projections:
    """k directions and the derivatives measured along them."""

    directions: list[Array]
    measured: Array
    low: Array
    high: Array
    noise: Array

    def of(self, g: Array) -> Array:
        """<g, u_i> for every direction."""
        return np.array([float(np.sum(g * u)) for u in self.directions])


def measure(
    f: Counter, x: Array, dout: Array | None, out0: Array, u: Array
) -> Directional:
    """Directional derivative along u, retrying with smaller steps when the
    perturbation crosses a kink."""
    step = CBRT_EPS * scale_of(x)
    d = directional(f, x, u, dout, out0, step)
    for _ in range(KINK_RETRIES):
        if not d.kinked:
            break
        step /= 100.0
        d = directional(f, x, u, dout, out0, step)
    return d


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
    directions, measured, low, high, noise = [], [], [], [], []
    for _ in range(count):
        u = rng.standard_normal(x.shape)
        if mask is not None:
            u = np.where(mask, u, 0.0)
        d = measure(f, x, dout, out0, u)
        directions.append(u)
        measured.append(d.central)
        kinked = d.kinked
        low.append(min(d.forward, d.backward) if kinked else d.central)
        high.append(max(d.forward, d.backward) if kinked else d.central)
        noise.append(d.noise)
    return Projections(directions, np.array(measured), np.array(low), np.array(high),
                       np.array(noise))


def errors(p: Projections, got: Array) -> tuple[Array, float]:
    """Per-direction error of <got, u> (distance to the accepted interval) and
    the scale it is judged against."""
    projected = p.of(got)
    error = np.maximum(np.maximum(p.low - projected, projected - p.high), 0.0)
    scale = max(float(np.linalg.norm(got)), float(np.max(np.abs(p.measured))), 1e-300)
    return error - 10.0 * p.noise, scale


def passes(p: Projections, got: Array, tol: Tolerance) -> tuple[bool, float]:
    """Whether every projection agrees; and the normwise error estimate."""
    error, scale = errors(p, got)
    rms_measured = float(np.sqrt(np.mean(np.square(p.measured))))
    estimate = float(np.sqrt(np.mean(np.square(np.maximum(error, 0.0)))))
    estimate /= max(rms_measured, 1e-300)
    return bool(np.all(error <= tol.screen * scale)), estimate


def sample_elements(
    f: Counter,
    x: Array,
    got: Array,
    dout: Array | None,
    out0: Array,
    rng: np.random.Generator,
    count: int,
) -> tuple[Array, Array, Array]:
    """Check ``count`` random elements one by one: (flat indices, expected, got)."""
    picks = rng.choice(x.size, size=min(count, x.size), replace=False)
    expected = np.empty(len(picks))
    for j, flat in enumerate(picks):
        u = np.zeros(x.size)
        u[flat] = 1.0
        expected[j] = measure(f, x, dout, out0, u.reshape(x.shape)).central
    return picks, expected, got.ravel()[picks]


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
                expected = measure(f, x, dout, out0, u.reshape(x.shape)).central
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
