"""Class-level outputs: ``gradebook.csv`` (plain or Canvas layout) and
``summary.html``. Both stream the per-submission ``results.json`` files one
at a time, so memory stays flat in the size of the class."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from grader.batch import canvas as canvas_csv
from grader.batch.printable import csv_cell
from grader.batch.records import GRADEBOOK, SUMMARY, Row
from grader.batch.roster import Roster, assignment_column
from grader.results.gradescope import diagnosis_code_of, status_of


class RowLike(Protocol):
    id: str
    score: float
    max_score: float
    status: str
    origin: str


R = TypeVar("R", bound=RowLike)


def _results(out: Path, rows: Sequence[R]) -> Iterator[tuple[R, dict[str, Any]]]:
    for row in rows:
        path = out / row.id / "results.json"
        try:
            yield row, json.loads(path.read_text())
        except (OSError, ValueError):
            yield row, {"tests": [], "score": row.score, "max_score": row.max_score}


def _columns(out: Path, rows: Sequence[RowLike]) -> tuple[list[str], list[str]]:
    """Task and test column names, in first-seen order."""
    tasks: dict[str, None] = {}
    tests: dict[str, None] = {}
    for _, data in _results(out, rows):
        for test in data.get("tests", []):
            tasks.setdefault(f"task {test['number']}", None)
            tests.setdefault(test["name"], None)
    return list(tasks), list(tests)


def write_gradebook(
    out: Path,
    rows: Sequence[Row],
    assignment: str,
    *,
    canvas: bool = False,
    roster: Roster | None = None,
    column: str = "",
) -> list[str]:
    """gradebook.csv for ``rows`` (every submission graded into ``out``):
    submission, score, max_score, status (with the reason of an empty or
    unreadable submission), then per-task and per-test points. With
    ``canvas``, Canvas's import layout (see ``canvas``), students taken from
    ``roster`` when given. Returns warnings for the TA. Every text cell is
    printable (no control characters) and never read as a formula."""
    path = out / GRADEBOOK
    temporary = path.with_name(f".{GRADEBOOK}.tmp")
    warnings: list[str] = []
    if canvas:
        maximum = max((r.max_score for r in rows), default=0.0)
        header, guessed = assignment_column(roster, assignment, column)
        entries = roster.entries if roster is not None else []
        warnings = [guessed] if guessed else []
        warnings += canvas_csv.write_csv(temporary, rows, header, maximum, entries)
        os.replace(temporary, path)
        return warnings
    with open(temporary, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        task_columns, test_columns = _columns(out, rows)
        writer.writerow(
            [
                "submission",
                "score",
                "max_score",
                "status",
                *(csv_cell(c) for c in task_columns),
                *(csv_cell(c) for c in test_columns),
            ]
        )
        for row, data in _results(out, rows):
            per_task: dict[str, float] = {}
            per_test: dict[str, float] = {}
            for test in data.get("tests", []):
                key = f"task {test['number']}"
                per_task[key] = per_task.get(key, 0.0) + float(test["score"])
                per_test[test["name"]] = float(test["score"])
            writer.writerow(
                [
                    csv_cell(row.id),
                    f"{row.score:g}",
                    f"{row.max_score:g}",
                    csv_cell(row.status_text),
                    *(f"{per_task.get(c, 0.0):g}" for c in task_columns),
                    *(f"{per_test[c]:g}" if c in per_test else "" for c in test_columns),
                ]
            )
    os.replace(temporary, path)
    return warnings


def summarize(out: Path, rows: Sequence[RowLike], assignment: str) -> dict[str, Any]:
    """The class picture: score histogram, pass rate per test, and clusters of
    submissions sharing a diagnosis."""
    maximum = max((r.max_score for r in rows), default=0.0)
    bins = 10
    histogram = [0] * bins
    for row in rows:
        fraction = row.score / maximum if maximum else 0.0
        histogram[min(int(fraction * bins), bins - 1)] += 1
    passes: dict[str, list[int]] = {}
    clusters: dict[tuple[str, str, str], list[str]] = {}
    for row, data in _results(out, rows):
        for test in data.get("tests", []):
            counts = passes.setdefault(test["name"], [0, 0])
            counts[1] += 1
            passed = status_of(test) == "passed"
            counts[0] += passed
            code = diagnosis_code_of(test)
            if not passed and code is not None:
                key = (str(test["number"]), test["name"].split(":")[0], code)
                members = clusters.setdefault(key, [])
                if row.id not in members:
                    members.append(row.id)
    return {
        "assignment": assignment,
        "count": len(rows),
        "max_score": maximum,
        "mean": sum(r.score for r in rows) / len(rows) if rows else 0.0,
        "histogram": histogram,
        "items": [
            {"test": name, "passed": p, "total": t, "rate": p / t if t else 0.0}
            for name, (p, t) in passes.items()
        ],
        "clusters": sorted(
            (
                {"task": task, "test": test, "diagnosis": code, "submissions": members}
                for (task, test, code), members in clusters.items()
            ),
            key=lambda c: (-len(c["submissions"]), c["task"]),
        ),
        "statuses": dict(Counter(r.status for r in rows)),
    }


def write_summary(out: Path, rows: Sequence[RowLike], assignment: str) -> Path:
    from grader.report.summary import render_summary

    path = out / SUMMARY
    temporary = path.with_name(f".{SUMMARY}.tmp")
    temporary.write_text(render_summary(summarize(out, rows, assignment)), encoding="utf-8")
    os.replace(temporary, path)
    return path
