"""summary.html for the course staff: every submission in a table linking to
its staff page, clusters that count a submission once per task, cards that
say what they count, and a layout that fits a phone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_chromium import CHROMIUM, measure
from report_html import Document

from grader.batch.gradebook import most_specific, summarize
from grader.report.summary import render_summary
from grader.results import gradescope, session
from grader.results.outcome import TestOutcome, TestStatus


@dataclass
class Row:
    id: str
    score: float
    max_score: float
    status: str
    origin: str = ""


def outcome(task: str, n: int, status: str, code: str | None = None, points: float = 1.0):
    return TestOutcome(
        nodeid=f"tests/test_x.py::test_{task}_{n}",
        name=f"test_{task.replace('.', '_')}_{n}",
        task=task,
        task_name={"1.1": "linear_backward", "1.2": "relu_backward"}.get(task, "f"),
        max_score=points,
        status=TestStatus(status),
        message=status,
        line=n,
        diagnosis={"code": code, "message": f"{code} here"} if code else None,
    )


def grade_into(out: Path, sid: str, tests: list[TestOutcome], status: str) -> Row:
    built = session.build(tests, submission=sid, assignment="layers", seed=0, execution_time=0.1)
    (out / sid).mkdir(parents=True)
    data = gradescope.results_json(built)
    (out / sid / "results.json").write_text(json.dumps(data))
    return Row(sid, built["score"], built["max_score"], status)


@pytest.fixture
def graded(tmp_path: Path) -> tuple[Path, list[Row]]:
    """Four submissions: right; transposed in some tests of 1.1 and unrecognised in
    another; only unrecognised in 1.1; not attempted anywhere."""
    out = tmp_path / "out"
    rows = [
        grade_into(
            out,
            "alice",
            [outcome("1.1", 1, "passed"), outcome("1.1", 2, "passed"), outcome("1.2", 1, "passed")],
            "passed",
        ),
        grade_into(
            out,
            "bob",
            [
                outcome("1.1", 1, "failed", "unrecognised"),
                outcome("1.1", 2, "failed", "transposed"),
                outcome("1.1", 3, "failed", "transposed"),
                outcome("1.2", 1, "failed", "relu_mask_inverted"),
            ],
            "graded",
        ),
        grade_into(
            out,
            "carol",
            [
                outcome("1.1", 1, "failed", "unrecognised"),
                outcome("1.1", 2, "passed"),
                outcome("1.2", 1, "passed"),
            ],
            "graded",
        ),
        grade_into(
            out,
            "dave",
            [
                outcome("1.1", 1, "not attempted", "not_attempted"),
                outcome("1.2", 1, "not attempted", "not_attempted"),
            ],
            "not attempted",
        ),
    ]
    return out, rows


def test_a_submission_counts_once_per_task_under_its_most_specific_diagnosis(graded):
    out, rows = graded
    clusters = {
        (c["task"], c["diagnosis"]): c["submissions"] for c in summarize(out, rows, "x")["clusters"]
    }
    assert clusters[("1.1", "transposed")] == ["bob"]
    assert clusters[("1.1", "unrecognised")] == ["carol"]  # bob is not here too
    assert clusters[("1.2", "relu_mask_inverted")] == ["bob"]
    for task in {t for t, _ in clusters}:
        others = [m for (t, _), ms in clusters.items() if t == task for m in ms]
        assert len(others) == len(set(others)), f"someone twice in task {task}: {clusters}"
    first = summarize(out, rows, "x")["clusters"][0]
    assert first["task_name"] in ("linear_backward", "relu_backward")


def test_most_specific_prefers_a_named_mistake_then_the_commonest():
    assert most_specific(["unrecognised", "transposed"]) == "transposed"
    assert most_specific(["exception", "unrecognised"]) == "exception"
    assert most_specific(["not_attempted", "unrecognised"]) == "unrecognised"
    assert most_specific(["sign_flip", "transposed", "transposed"]) == "transposed"
    assert most_specific(["sign_flip", "transposed"]) == "sign_flip"
    assert most_specific(["a_code_from_elsewhere", "zero"]) == "zero"


def test_every_submission_is_a_row_linking_to_its_staff_page(graded):
    out, rows = graded
    doc = Document(render_summary(summarize(out, rows, "layers")))
    table, clusters, _ = doc.find_all("table")
    lines = [[cell.text for cell in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    assert [line[0] for line in lines] == ["alice", "bob", "carol", "dave"]
    alice, bob = lines[0], lines[1]
    assert alice[1:4] == ["3 / 3 (100%)", "full marks", "2 of 2"] and alice[4] == "–"
    assert bob[1] == "0 / 4 (0%)" and bob[3] == "0 of 2"
    assert bob[4] == "gradient transposed in Task 1.1 linear_backward"
    links = [a.attr("href") for a in table.find_all("a")]
    assert links == [f"{sid}/staff.html" for sid in ("alice", "bob", "carol", "dave")]
    cluster_links = {a.attr("href") for a in clusters.find_all("a")}
    assert cluster_links == {"bob/staff.html", "carol/staff.html", "dave/staff.html"}


def test_cards_say_what_they_count(graded):
    out, rows = graded
    doc = Document(render_summary(summarize(out, rows, "layers")))
    cards = {c.find("span").text: c.text for c in doc.find_all("div", "card")}
    assert set(cards) == {
        "submissions",
        "mean score",
        "full marks",
        "some tasks not passed",
        "nothing attempted",
    }
    assert "graded into this folder" in cards["submissions"]
    assert "every task passed" in cards["full marks"]
    assert "at least one task lost points" in cards["some tasks not passed"]
    for text in cards.values():
        assert len(text.split()) > 3, f"a card without its explanation: {text!r}"


def test_submission_ids_and_task_names_are_escaped_and_links_quoted(tmp_path):
    out = tmp_path / "out"
    sid = 'x"><script>alert(1)<script>'
    row = grade_into(out, "odd", [outcome("1.1", 1, "failed", "transposed")], "graded")
    data = json.loads((out / "odd" / "results.json").read_text())
    data["extra_data"]["backprop_grader"]["tasks"][0]["name"] = "<b>bold</b>"
    (out / "odd" / "results.json").write_text(json.dumps(data))
    (out / sid).mkdir()
    (out / sid / "results.json").write_text(json.dumps(data))
    page = render_summary(summarize(out, [row, Row(sid, 0, 1, "<i>status</i>")], "layers"))
    for raw in ("<script>", "alert(1)<", "<b>bold</b>", "<i>status"):
        assert raw not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert 'href="x%22%3E%3Cscript%3Ealert%281%29%3Cscript%3E/staff.html"' in page


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian package 'chromium')"
)
@pytest.mark.parametrize("width", [375, 1280])
def test_the_summary_fits_a_phone_and_a_desktop(graded, tmp_path, width):
    out, rows = graded
    long_id = "a_student_with_a_very_long_submission_name_from_the_lms_download_" * 2
    rows.append(grade_into(out, long_id, [outcome("1.1", 1, "failed", "transposed")], "graded"))
    page = render_summary(summarize(out, rows, "layers"))
    found = measure(page, width, tmp_path / "chromium")
    assert found["client"] == width
    assert found["scroll"] <= found["client"], found
    assert found["overflowing"] == [], found["overflowing"]
    cell = found["boxes"]["stacked"][2]  # a table cell: a line of its own on a phone
    assert cell > 0.8 * width if width < 600 else cell < 0.5 * width
