"""What the report shows: header, task table, tests by task, checks, charts, hidden tests."""

from __future__ import annotations

import json
import re

import pytest
from report_html import Document

from grader.report import render_report


def doc_of(session, **kw) -> Document:
    doc = Document(render_report(session, **kw))
    assert doc.errors == []
    return doc


@pytest.mark.parametrize("show_hidden", [False, True])
def test_the_page_is_well_formed_html(session, show_hidden):
    html = render_report(session, show_hidden=show_hidden)
    doc = Document(html)
    assert doc.errors == []
    assert doc.declarations == ["DOCTYPE html"]
    assert doc.find("html").attr("lang") == "en"
    assert doc.find("meta").attr("charset") == "utf-8"
    assert any(m.attr("name") == "viewport" for m in doc.find_all("meta"))
    ids = [e.attr("id") for e in doc.elements if e.attr("id")]
    assert len(ids) == len(set(ids)), "ids must be unique"
    by_id = doc.by_id()
    for el in doc.elements:  # every reference inside the page resolves
        for ref in el.attr("aria-labelledby").split():
            assert ref in by_id, ref
        if el.attr("href"):
            assert el.attr("href")[1:] in by_id
    for ref in re.findall(r"url\(#([^)]+)\)", html):
        assert ref in by_id, ref


def test_header_shows_submission_score_date_and_seed(session):
    doc = doc_of(session)
    header = doc.find("header", "summary")
    assert header.find("h1").text == "submissions/alice_chen/layers.py"
    assert header.find("span", "big").text == "7"
    assert "/ 16" in header.find("p", "score-value").text
    assert "44% of the points" in header.text
    meta = header.find("dl", "meta").text
    assert "layers" in meta and "2025-03-14 09:26 UTC" in meta and "2024" in meta
    assert header.find("time").attr("datetime") == "2025-03-14T09:26:53+00:00"
    assert "9 tests: 4 failed, 3 passed, 1 not attempted, 1 error" in header.text
    assert doc.find("title").text.startswith("7 / 16 · layers: submissions/alice_chen/layers.py")


def test_task_table_lists_every_task_with_a_text_status(session):
    table = doc_of(session).find("table", "tasks")
    heads = [th.text for th in table.find("thead").find_all("th")]
    assert heads == ["Task", "Name", "Points", "Status", "Message"]
    rows = [[td.text for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    assert [r[0] for r in rows] == ["1.1", "1.2", "1.3", "2.1", "2.2"]
    assert rows[0][2] == "1 / 4" and rows[0][3] == "◐ Partial"
    assert rows[2][3] == "○ Not attempted" and rows[4][3] == "✓ Passed"
    assert rows[3][4] == "dW1 is missing the regularization gradient: add reg * W1"


def test_tests_are_grouped_by_task_in_task_order(session):
    doc = doc_of(session)
    groups = doc.find_all("section", "task")
    assert [g.find("span", "task-id").text for g in groups] == [
        "Task 1.1",
        "Task 1.2",
        "Task 1.3",
        "Task 2.1",
        "Task 2.2",
    ]
    first = [t.find("h4").text for t in groups[0].find_all("article")]
    assert first == [
        "test_linear_backward[dw]",
        "test_linear_backward[float32]",
        "test_linear_shapes",
    ]
    for article in doc.find_all("article"):
        head = article.find("div", "test-head")
        assert re.fullmatch(r"\d+ / \d+", head.find("p", "pts").text)
        assert head.find("span", "badge").text  # a text label, not only a colour


def test_failed_check_shows_diagnosis_metrics_heatmap_and_worst_elements(session):
    doc = doc_of(session)
    test = next(a for a in doc.find_all("article") if "two_layer" in a.find("h4").text)
    check = test.find("div", "check")
    assert "dW1 is missing the regularization gradient" in check.find("div", "diagnosis").text
    assert "reg_coefficient" in check.find("div", "diagnosis").text  # the evidence numbers
    metrics = check.find("table", "metrics")
    rows = {
        tr.find("th").text: [td.text for td in tr.find_all("td")]
        for tr in metrics.find("tbody").find_all("tr")
    }
    assert set(rows) == {"dW1", "db1", "dW2", "db2"}
    assert rows["dW1"][:2] == ["5×7", "✗ Failed"] and rows["dW1"][-2] == "35 of 35"
    assert rows["db1"][1] == "✓ Passed"
    tensors = check.find_all("div", "tensor")
    assert [t.find("h6").find("code").text for t in tensors] == ["dW1", "dW2"]
    svg = tensors[0].find("svg")
    assert svg.attr("role") == "img"
    assert len(svg.find("g").find_all("rect")) == 35  # one cell per element
    assert "Relative error of dW1 for each of its 5×7 elements" in svg.find("desc").text
    assert "Largest 1 at [" in svg.find("desc").text
    assert [t.text for t in svg.find_all("text")][:2] == ["column →", "0"]
    assert "← row" in svg.text  # 2-D maps label both axes
    worst = tensors[0].find("table", "worst")
    head = [th.text for th in worst.find_all("th")]
    assert head == ["Index", "Expected", "Got", "Rel. error"]
    first = [td.text for td in worst.find("tbody").find("tr").find_all("td")]
    assert first == ["[3, 0]", "0.0120156", "-0.0563076", "1"]


def test_passed_check_is_one_compact_line(session):
    doc = doc_of(session)
    test = next(a for a in doc.find_all("article") if a.find("h4").text == "test_relu_backward")
    check = test.find("div", "check")
    assert "compact" in check.classes()
    assert "all gradients are right" in check.find("p").text
    assert check.find_all("svg") == []
    assert check.find("details").find("summary").text == "Metrics of 1 gradient"


def test_shape_mistake_without_error_map_still_names_it(session):
    doc = doc_of(session)
    test = next(a for a in doc.find_all("article") if a.find("h4").text.endswith("[dw]"))
    assert "dw has the right values but transposed" in test.find("div", "diagnosis").text
    assert test.find_all("svg") == []  # the shapes differ: no per-element map
    assert "x.shape = (3, 5)" in test.find("pre").text


def test_training_test_has_loss_curve_and_decision_boundary(session):
    doc = doc_of(session)
    test = next(a for a in doc.find_all("article") if "training" in a.find("h4").text)
    loss, boundary = (f.find("svg") for f in test.find("div", "charts").find_all("figure"))
    desc = loss.find("desc").text
    assert re.match(r"Your network's loss falls from 1\.1 to 0\.2\d* over 9,950 iterations;", desc)
    assert "the reference's ends at 0.25" in desc
    lines = loss.find_all("polyline")
    assert len(lines) == 2
    assert lines[0].parent.attr("stroke") != lines[1].parent.attr("stroke")
    assert lines[1].parent.attr("stroke-dasharray")  # the reference is dashed
    assert [t.text for t in loss.find_all("text") if t.attr("class") == "legend"] == [
        "your network",
        "reference",
    ]
    paths = boundary.find_all("path")
    assert len(paths) == 200 + 2  # the points and the two legend markers
    fills = {p.attr("fill") for p in paths}
    assert len(fills) == 2
    shapes = {p.attr("d").count("L") for p in paths}  # circles have no L, squares 3
    assert shapes == {0, 3}
    assert "lie in the region of their own class" in boundary.find("desc").text


def test_every_chart_has_a_text_alternative(session):
    doc = doc_of(session, show_hidden=True)
    svgs = doc.find_all("svg")
    assert len(svgs) == 6  # dx of leaky ReLU, dW1, dW2, hidden dx, loss, boundary
    by_id = doc.by_id()
    for svg in svgs:
        assert svg.attr("role") == "img"
        title_id, desc_id = svg.attr("aria-labelledby").split()
        assert by_id[title_id].tag == "title" and by_id[title_id].text
        assert by_id[desc_id].tag == "desc" and len(by_id[desc_id].text) > 40
        assert svg.attr("viewbox").startswith("0 0 ")


def test_hidden_tests_show_only_status_and_points_to_students(session):
    html = render_report(session)
    assert "SECRET" not in html
    assert "test_hidden_relu_mask" not in html
    assert "relu_mask_inverted" not in html
    doc = Document(html)
    hidden = [a for a in doc.find_all("article") if a.find("h4").text.startswith("hidden test")]
    assert len(hidden) == 1
    article = hidden[0]
    assert article.find("span", "tag").text == "hidden"
    assert article.find("p", "pts").text == "0 / 1"
    assert article.find("span", "badge").text == "✗ Failed"
    assert article.find_all("svg") == [] and article.find_all("pre") == []
    assert "1 hidden test: only the status and points are shown here." in doc.text


def test_hidden_tests_are_shown_in_full_and_labelled_in_the_ta_view(session):
    html = render_report(session, show_hidden=True)
    doc = Document(html)
    article = next(a for a in doc.find_all("article") if "hidden_relu" in a.find("h4").text)
    assert article.find("span", "tag").text == "hidden"
    assert "SECRET hidden message" in article.text
    assert "SECRET hidden stdout" in article.find("pre").text
    assert "inverted inequality" in article.find("div", "diagnosis").text
    assert article.find("svg")
    assert "TA view" in doc.find("p", "eyebrow").text


def test_long_output_is_truncated_with_a_note(session):
    session["tests"][0]["stdout"] = "".join(f"line {i}\n" for i in range(50_000))
    doc = doc_of(session)
    details = doc.find("details", "output")
    assert details.find("summary").text == "Captured stdout (50000 lines)"
    assert "Output truncated" in details.find("p", "note").text
    text = details.find("pre").text
    assert len(text) < 12_000
    assert text.startswith("line 0") and text.endswith("line 49999")
    assert "characters not shown" in text


def test_the_same_data_from_json_renders_the_same_page(session):
    assert render_report(json.loads(json.dumps(session))) == render_report(session)


def test_both_pages_at_once_are_the_pages_made_one_by_one(session):
    """A batch writes the student's page and the staff's of every submission:
    the tests every reader sees are built once for both, and each page is the
    same as when it is made on its own (its chart ids included)."""
    from grader.report import render_reports

    student, staff = render_reports(session)
    assert student == render_report(session)
    assert staff == render_report(session, show_hidden=True)
    assert student != staff
    ids = re.findall(r'aria-labelledby="(chart-[0-9]+-[0-9]+)-title', staff)
    assert len(ids) == len(set(ids)) == 6  # unique on a page, though made test by test
