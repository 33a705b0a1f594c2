"""The training loss of the student's network against the reference's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.report import coerce, fmt
from grader.report.charts.colors import OKABE_ITO
from grader.report.charts.geometry import (
    Box,
    Scale,
    Tick,
    decade_label,
    linear_label,
    linear_range,
    log_range,
)

Values = NDArray[np.float64]

WIDTH, HEIGHT = 480.0, 300.0
PLOT = Box(60.0, 36.0, 400.0, 214.0)
MAX_POINTS = 800  # longer curves keep each bucket's minimum and maximum


@dataclass(frozen=True)
class Series:
    key: str  # "student" or "reference": a fixed CSS class
    name: str
    color: str
    dash: str  # SVG stroke-dasharray, "" for a solid line
    lines: list[str]  # polyline point lists, one per run of defined values
    dots: list[tuple[float, float]]  # isolated defined values
    gap_x: float | None  # where the values stop being finite after the first finite one
    legend_x: float  # the legend sits in one row above the plot


@dataclass(frozen=True)
class LossCurve:
    id: str
    width: float
    height: float
    title: str
    desc: str
    plot: Box
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_label: str
    y_label: str
    log_y: bool
    series: list[Series]
    note: str  # shown under the chart: the curve has missing or non-finite values


def values(value: object) -> Values:
    """A list of numbers as floats, NaN for missing or non-finite entries."""
    out = [coerce.number(v) for v in coerce.items(value)]
    return np.array([math.nan if v is None else v for v in out], dtype=np.float64)


def loss_curve(data: Mapping[str, Any], *, chart_id: str) -> LossCurve | None:
    """The chart, or None when neither curve has a single finite value."""
    student, reference = values(data.get("student")), values(data.get("reference"))
    every = coerce.integer(data.get("every"))
    every = every if every is not None and every > 0 else 1
    # the reference may be recorded more sparsely than the student's curve
    reference_every = coerce.integer(data.get("reference_every"))
    reference_every = (
        reference_every if reference_every is not None and reference_every > 0 else every
    )
    label = coerce.line(data.get("label"), 80)  # the name of the run, e.g. "moons, 3 tanh units"
    label = "" if label.lower() == "loss" else label
    finite = np.concatenate([student[np.isfinite(student)], reference[np.isfinite(reference)]])
    if finite.size == 0:
        return None
    last = max((len(student) - 1) * every, (len(reference) - 1) * reference_every, 1)
    x0, x1, xs = linear_range(0.0, float(last), target=5)
    xscale = Scale(x0, x1, PLOT.x, PLOT.right)
    x_ticks = [Tick(xscale(v), linear_label(v, xs[1] - xs[0])) for v in xs]

    lo, hi = float(finite.min()), float(finite.max())
    log_y = lo > 0 and hi / lo > 100
    if log_y:
        e0, e1, exps = log_range(lo, hi)
        yscale = Scale(e0, e1, PLOT.bottom, PLOT.y, log=True)
        y_ticks = [Tick(yscale(10.0**e), decade_label(e)) for e in exps]
    else:
        y0, y1, ys = linear_range(lo, hi, target=5)
        yscale = Scale(y0, y1, PLOT.bottom, PLOT.y)
        step = ys[1] - ys[0] if len(ys) > 1 else 1.0
        y_ticks = [Tick(yscale(v), linear_label(v, step)) for v in ys]

    series: list[Series] = []
    styles = [
        ("student", "your network", OKABE_ITO[0], ""),
        ("reference", "reference", OKABE_ITO[5], "7 5"),
    ]
    runs = ((student, every), (reference, reference_every))
    for (key, name, color, dash), (ys_, spacing) in zip(styles, runs, strict=True):
        if np.isfinite(ys_).any():
            lines, dots = _polylines(ys_, spacing, xscale, yscale)
            gap = _first_gap(ys_)
            gap_x = None if gap is None else xscale(gap * spacing)
            legend_x = PLOT.x + 150 * len(series)
            series.append(Series(key, name, color, dash, lines, dots, gap_x, legend_x))
    return LossCurve(
        id=chart_id,
        width=WIDTH,
        height=HEIGHT,
        title="Training loss of your network and the reference" + (f" ({label})" if label else ""),
        desc=_describe(student, reference, every, reference_every)
        + (" Log scale." if log_y else "")
        + (f" Run: {label}." if label else ""),
        plot=PLOT,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        x_label="iteration",
        y_label="loss" + (" (log scale)" if log_y else ""),
        log_y=log_y,
        series=series,
        note=_gap_note(student, every),
    )


def decimate(ys: Values, limit: int = MAX_POINTS) -> tuple[NDArray[np.int64], Values]:
    """Indices and values to draw: every point, or the min and max of each bucket.

    A bucket with missing values also keeps its first missing one, so the line
    breaks there as it would at full resolution.
    """
    n = len(ys)
    if n <= limit:
        return np.arange(n), ys
    size = math.ceil(n / (limit // 3))
    keep: set[int] = set()
    for start in range(0, n, size):
        chunk = ys[start : start + size]
        ok = np.isfinite(chunk)
        if not ok.all():
            keep.add(start + int(np.argmin(ok)))
        if ok.any():
            idx = np.flatnonzero(ok)
            keep.add(start + int(idx[np.argmin(chunk[ok])]))
            keep.add(start + int(idx[np.argmax(chunk[ok])]))
    index = np.array(sorted(keep), dtype=np.int64)
    return index, ys[index]


def _polylines(
    ys: Values, every: int, xscale: Scale, yscale: Scale
) -> tuple[list[str], list[tuple[float, float]]]:
    index, shown = decimate(ys)
    lines, dots = [], []
    run: list[tuple[float, float]] = []
    for i, y in [*zip(index.tolist(), shown.tolist(), strict=True), (-1, math.nan)]:
        if math.isfinite(y) and (not yscale.log or y > 0):
            run.append((xscale(i * every), yscale(y)))
            continue
        if len(run) == 1:
            dots.append(run[0])
        elif run:
            lines.append(" ".join(f"{x:.1f},{v:.1f}" for x, v in run))
        run = []
    return lines, dots


def _first_gap(ys: Values) -> int | None:
    """The index of the first missing or non-finite value after the first finite one."""
    ok = np.isfinite(ys)
    if not ok.any():
        return None
    start = int(np.argmax(ok))
    bad = np.flatnonzero(~ok[start:])
    return start + int(bad[0]) if bad.size else None


def _gap_note(ys: Values, every: int) -> str:
    gap = _first_gap(ys)
    if gap is None:
        return ""
    bad = int((~np.isfinite(ys[gap:])).sum())
    return (
        f"Your network's loss is missing or not finite from iteration {gap * every:,} on "
        f"({bad:,} of {len(ys):,} values): the dotted line marks where."
    )


def _describe(student: Values, reference: Values, every: int, reference_every: int) -> str:
    parts: list[str] = []
    runs = (("your network's", student, every), ("the reference's", reference, reference_every))
    for who, ys, every in runs:
        ok = np.flatnonzero(np.isfinite(ys))
        if ok.size == 0:
            continue
        first, last = float(ys[ok[0]]), float(ys[ok[-1]])
        span = f"over {fmt.count(int(ok[-1] - ok[0]) * every, 'iteration')}"
        if parts:
            parts.append(f"{who} ends at {fmt.num(last)}")
        elif last < first:
            parts.append(f"{who} loss falls from {fmt.num(first)} to {fmt.num(last)} {span}")
        elif last > first:
            parts.append(f"{who} loss rises from {fmt.num(first)} to {fmt.num(last)} {span}")
        else:
            parts.append(f"{who} loss stays at {fmt.num(last)} {span}")
        bad = np.flatnonzero(~np.isfinite(ys[ok[0] :]))
        if bad.size:
            at = (int(ok[0]) + int(bad[0])) * every
            parts.append(
                f"{fmt.count(int(bad.size), 'value')} of {who} curve missing or not finite, "
                f"the first at iteration {at:,}"
            )
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."
