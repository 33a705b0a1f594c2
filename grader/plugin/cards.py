"""What ``grader.notebook.check`` shows: a task's card, or the scoreboard of
every task. Each is an object that Jupyter shows as HTML (``_repr_html_``)
and a terminal as plain text (``repr``); both are read from a graded session
(the plugin's results dict) and escape every string in it."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from html import escape
from typing import Any

from grader.plugin.coverage import Coverage
from grader.plugin.scoreboard import diagnoses, render, wrap

COLOURS = {
    "passed": "#1a7f37",
    "partial": "#9a6700",
    "failed": "#cf222e",
    "error": "#cf222e",
    "not attempted": "#9a6700",
    "skipped": "#6e7781",
}
BOX = (
    "font-family: system-ui, sans-serif; font-size: 14px; border: 1px solid #d0d7de; "
    "border-left: 4px solid {colour}; border-radius: 6px; padding: 8px 12px; margin: 4px 0; "
    "max-width: 62em"
)
OUTPUT_LIMIT = 2000  # characters of a test's printed output shown in its card


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "#6e7781")
    return (
        f'<span style="color: {colour}; border: 1px solid {colour}; border-radius: 10px; '
        f'padding: 0 8px; font-size: 12px; white-space: nowrap">{escape(status)}</span>'
    )


def _points(row: Mapping[str, Any]) -> str:
    return f"{row['score']:g}/{row['max_score']:g}"


def _details(test: Mapping[str, Any]) -> list[str]:
    """The test's message, then per wrong gradient its worst element."""
    if test.get("hidden"):
        return ["hidden test: only its status is shown"] if test["status"] != "passed" else []
    if test["status"] == "passed":
        return []
    lines = [str(test["message"])]
    diagnosis = test.get("diagnosis") or {}
    if diagnosis.get("message") and diagnosis["message"] not in lines[0]:
        lines.append(str(diagnosis["message"]))
    for check in test.get("checks") or []:
        for tensor in check.get("tensors") or []:
            worst = tensor.get("worst") or []
            if tensor.get("status") != "failed" or not worst:
                continue
            w = worst[0]
            lines.append(
                f"{tensor['name']}: worst at {list(w['index'])}: expected "
                f"{_number(w['expected'])}, got {_number(w['got'])}"
            )
    return lines


def _number(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) else "non-finite"


class TaskCard:
    """One task: its points and status, and what each of its tests found."""

    def __init__(self, results: Mapping[str, Any], task: str) -> None:
        rows = [row for row in results["tasks"] if row["id"] == task]
        if not rows:
            raise KeyError(f"no task {task!r} in these results")
        self.row = rows[0]
        self.tests = [t for t in results["tests"] if t["task"] == task]

    @property
    def status(self) -> str:
        return str(self.row["status"])

    @property
    def score(self) -> float:
        return float(self.row["score"])

    def __repr__(self) -> str:
        width = _width()
        head = f"Task {self.row['id']} {self.row['name']}: {_points(self.row)} {self.status}"
        lines = wrap(head, width)
        for test in self.tests:
            lines += wrap(f"  {test['name']}: {test['status']}", width)
            for detail in _details(test):
                lines += wrap(f"    {detail}", width)
            if test["status"] != "passed" and str(test.get("stdout") or "").strip():
                lines.append("    printed:")
                for printed in str(test["stdout"])[:OUTPUT_LIMIT].rstrip().splitlines():
                    lines += wrap(f"      {printed}", width)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = COLOURS.get(self.status, "#6e7781")
        parts = [
            f'<div style="{BOX.format(colour=colour)}">',
            '<div style="display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap">',
            f"<strong>Task {escape(str(self.row['id']))}</strong>",
            f"<code>{escape(str(self.row['name']))}</code>",
            f'<span style="margin-left: auto">{escape(_points(self.row))} points</span>',
            _badge(self.status),
            "</div>",
        ]
        for test in self.tests:
            parts.append('<div style="margin-top: 6px">')
            parts.append(f"{_badge(str(test['status']))} <code>{escape(str(test['name']))}</code>")
            line = '<div style="white-space: pre-wrap; margin: 2px 0 0 1em">{}</div>'
            parts += [line.format(escape(detail)) for detail in _details(test)]
            printed = str(test.get("stdout") or "")
            if test["status"] != "passed" and printed.strip():
                parts.append(
                    '<details style="margin-left: 1em"><summary>printed output</summary>'
                    f'<pre style="white-space: pre-wrap">{escape(printed[:OUTPUT_LIMIT])}</pre>'
                    "</details>"
                )
            parts.append("</div>")
        parts.append("</div>")
        return "".join(parts)


class Scoreboard:
    """Every task of a run: the rich table, then each unfinished task's
    diagnosis; the total only when every task ran."""

    def __init__(self, results: Mapping[str, Any]) -> None:
        self.results = results
        self.coverage = Coverage.from_results(results)

    @property
    def score(self) -> float:
        return float(self.results["score"])

    @property
    def max_score(self) -> float:
        return float(self.results["max_score"])

    def __repr__(self) -> str:
        width = _width()
        lines = [render(self.results, width=width, color=False)]
        lines += diagnoses(self.results, width=width)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cell = 'style="text-align: {align}; padding: 2px 10px; vertical-align: top"'
        left, right = cell.format(align="left"), cell.format(align="right")
        rows = [
            f"<tr><th {left}>Task</th><th {left}>Name</th><th {right}>Points</th>"
            f"<th {left}>Status</th><th {left}>Diagnosis</th></tr>"
        ]
        for row in self.results["tasks"]:
            message = "" if row["status"] == "passed" else str(row["message"])
            rows.append(
                f"<tr><td {left}>{escape(str(row['id']))}</td>"
                f"<td {left}><code>{escape(str(row['name']))}</code></td>"
                f"<td {right}>{escape(_points(row))}</td><td {left}>{_badge(row['status'])}</td>"
                f"<td {left}>{escape(message)}</td></tr>"
            )
        partial = self.coverage is not None and self.coverage.partial
        if self.coverage is not None and partial:
            foot = f"<p>{escape(self.coverage.sentence())}</p>"
        else:
            rows.append(
                f"<tr><th {left}>Total</th><td></td>"
                f"<th {right}>{escape(_points(self.results))}</th><td></td><td></td></tr>"
            )
            foot = ""
        colour = COLOURS["passed" if self.score == self.max_score else "partial"]
        return (
            f'<div style="{BOX.format(colour=colour)}">'
            f'<table style="border-collapse: collapse">{"".join(rows)}</table>{foot}</div>'
        )
