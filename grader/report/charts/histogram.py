"""The class summary's score histogram: one bar per score bin."""

from __future__ import annotations

from dataclasses import dataclass

from grader.report.charts.geometry import Box, Scale

PLOT = Box(10, 20, 380, 150)  # room above the tallest bar for its count


@dataclass(frozen=True)
class Bar:
    box: Box
    count: int
    label: str  # the score range, "20–25"


@dataclass(frozen=True)
class Histogram:
    plot: Box
    bars: tuple[Bar, ...]
    max_score: float


def histogram(counts: list[int], max_score: float) -> Histogram:
    """Bars of equal width across the plot, heights scaled to the tallest bin."""
    bins = max(len(counts), 1)
    height = Scale(0.0, float(max(counts, default=0) or 1), 0.0, PLOT.h)
    slot = PLOT.w / bins
    bars = []
    for i, count in enumerate(counts):
        h = height(float(count))
        box = Box(PLOT.x + i * slot + 0.1 * slot, PLOT.bottom - h, 0.8 * slot, h)
        lo, hi = max_score * i / bins, max_score * (i + 1) / bins
        bars.append(Bar(box, count, f"{lo:g}–{hi:g}"))
    return Histogram(PLOT, tuple(bars), max_score)
