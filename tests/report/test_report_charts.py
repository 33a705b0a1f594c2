"""The chart builders and number formatting, on their own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.report import fmt
from grader.report.charts import colors, decision_boundary, heatmap, loss_curve
from grader.report.charts.boundary import SHAPES, marker_path
from grader.report.charts.heatmap import as_grid, block_max, color_domain
from grader.report.charts.loss_curve import decimate
from grader.report.render import coordinate


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "–"),
        ("1", "–"),
        (True, "–"),
        (math.nan, "NaN"),
        (-math.inf, "-∞"),
        (0.0, "0"),
        (6.767e-10, "6.77e-10"),
        (0.0058, "0.0058"),
        (123456.0, "1.23e5"),
        (-2.5, "-2.5"),
    ],
)
def test_numbers_are_formatted_without_python_reprs(value, shown):
    assert fmt.num(value) == shown


def test_points_percent_and_durations():
    assert [fmt.points(v) for v in (7.0, 7.5, 2 / 3, -0.0, None, math.inf)] == [
        "7",
        "7.5",
        "0.67",
        "0",
        "–",
        "–",
    ]
    assert fmt.ratio(7, 16) == 7 / 16 and fmt.ratio(1, 0) is None and fmt.ratio(20, 10) == 1.0
    assert [fmt.seconds(v) for v in (0, 0.0001, 0.012, 2.414, 123)] == [
        "0 ms",
        "<1 ms",
        "12 ms",
        "2.41 s",
        "2 min 3 s",
    ]
    assert coordinate(12.5) == "12.5" and coordinate(40.0) == "40" and coordinate(-0.001) == "0"


def test_error_maps_become_2d_grids():
    assert as_grid([1e-3, None, 2]).shape == (1, 3)
    cube = as_grid(np.arange(24.0).reshape(2, 3, 4).tolist())
    assert cube is not None and cube.shape == (6, 4) and cube[5, 3] == 23
    grid = as_grid([[-1.0, "x"], [math.inf, 0.5]])
    assert grid is not None and np.isnan(grid[0]).all() and grid[1, 0] == math.inf
    for bad in ([[1, 2], [3]], [], [[]], "s", 1.0, None, {"a": 1}):
        assert as_grid(bad) is None


def test_block_max_keeps_the_largest_value_of_each_block():
    rng = np.random.default_rng(0)
    full = rng.random((130, 70))
    full[3, 3] = np.nan
    full[128:, :] = np.nan
    small, br, bc = block_max(full, limit=64)
    assert (br, bc) == (3, 2) and small.shape == (44, 35)
    for i, j in [(0, 0), (1, 1), (20, 34), (42, 5)]:
        block = full[i * br : (i + 1) * br, j * bc : (j + 1) * bc]
        assert small[i, j] == np.nanmax(block)
    assert np.isnan(small[43]).all()  # rows of no value stay without value
    same, *_ = block_max(full[:64, :64])
    assert same.shape == (64, 64)


def test_colour_scale_tops_at_one_and_spans_two_to_sixteen_decades():
    assert color_domain(np.full((2, 2), 1.0)) == (-2, 0)
    assert color_domain(np.array([[1e-10, 3e-4]])) == (-10, 0)
    assert color_domain(np.array([[0.5, 20.0]])) == (-1, 2)
    assert color_domain(np.array([[1e-30, 1.0]])) == (-16, 0)
    assert color_domain(np.array([[0.0, np.nan]])) == (-2, 0)


def test_sequential_colours_get_lighter_and_match_the_anchors():
    shades = colors.sequential(np.linspace(0, 1, 50))
    assert shades[0] == colors.VIRIDIS[0] and shades[-1] == colors.VIRIDIS[-1]
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in shades])
    luminance = rgb @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(luminance) > 0).all()
    assert colors.sequential(np.array([-5.0, 7.0])) == [colors.VIRIDIS[0], colors.VIRIDIS[-1]]


def test_heatmap_cells_axes_and_legend():
    h = heatmap([[1e-9, None, 0.5], [1.0, 0.0, 1e-3]], tensor="dw", chart_id="c1")
    assert h is not None
    assert [c.fill for c in h.cells][:2] == [colors.VIRIDIS[0], ""]  # 1e-9 is below 10^-3
    assert h.cells[3].fill == colors.VIRIDIS[-1]  # an error of 1
    assert h.cells[0].tip == "[0, 0]: 1e-9" and h.cells[1].tip == "[0, 1]: not checked"
    assert [t.label for t in h.col_ticks] == ["0", "1", "2"] and h.row_label == "row"
    assert [t.label for t in h.legend_ticks] == ["10⁻⁹", "10⁻⁶", "10⁻³", "1"]
    assert h.missing and "1 element not checked (hatched)." in h.desc
    for c in h.cells:
        assert h.plot.x <= c.x < h.plot.right and h.plot.y <= c.y < h.plot.bottom
    assert h.legend.bottom < h.height and h.plot.right < h.width
    vector = heatmap([0.1] * 5, tensor="db", chart_id="c2")
    assert vector is not None and vector.row_ticks == [] and vector.col_label == "index"


def test_loss_curve_scales_ticks_and_description():
    lin = loss_curve({"student": [1.0, 0.6, 0.5], "reference": [1.0, 0.55, 0.45]}, chart_id="l")
    assert lin is not None and not lin.log_y
    assert [t.label for t in lin.y_ticks] == ["0.4", "0.6", "0.8", "1.0"]
    assert lin.desc == (
        "Your network's loss falls from 1 to 0.5 over 2 iterations; the reference's ends at 0.45."
    )
    log = loss_curve({"student": [10.0 * 0.1**i for i in range(6)], "label": "nll"}, chart_id="m")
    assert log is not None and log.log_y and log.y_label == "loss (log scale)"
    assert log.title.endswith("(nll)") and log.desc.endswith("Log scale. Run: nll.")
    assert log.y_ticks[0].label == "10⁻⁴" and log.y_ticks[-1].label == "10"
    assert len(log.series) == 1 and log.series[0].key == "student"
    for chart in (lin, log):
        assert all(chart.plot.y - 1e-6 <= t.pos <= chart.plot.bottom + 1e-6 for t in chart.y_ticks)
        assert all(chart.plot.x - 1e-6 <= t.pos <= chart.plot.right + 1e-6 for t in chart.x_ticks)
    spans_two = loss_curve({"student": [1.0, 0.011]}, chart_id="n")
    assert spans_two is not None and not spans_two.log_y  # 1.96 decades: still linear
    assert loss_curve({"student": [None], "reference": []}, chart_id="o") is None


def test_every_step_of_a_long_run_is_drawn_against_a_sparser_reference():
    """5,000 recorded steps against a reference kept every 50th iteration:
    both span the same iterations, and a spike in one step survives the
    thinning to the chart's width."""
    steps = [1.0 / (1 + i / 100) for i in range(5000)]
    steps[3210] = 5.0
    reference = [1.0 / (1 + i / 2) for i in range(100)]
    curve = loss_curve(
        {"student": steps, "reference": reference, "reference_every": 50}, chart_id="e"
    )
    assert curve is not None
    student, ref = curve.series
    right = curve.plot.x + curve.plot.w * 4999 / 5000
    last = max(float(point.split(",")[0]) for line in student.lines for point in line.split())
    last_ref = max(float(point.split(",")[0]) for line in ref.lines for point in line.split())
    assert last == pytest.approx(right, abs=0.5) and last_ref == pytest.approx(
        curve.plot.x + curve.plot.w * 4950 / 5000, abs=0.5
    )
    spike = min(float(point.split(",")[1]) for line in student.lines for point in line.split())
    top_ref = min(float(point.split(",")[1]) for line in ref.lines for point in line.split())
    assert spike < top_ref - 10  # the one step at 5.0 stands above every other loss
    assert "over 4,999 iterations" in curve.desc


def test_a_diverging_loss_is_marked_and_said_in_words():
    curve = loss_curve(
        {
            "student": [0.484, None, math.nan, None, None, None],
            "reference": [0.43, 0.07] * 3,
            "every": 1000,
        },
        chart_id="d",
    )
    assert curve is not None
    student, reference = curve.series
    assert student.lines == [] and len(student.dots) == 1  # one finite value: a dot
    assert student.gap_x == pytest.approx(curve.plot.x + curve.plot.w * 1000 / 5000)
    assert reference.gap_x is None
    assert curve.note == (
        "Your network's loss is missing or not finite from iteration 1,000 on "
        "(5 of 6 values): the dotted line marks where."
    )
    assert "5 values of your network's curve missing or not finite" in curve.desc


def test_long_curves_are_decimated_keeping_extremes():
    ys = np.sin(np.linspace(0, 60, 100_000))
    ys[54_321] = 5.0
    ys[70_000:70_100] = np.nan
    index, kept = decimate(ys, limit=800)
    assert len(index) <= 800 and 5.0 in kept and np.isnan(kept).any()
    assert (np.diff(index) > 0).all()
    big = loss_curve({"student": ys.tolist(), "every": 1}, chart_id="p")
    assert big is not None and len(big.series[0].lines) == 2  # broken at the gap


def test_decision_regions_put_row_zero_at_the_bottom():
    grid = [[1, 1, 0], [0, 0, 0]]  # row 0 is y_min
    b = decision_boundary(
        {"x_min": 0, "x_max": 3, "y_min": 0, "y_max": 2, "grid": grid, "points": [], "classes": 2},
        chart_id="b",
    )
    assert b is not None
    class1 = [r for r in b.regions if r.fill == colors.tint(colors.OKABE_ITO[1], 0.28)]
    assert len(class1) == 1
    r = class1[0]
    assert r.y + r.h == pytest.approx(b.plot.bottom) and r.w == pytest.approx(b.plot.w * 2 / 3)
    assert len(b.regions) == 3  # runs of equal classes are merged per row


def test_decision_boundary_markers_points_and_notes():
    pts = [[0.5, 0.5, k % 3] for k in range(30)] + [[9.0, 0.5, 0], ["x", 1, 1], [0.1, 0.1, 99]]
    cells = [[(i + j) % 3 for j in range(300)] for i in range(200)]
    b = decision_boundary(
        {"x_min": 0, "x_max": 1, "y_min": 0, "y_max": 1, "grid": cells, "points": pts},
        chart_id="b",
    )
    assert b is not None
    assert len(b.markers) == 30 and [i.label for i in b.legend] == ["class 0", "class 1", "class 2"]
    assert "drawn sampled to 120×120" in b.note and "3 points outside" in b.note
    assert len({marker_path(k, 0, 0) for k in range(len(SHAPES))}) == len(SHAPES)
    assert len({i.marker.fill for i in b.legend}) == 3
    for bad in (
        {},
        {"grid": [[0]], "x_min": 0, "x_max": 0, "y_min": 0, "y_max": 1},
        {"grid": [], "x_min": 0, "x_max": 1, "y_min": 0, "y_max": 1},
    ):
        assert decision_boundary(bad, chart_id="z") is None
