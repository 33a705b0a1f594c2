"""Shared geometry of the charts: boxes, scales and ticks."""

from __future__ import annotations

import math
from dataclasses import dataclass

from grader.report import fmt

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Box:
    """A rectangle in SVG user units (y grows downwards)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True)
class Tick:
    pos: float  # SVG coordinate along the axis
    label: str


@dataclass(frozen=True)
class Scale:
    """An affine map from data [lo, hi] (in log10 when ``log``) to SVG [start, end]."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        span = self.hi - self.lo
        t = (v - self.lo) / span if span else 0.5
        return self.start + t * (self.end - self.start)


def nice_step(span: float, target: int) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten giving about ``target`` intervals."""
    raw = span / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * power >= raw * 0.999:
            return m * power
    return 10 * power


def linear_range(lo: float, hi: float, target: int = 5) -> tuple[float, float, list[float]]:
    """A domain widened to round numbers and its tick values."""
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, target)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    n = round((stop - start) / step)
    return start, stop, [start + i * step for i in range(n + 1)]


def log_range(lo: float, hi: float, max_ticks: int = 7) -> tuple[int, int, list[int]]:
    """Decades [floor(log lo), ceil(log hi)] (at least one wide) and the tick exponents."""
    e0 = math.floor(math.log10(lo) + 1e-9)
    e1 = max(math.ceil(math.log10(hi) - 1e-9), e0 + 1)
    step = max(1, math.ceil((e1 - e0) / (max_ticks - 1)))
    return e0, e1, list(range(e0, e1 + 1, step))


def linear_label(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs."""
    if abs(value) < step * 1e-6:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return fmt.num(value, 3)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10**decimals % 1 > 1e-6:  # 2.5 steps need one more
        decimals += 1
    return f"{value:.{decimals}f}"


def decade_label(exponent: int) -> str:
    """10⁻³, 0.01, 0.1, 1, 10, 100, 10³."""
    if -2 <= exponent <= 2:
        return fmt.num(10.0**exponent)
    return "10" + str(exponent).translate(SUPERSCRIPT)
