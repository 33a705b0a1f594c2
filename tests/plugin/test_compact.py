"""The student's terminal: the blank homework at 80 columns, a failure said
once in full, colour as the terminal asks, and pytest's own options."""

from __future__ import annotations

import re

import pytest
from handouts import TRANSPOSED, pytest_in, words

TASK_ROW = re.compile(r"^(\d+\.\d+)\s")
ANSI = "\x1b["


def test_blank_homework_fits_80_columns_in_at_most_40_lines(layers_handout):
    result = pytest_in(layers_handout)
    lines = result.stdout.splitlines()
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines) <= 40, result.stdout
    assert max(len(line) for line in lines) <= 80, result.stdout
    rows = [line for line in lines if TASK_ROW.match(line)]
    tasks = [TASK_ROW.match(row)[1] for row in rows]  # type: ignore[index]
    assert len(tasks) == 15 and len(set(tasks)) == 15
    assert all(row.endswith("not attempted") for row in rows)
    assert result.stdout.count("not attempted") == len(tasks)  # once per task, nowhere else
    assert "FAILURES" not in result.stdout and "short test summary" not in result.stdout
    assert "20 unattempted" in lines[-1]
    assert ANSI not in result.stdout  # a pipe asks for no colour


def test_colour_where_the_terminal_takes_it_and_never_with_no_color(layers_handout):
    forced = pytest_in(layers_handout, FORCE_COLOR="1")
    board = forced.stdout[forced.stdout.index("backprop-grader: layers") :]
    assert ANSI in board
    plain = pytest_in(layers_handout, FORCE_COLOR="1", NO_COLOR="1")
    assert ANSI not in plain.stdout
    # the colour codes add no width: the visible text still fits
    visible = re.sub(r"\x1b\[[0-9;]*m", "", forced.stdout)
    assert max(len(line) for line in visible.splitlines()) <= 80


def test_a_failure_is_said_once_in_full_and_wrapped(homework, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    result = homework.runpytest()
    out = result.stdout.str()
    ours = out[out.index("collected") :]  # pytest's own rootdir line holds a long tmp path
    assert max(len(line) for line in ours.splitlines()) <= 60, out
    assert words(out).count(TRANSPOSED) == 1
    assert "…" not in out and "..." not in out
    # an exception: its one line and the student's frames, once
    assert words(out).count("cannot reshape array of size 5 into shape (7,7)") == 1


def test_not_attempted_has_no_failures_block(homework):
    result = homework.runpytest("-k", "relu")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes() == {"deselected": 4, "unattempted": 1}
    out = result.stdout.str()
    assert "FAILURES" not in out and "test_relu _" not in out
    assert out.count("not attempted") == 1


def test_verbose_names_each_test(homework):
    result = homework.runpytest("-v")
    result.stdout.fnmatch_lines(
        ["*test_homework.py::test_linear FAILED*", "*test_homework.py::test_relu NOT ATTEMPTED*"]
    )


def test_r_and_tb_give_pytests_own_output(homework):
    every = homework.runpytest("-rA")
    every.assert_outcomes(passed=2, failed=3)  # pytest's own categories: -rA lists them all
    every.stdout.fnmatch_lines(
        ["*short test summary info*", "PASSED test_homework.py::test_tanh*", "FAILED *test_relu*"],
        consecutive=False,
    )
    long = homework.runpytest("--tb=long", "-k", "linear")
    long.stdout.fnmatch_lines(["*def test_linear(student, checker):*", "E *GradientCheckFailed*"])
    quiet = homework.runpytest("--tb=no")
    assert "FAILURES" not in quiet.stdout.str()
    quiet.stdout.fnmatch_lines(["1.1*linear_backward*0/3*failed", "Total*3/9"])
