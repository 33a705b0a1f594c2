"""Whatever the results data looks like, the report renders, and says what it could not show."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from report_html import Document
from report_samples import make_test, record

from grader.report import render_report


def render_ok(results: Any, **kw) -> Document:
    html = render_report(results, **kw)
    doc = Document(html)
    assert doc.errors == []
    assert not re.search(r"\b(None|nan|inf|True|False)\b", doc.text)  # Python reprs leaking
    return doc


@pytest.mark.parametrize(
    "results",
    [
        {},
        {"tests": None, "tasks": None},
        {"tests": [], "tasks": []},
        {"tests": "not a list", "tasks": {"id": "1"}},
        {"tests": [None, 3, "x", [], {}], "tasks": [None, {}, []]},
        {"score": None, "max_score": None, "seed": None, "date": None, "execution_time": None},
        {"score": math.nan, "max_score": math.inf, "seed": 1.5, "date": 20250314},
        {"score": True, "max_score": "16", "seed": "12", "submission": ["a"]},
    ],
    ids=[
        "empty",
        "nulls",
        "no-tests",
        "wrong-types",
        "junk-items",
        "none-numbers",
        "non-finite",
        "strings-for-numbers",
    ],
)
def test_malformed_sessions_render(results):
    doc = render_ok(results)
    assert doc.find("span", "big").text == "–" or results.get("score") is True
    assert doc.find("h1").text == "unnamed submission"


def test_an_empty_session_says_so():
    doc = render_ok({"submission": "s.py", "score": 0, "max_score": 0})
    assert "No tasks were recorded" in doc.text
    assert "No tests were run." in doc.text
    assert doc.find("span", "big").text == "0"
    assert doc.find_all("div", "bar") == []  # no percentage of zero points


def test_none_and_non_finite_numbers_read_as_dashes(session):
    rec = record("net_reg_missing")
    tensor = dict(rec["tensors"][0])
    tensor["metrics"] = {k: None for k in tensor["metrics"]}
    tensor["taylor"] = None
    tensor["worst"] = [{"index": [0, 1], "expected": None, "got": math.inf, "rel_error": math.nan}]
    tensor["error_map"] = [[None, math.nan, math.inf, 1e-3], [0.0, -1.0, "x", 1e-9]]
    broken = dict(rec, tensors=[tensor], evaluations=None, seconds=math.nan)
    session["tests"] = [make_test("t::x", "1", "x", "failed", math.nan, None, [broken])]
    doc = render_ok(session)
    row = [td.text for td in doc.find("table", "metrics").find("tbody").find_all("td")]
    assert row[3:] == ["–"] * 5  # max rel, max abs, normwise, wrong, Taylor
    worst = [td.text for td in doc.find("table", "worst").find("tbody").find_all("td")]
    assert worst == ["[0, 1]", "–", "∞", "NaN"]
    assert doc.find("article").find("p", "pts").text == "– / –"
    cells = doc.find("svg").find("g").find_all("rect")
    hatched = [c for c in cells if c.attr("fill").startswith("url(#")]
    assert len(cells) == 8 and len(hatched) == 4  # None, NaN, a negative value and a string
    assert "4 elements not checked (hatched)" in doc.find("svg").find("desc").text


def test_huge_error_maps_are_drawn_as_at_most_64_by_64_blocks(session):
    rec = record("net_reg_missing")
    big = [[1e-10] * 1000 for _ in range(700)]
    big[345][678] = 0.9
    tensor = dict(rec["tensors"][0], error_map=big, shape=[700, 1000])
    session["tests"] = [
        make_test("t::big", "1", "big", "failed", 0, 1, [dict(rec, tensors=[tensor])])
    ]
    html = render_report(session)
    assert len(html) < 1_000_000
    svg = Document(html).find("svg")
    cells = svg.find("g").find_all("rect")
    assert len(cells) == 64 * 63  # 700 rows in blocks of 11, 1000 columns in blocks of 16
    assert "largest error of a 11×16 block of the 700×1000 map" in svg.find("desc").text
    assert "Largest 0.9 at [345, 678]" in svg.find("desc").text
    assert "Too many elements to draw one by one" in Document(html).find("figcaption").text


@pytest.mark.parametrize(
    "error_map",
    [[[1, 2], [3]], [], [[]], "abc", 3.0, {"a": 1}, [[[[[[1e-3]]]]]], [None, None]],
    ids=["ragged", "empty", "empty-row", "string", "scalar", "dict", "deep", "all-missing"],
)
def test_malformed_error_maps_do_not_break_the_page(session, error_map):
    rec = record("net_reg_missing")
    tensor = dict(rec["tensors"][0], error_map=error_map)
    session["tests"] = [make_test("t::x", "1", "x", "failed", 0, 1, [dict(rec, tensors=[tensor])])]
    doc = render_ok(session)
    assert "dW1 is missing the regularization gradient" in doc.text


def test_very_long_messages_are_cut_and_long_words_can_wrap(session):
    session["tasks"][0]["message"] = "x" * 100_000
    session["tests"][0]["message"] = "word " * 50_000
    session["submission"] = "a/" * 2000
    doc = render_ok(session)
    cell = doc.find("table", "tasks").find("td", "msg").text
    assert len(cell) < 700 and cell.endswith("(99,400 more characters)")
    assert len(doc.find("h1").text) < 400


def test_text_is_cleaned_of_terminal_escapes_controls_and_lone_surrogates(session):
    session["tests"][0]["stdout"] = "\x1b[31mred\x1b[0m\x00bell\x07 \ud800 done\r\nnext"
    html = render_report(session)
    html.encode("utf-8")  # no lone surrogate survives
    text = Document(html).find("pre").text
    assert text == "red\ufffdbell\ufffd ? done next"


def test_unknown_statuses_show_their_text_with_a_neutral_style(session):
    session["tasks"][0]["status"] = "weird <b>state</b>"
    session["tests"][0]["status"] = None
    doc = render_ok(session)
    badge = doc.find("table", "tasks").find("span", "badge")
    assert badge.text == "? weird <b>state</b>" and "s-unknown" in badge.classes()


def test_bad_artifacts_are_skipped(session):
    training = session["tests"][7]
    training["artifacts"] = {
        "loss_curve": {"student": [None, math.nan], "reference": "x"},
        "decision_boundary": {"x_min": 1, "x_max": 0, "y_min": 0, "y_max": 1, "grid": [[0]]},
    }
    doc = render_ok(session)
    article = next(a for a in doc.find_all("article") if "training" in a.find("h4").text)
    assert article.find_all("svg") == []


def test_loss_curves_with_gaps_break_the_line_and_say_so(session):
    training = session["tests"][7]
    curve = training["artifacts"]["loss_curve"]
    curve["student"][50:60] = [None] * 10
    curve["student"][120] = math.inf
    curve["every"] = 1
    doc = render_ok(session)
    svg = next(a for a in doc.find_all("article") if "training" in a.find("h4").text).find("svg")
    student = svg.find("g", "series")
    assert len(student.find_all("polyline")) == 3
    assert "11 values of your network's curve missing or not finite, the first at iteration 50" in (
        svg.find("desc").text
    )


@pytest.mark.parametrize(
    ("date", "shown", "machine"),
    [
        ("2025-03-14T09:26:53Z", "2025-03-14 09:26 UTC", "2025-03-14T09:26:53+00:00"),
        ("2025-03-14T10:26:53+01:00", "2025-03-14 10:26 UTC+0100", "2025-03-14T10:26:53+01:00"),
        ("2025-03-14T09:26:53", "2025-03-14 09:26", "2025-03-14T09:26:53"),
        ("last Tuesday", "last Tuesday", None),
    ],
)
def test_dates_are_shown_readably_and_kept_machine_readable(session, date, shown, machine):
    session["date"] = date
    doc = render_ok(session)
    dd = doc.find("dl", "meta").find_all("dd")[1]
    assert dd.text == shown
    assert (dd.find("time").attr("datetime") if machine else None) == machine
