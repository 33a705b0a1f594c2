"""The decision regions of a 2-D classifier with the training points on top."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.report import coerce, fmt
from grader.report.charts import colors
from grader.report.charts.geometry import Box, Scale, Tick, linear_label, linear_range

Classes = NDArray[np.int64]
Point = tuple[float, float, int]

MAX_GRID = 120  # cells per side; finer grids are sampled
MAX_POINTS = 1500  # more points are thinned evenly
MAX_CLASSES = 32
SHAPES = ("circle", "square", "triangle", "diamond", "triangle down", "plus", "star", "cross")
_WIDTH, _LEFT, _TOP, _RIGHT = 480.0, 52.0, 14.0, 16.0
_R = 4.2  # marker radius
_LEGEND_STEP = 92.0
REGION_TINT = 0.28  # regions are light tints of the class colours


@dataclass(frozen=True)
class Region:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Marker:
    path: str  # SVG path data
    fill: str


@dataclass(frozen=True)
class LegendItem:
    marker: Marker
    x: float  # where the label text starts
    y: float
    label: str


@dataclass(frozen=True)
class Boundary:
    id: str
    width: float
    height: float
    title: str
    desc: str
    note: str
    plot: Box
    regions: list[Region]
    markers: list[Marker]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[LegendItem]


def class_grid(value: object) -> Classes | None:
    """Rows of class numbers as an int array, -1 where a cell holds no class.

    Ragged rows are padded with -1; no rows at all gives None.
    """
    rows = [coerce.items(r) for r in coerce.items(value)]
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return None
    grid = np.full((len(rows), width), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            k = coerce.integer(v)
            if k is not None and 0 <= k < MAX_CLASSES:
                grid[i, j] = k
    return grid


def marker_path(shape: int, x: float, y: float, r: float = _R) -> str:
    """SVG path data of marker ``SHAPES[shape]`` (cycling) centred at (x, y)."""
    kind = SHAPES[shape % len(SHAPES)]
    if kind == "circle":
        return (
            f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0"
            f"a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0Z"
        )
    if kind == "square":
        s = r * 0.85
        return _polygon([(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)])
    if kind in ("triangle", "triangle down"):
        d, s = (1.0 if kind == "triangle" else -1.0), r * 1.2
        return _polygon([(x, y - d * s), (x + s, y + d * s * 0.8), (x - s, y + d * s * 0.8)])
    if kind == "diamond":
        s = r * 1.25
        return _polygon([(x, y - s), (x + s, y), (x, y + s), (x - s, y)])
    if kind == "star":
        radii = [r * 1.35 if k % 2 == 0 else r * 0.55 for k in range(10)]
        return _polygon(
            [
                (x + q * math.sin(k * math.pi / 5), y - q * math.cos(k * math.pi / 5))
                for k, q in enumerate(radii)
            ]
        )
    a, b = r * 1.15, r * 0.4  # a plus; the cross is the plus turned by 45 degrees
    plus = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b)]
    plus += [(b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]
    c, s = (math.sqrt(0.5), math.sqrt(0.5)) if kind == "cross" else (1.0, 0.0)
    return _polygon([(x + px * c - py * s, y + px * s + py * c) for px, py in plus])


def _polygon(points: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z"


def decision_boundary(data: Mapping[str, Any], *, chart_id: str) -> Boundary | None:
    """The chart, or None without a usable grid and ranges."""
    grid = class_grid(data.get("grid"))
    bounds = [coerce.number(data.get(k)) for k in ("x_min", "x_max", "y_min", "y_max")]
    if grid is None:
        return None
    x_min, x_max, y_min, y_max = (b if b is not None else math.nan for b in bounds)
    if not (x_max > x_min and y_max > y_min):  # also False for NaN
        return None
    ratio = min(max((y_max - y_min) / (x_max - x_min), 0.5), 1.2)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot = Box(_LEFT, _TOP, plot_w, plot_w * ratio)
    xscale = Scale(x_min, x_max, plot.x, plot.right)
    yscale = Scale(y_min, y_max, plot.bottom, plot.y)

    shown = grid[np.ix_(_sample(grid.shape[0]), _sample(grid.shape[1]))]
    points, total = _points(data.get("points"))
    inside = [(x, y, c) for x, y, c in points if x_min <= x <= x_max and y_min <= y <= y_max]
    drawn = _thin(inside)
    n_classes = _count_classes(data.get("classes"), grid, points)

    per_row = int(plot.w // _LEGEND_STEP)
    legend = []
    for c in range(n_classes):
        x = plot.x + _LEGEND_STEP * (c % per_row)
        y = plot.bottom + 56 + 18 * (c // per_row)
        legend.append(
            LegendItem(
                Marker(marker_path(c, x + 6, y - 4), colors.category(c)), x + 16, y, f"class {c}"
            )
        )
    _, _, xs = linear_range(x_min, x_max, target=6)
    _, _, ys = linear_range(y_min, y_max, target=5)

    notes = []
    if shown.shape != grid.shape:
        notes.append(
            f"The {grid.shape[0]}×{grid.shape[1]} prediction grid is drawn sampled to "
            f"{shown.shape[0]}×{shown.shape[1]}."
        )
    if total > len(inside):
        notes.append(
            f"{fmt.count(total - len(inside), 'point')} outside the plotted range or "
            "malformed are not drawn."
        )
    if len(drawn) < len(inside):
        notes.append(f"{len(drawn):,} of {len(inside):,} points are drawn, evenly spaced.")
    note = " ".join(notes)
    desc = _describe(grid, inside, n_classes, (x_min, x_max, y_min, y_max))
    return Boundary(
        id=chart_id,
        width=_WIDTH,
        height=plot.bottom + 66 + 18 * ((n_classes - 1) // per_row),
        title="Decision regions of your network, with the training points",
        desc=desc + (f" {note}" if note else ""),
        note=note,
        plot=plot,
        regions=_regions(shown, plot),
        markers=[
            Marker(marker_path(c, xscale(x), yscale(y)), colors.category(c)) for x, y, c in drawn
        ],
        x_ticks=[
            Tick(xscale(v), linear_label(v, xs[1] - xs[0])) for v in xs if x_min <= v <= x_max
        ],
        y_ticks=[
            Tick(yscale(v), linear_label(v, ys[1] - ys[0])) for v in ys if y_min <= v <= y_max
        ],
        legend=legend,
    )


def _sample(n: int) -> NDArray[np.int64]:
    if n <= MAX_GRID:
        return np.arange(n)
    return np.floor((np.arange(MAX_GRID) + 0.5) * n / MAX_GRID).astype(np.int64)


def _thin(points: list[Point]) -> list[Point]:
    if len(points) <= MAX_POINTS:
        return points
    return [points[int(k)] for k in np.linspace(0, len(points) - 1, MAX_POINTS)]


def _count_classes(value: object, grid: Classes, points: list[Point]) -> int:
    seen = max(int(grid.max()), max((c for _, _, c in points), default=-1))
    return min(max(coerce.integer(value) or 0, seen + 1, 1), MAX_CLASSES)


def _regions(grid: Classes, plot: Box) -> list[Region]:
    """One rectangle per run of equal classes along each row; row 0 is the bottom."""
    rows, cols = grid.shape
    cw, ch = plot.w / cols, plot.h / rows
    out = []
    for i in range(rows):
        row = grid[i]
        starts = np.flatnonzero(np.diff(row, prepend=row[0] - 1) != 0).tolist()
        for s, e in zip(starts, [*starts[1:], cols], strict=True):
            if row[s] >= 0:
                fill = colors.tint(colors.category(int(row[s])), REGION_TINT)
                out.append(
                    Region(plot.x + s * cw, plot.bottom - (i + 1) * ch, (e - s) * cw, ch, fill)
                )
    return out


def _points(value: object) -> tuple[list[Point], int]:
    """The well-formed points [x, y, class] and how many entries there were."""
    raw = coerce.items(value)
    out = []
    for p in raw:
        fields = [*coerce.items(p), None, None, None]
        x, y, c = coerce.number(fields[0]), coerce.number(fields[1]), coerce.integer(fields[2])
        if x is not None and y is not None and c is not None and 0 <= c < MAX_CLASSES:
            out.append((x, y, c))
    return out, len(raw)


def _describe(
    grid: Classes, points: list[Point], n_classes: int, box: tuple[float, float, float, float]
) -> str:
    x_min, x_max, y_min, y_max = box
    text = (
        f"Regions where your network predicts each of {fmt.count(n_classes, 'class')}, "
        f"for x₁ from {fmt.num(x_min)} to {fmt.num(x_max)} and x₂ from {fmt.num(y_min)} "
        f"to {fmt.num(y_max)}, with {fmt.count(len(points), 'training point')}"
    )
    if not points:
        return text + "."
    rows, cols = grid.shape
    agree = 0
    for x, y, c in points:
        i = min(int((y - y_min) / (y_max - y_min) * rows), rows - 1)
        j = min(int((x - x_min) / (x_max - x_min) * cols), cols - 1)
        agree += int(grid[i, j] == c)
    share = fmt.percent(agree / len(points))
    return text + f"; {agree:,} of them ({share}) lie in the region of their own class."
