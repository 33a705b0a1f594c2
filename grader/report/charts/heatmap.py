"""The heatmap of a gradient's relative error per element, on a log colour scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.report import fmt
from grader.report.charts import colors
from grader.report.charts.geometry import Box, Tick, decade_label, nice_step

Grid = NDArray[np.float64]

MAX_CELLS = 64  # per side; larger maps show the maximum of each block
TOOLTIP_CELLS = 1024  # per-cell <title> tooltips only up to this many cells
_LEFT, _TOP, _RIGHT = 52.0, 40.0, 16.0
_PLOT_W, _PLOT_H, _CELL = 400.0, 360.0, 32.0
_LEGEND_W = 220.0


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    w: float
    h: float
    fill: str  # "" for an element without a value (drawn hatched)
    tip: str


@dataclass(frozen=True)
class Heatmap:
    id: str
    width: float
    height: float
    title: str
    desc: str
    note: str
    plot: Box
    cells: list[Cell]
    row_ticks: list[Tick]
    col_ticks: list[Tick]
    row_label: str
    col_label: str
    legend: Box
    legend_ticks: list[Tick]
    stops: list[tuple[str, str]]
    missing: bool  # some drawn cells have no value: the legend explains the hatching
    tooltips: bool


def as_grid(value: object) -> Grid | None:
    """Nested lists of numbers (None for missing) as a 2-D array with NaN for missing.

    1-D maps become one row; higher-dimensional maps merge their leading axes
    into rows. Ragged, empty or non-list data gives None.
    """
    try:
        grid = np.asarray(_floats(value), dtype=np.float64)
    except (ValueError, TypeError, RecursionError):
        return None
    if grid.ndim == 0 or grid.size == 0:
        return None
    grid = grid.reshape(1, -1) if grid.ndim == 1 else grid.reshape(-1, grid.shape[-1])
    grid[grid < 0] = np.nan  # a relative error is never negative: treat as no value
    return grid


def _floats(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_floats(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def block_max(grid: Grid, limit: int = MAX_CELLS) -> tuple[Grid, int, int]:
    """Shrink to at most limit x limit cells, each the largest value of its block.

    Returns the grid and the block height and width (1, 1 when unchanged).
    Blocks with no value at all stay NaN.
    """
    rows, cols = grid.shape
    br, bc = math.ceil(rows / limit), math.ceil(cols / limit)
    if br == 1 and bc == 1:
        return grid, 1, 1
    r, c = math.ceil(rows / br), math.ceil(cols / bc)
    padded = np.full((r * br, c * bc), np.nan)
    padded[:rows, :cols] = grid
    blocks = padded.reshape(r, br, c, bc)
    return np.fmax.reduce(np.fmax.reduce(blocks, axis=3), axis=1), br, bc


def heatmap(value: object, *, tensor: str, chart_id: str) -> Heatmap | None:
    """The chart of an error map, or None when there is nothing to draw."""
    full = as_grid(value)
    if full is None:
        return None
    shape = _shape(value)
    grid, br, bc = block_max(full)
    rows, cols = grid.shape
    cw, ch = _cell_size(rows, cols)
    plot = Box(_LEFT if full.shape[0] > 1 else 16.0, _TOP, cols * cw, rows * ch)

    e0, e1 = color_domain(full)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (np.log10(grid) - e0) / (e1 - e0)
    t = np.where(grid == 0, 0.0, np.where(np.isposinf(grid), 1.0, t))
    fills = colors.sequential(np.nan_to_num(t, nan=0.0).ravel())
    missing = np.isnan(grid).ravel()

    tooltips = grid.size <= TOOLTIP_CELLS
    cells = []
    for k, (fill, gap) in enumerate(zip(fills, missing, strict=True)):
        i, j = divmod(k, cols)
        tip = _tip(i, j, br, bc, full.shape, shape, grid[i, j]) if tooltips else ""
        cells.append(Cell(plot.x + j * cw, plot.y + i * ch, cw, ch, "" if gap else fill, tip))

    legend = Box(plot.x, plot.bottom + 34, _LEGEND_W, 12)
    step = max(1, math.ceil((e1 - e0) / 4))
    legend_ticks = [
        Tick(legend.x + legend.w * (e - e0) / (e1 - e0), decade_label(e))
        for e in sorted({*range(e1, e0 - 1, -step), e0})
    ]
    legend_ticks = _thin(legend_ticks, 44.0)
    gaps = int(np.isnan(full).sum())
    hatched = bool(missing.any())  # a block with any value shows its largest, not a hatch
    width = max(plot.right, legend.right + (120 if hatched else 0)) + _RIGHT
    note = _note(full.shape, shape, br, bc)
    return Heatmap(
        id=chart_id,
        width=width,
        height=legend.bottom + 28,
        title=f"Relative error of {tensor} per element",
        desc=_describe(full, shape, tensor, e0, e1, gaps) + (f" {note}" if note else ""),
        note=note,
        plot=plot,
        cells=cells,
        row_ticks=_ticks(rows, br, plot.y, ch, 14.0) if full.shape[0] > 1 else [],
        col_ticks=_ticks(cols, bc, plot.x, cw, 9.0 * len(str(full.shape[1])) + 8),
        row_label=_row_label(shape) if full.shape[0] > 1 else "",
        col_label=("column" if len(shape) == 2 else "last axis") if len(shape) > 1 else "index",
        legend=legend,
        legend_ticks=legend_ticks,
        stops=colors.gradient_stops(),
        missing=hatched,
        tooltips=tooltips,
    )


def color_domain(grid: Grid) -> tuple[int, int]:
    """Decades (lo, hi) of the colour scale, at least two wide and at most sixteen.

    The top is at least 10**0: a relative error of 1 (100% off) is always the
    brightest colour, so a uniformly wrong gradient never looks middling.
    """
    positive = grid[np.isfinite(grid) & (grid > 0)]
    if positive.size == 0:
        return -2, 0
    hi = max(math.ceil(math.log10(float(positive.max())) - 1e-9), 0)
    lo = min(math.floor(math.log10(float(positive.min())) + 1e-9), hi - 2)
    return max(lo, hi - 16), hi


def _shape(value: object) -> tuple[int, ...]:
    shape: list[int] = []
    while isinstance(value, list | tuple):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _cell_size(rows: int, cols: int) -> tuple[float, float]:
    cw, ch = min(_CELL, _PLOT_W / cols), min(_CELL, _PLOT_H / rows)
    return min(cw, 4 * ch), min(ch, 4 * cw)


def _ticks(n: int, block: int, start: float, size: float, spacing: float) -> list[Tick]:
    """Index ticks along one axis: at cell centres, or at block edges when aggregated."""
    stride = max(1, math.ceil(spacing / size))
    if stride > 1:
        stride = max(int(nice_step(stride, 1)), stride)
    if block == 1:
        return [Tick(start + (k + 0.5) * size, str(k)) for k in range(0, n, stride)]
    return [Tick(start + k * size, str(k * block)) for k in range(0, n, stride)]


def _thin(ticks: list[Tick], spacing: float) -> list[Tick]:
    out: list[Tick] = []
    for tick in ticks:
        if not out or tick.pos - out[-1].pos >= spacing:
            out.append(tick)
    return out


def _row_label(shape: tuple[int, ...]) -> str:
    if len(shape) > 2:
        return f"row (axes 0–{len(shape) - 2} merged)"
    return "row"


def _index(row: int, col: int, shape: tuple[int, ...]) -> str:
    """The original index of a cell of the merged 2-D grid."""
    lead = [int(v) for v in np.unravel_index(row, shape[:-1])] if len(shape) > 2 else [row]
    if len(shape) == 1:
        return f"[{col}]"
    return "[" + ", ".join(str(v) for v in [*lead, col]) + "]"


def _tip(
    i: int,
    j: int,
    br: int,
    bc: int,
    full: tuple[int, int],
    shape: tuple[int, ...],
    value: float,
) -> str:
    shown = "not checked" if math.isnan(value) else fmt.num(value)
    if br == 1 and bc == 1:
        return f"{_index(i, j, shape)}: {shown}"
    r1, c1 = min((i + 1) * br, full[0]) - 1, min((j + 1) * bc, full[1]) - 1
    return f"rows {i * br}–{r1}, columns {j * bc}–{c1}: largest {shown}"


def _note(full: tuple[int, int], shape: tuple[int, ...], br: int, bc: int) -> str:
    notes = []
    if len(shape) > 2:
        dims = "×".join(str(s) for s in shape)
        notes.append(f"The {dims} tensor is drawn as {full[0]}×{full[1]}, leading axes merged.")
    if br > 1 or bc > 1:
        notes.append(
            f"Too many elements to draw one by one: each cell shows the largest error "
            f"of a {br}×{bc} block of the {full[0]}×{full[1]} map."
        )
    return " ".join(notes)


def _describe(full: Grid, shape: tuple[int, ...], tensor: str, e0: int, e1: int, gaps: int) -> str:
    dims = "×".join(str(s) for s in shape) or str(full.size)
    scale = f"{decade_label(e0)} to {decade_label(e1)}"
    text = (
        f"Relative error of {tensor} for each of its {dims} elements, coloured on a log "
        f"scale from {scale} (dark purple small, yellow large)."
    )
    values = np.where(np.isnan(full), -np.inf, full)
    if np.isfinite(values).any() or np.isposinf(values).any():
        flat = int(np.argmax(values))
        r, c = divmod(flat, full.shape[1])
        checked = full[~np.isnan(full)]
        text += (
            f" Largest {fmt.num(full[r, c])} at {_index(r, c, shape)}, "
            f"smallest {fmt.num(checked.min())}, median {fmt.num(np.median(checked))}."
        )
    if gaps:
        text += f" {fmt.count(gaps, 'element')} not checked (hatched)."
    return text
