"""Chart models for the report: pure functions from data to SVG-ready geometry.

Each builder returns a frozen dataclass of coordinates, colours and short
texts (title, description, labels); the jinja templates turn it into inline
SVG with autoescaping on, so no string from the data is ever inserted raw.
"""

from __future__ import annotations

from grader.report.charts.boundary import Boundary, decision_boundary
from grader.report.charts.heatmap import Heatmap, heatmap
from grader.report.charts.histogram import Histogram, histogram
from grader.report.charts.loss_curve import LossCurve, loss_curve

__all__ = [
    "Boundary",
    "Heatmap",
    "Histogram",
    "LossCurve",
    "decision_boundary",
    "heatmap",
    "histogram",
    "loss_curve",
]
