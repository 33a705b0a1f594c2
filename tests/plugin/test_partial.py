"""A run of only some tasks says so, in the scoreboard and in report.html, and
shows no total as if it were the homework's score."""

from __future__ import annotations

import pytest
from handouts import words

from grader.plugin.coverage import Coverage, measure

PARTIAL = "This run covered {} of 5 tasks ({}): no total score."


def report_of(homework):
    return (homework.path / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "ran", "why"),
    [
        (("-k", "tanh"), 1, "-k tanh"),
        (("--grader-tasks=1.1,1.3",), 2, "--grader-tasks=1.1,1.3"),
        (("-x",), 1, "-x"),
        (("-m", "not task"), 0, "-m not task"),
        (("test_homework.py::test_relu",), 1, "test ids on the command line"),
    ],
)
def test_a_partial_run_says_how_many_tasks_it_covered(homework, args, ran, why):
    result = homework.runpytest("--grader-report=report.html", *args)
    out = words(result.stdout.str())
    if ran == 0:  # nothing graded ran: no scoreboard at all, and no report
        assert "backprop-grader: demo" not in out
        assert not (homework.path / "report.html").exists()
        return
    assert PARTIAL.format(ran, why) in out
    assert "Total" not in out
    page = report_of(homework)
    assert "Partial run" in page and f"This run covered {ran} of 5 tasks" in page
    assert 'class="score-value"' not in page


def test_a_full_run_shows_its_total(homework):
    result = homework.runpytest("--grader-report=report.html")
    result.stdout.fnmatch_lines(["Total*3/9"])
    assert "This run covered" not in result.stdout.str()
    page = report_of(homework)
    assert "Partial run" not in page and 'class="score-value"' in page


def test_last_failed_that_skips_a_whole_file_is_partial(pytester):
    pytester.makepyfile(
        test_a="""
import pytest
@pytest.mark.task("1.1", points=1)
def test_a(student):
    assert False
""",
        test_b="""
import pytest
@pytest.mark.task("2.1", points=1)
def test_b(student):
    pass
""",
    )
    pytester.makeini("[pytest]\ngrader_assignment = two\n")
    pytester.runpytest()
    again = pytester.runpytest("--lf")
    again.assert_outcomes(failed=1)
    assert "This run covered 1 of at least 1 task (--lf)" in words(again.stdout.str())
    assert "Total" not in again.stdout.str()


def test_xdist_workers_report_the_tasks_they_collected(homework):
    result = homework.runpytest_subprocess("-n", "2", "-k", "tanh or linear")
    assert PARTIAL.format(2, "-k tanh or linear") in words(result.stdout.str())


def test_coverage_counts_a_task_run_only_when_all_its_tests_ran():
    known = {"a::one": "1.1", "a::two": "1.1", "a::three": "1.2"}
    half = measure(known, [("a::one", "1.1"), ("a::three", "1.2")], ["-k one or three"])
    assert (half.ran, half.total, half.partial) == (1, 2, True)
    whole = measure(known, [(n, t) for n, t in known.items()], [])
    assert (whole.ran, whole.total, whole.partial) == (2, 2, False)
    assert Coverage.from_results({"coverage": half.to_dict()}) == half
    assert Coverage.from_results({"coverage": {"ran": "x"}}) is None
