"""The class summary page for the course staff: cards that say what they
count, the score histogram, every submission with a link to its staff page,
item analysis, and clusters of submissions sharing a diagnosis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from grader.gradcheck.codes import words_for
from grader.report.charts import histogram
from grader.report.render import environment

STAFF_PAGE = "staff.html"  # DIR/<id>/staff.html: everything, hidden tests included

# what each submission status of the gradebook means, in a few words and in a sentence
STATUSES: dict[str, tuple[str, str]] = {
    "passed": ("full marks", "every task passed"),
    "graded": ("some tasks not passed", "attempted, but at least one task lost points"),
    "not attempted": ("nothing attempted", "every task is still the blank template"),
    "error": ("errors only", "every task ended in an error (a crash, a timeout)"),
    "problem": ("could not be graded", "the submission could not be read or run"),
}


@dataclass(frozen=True)
class Card:
    value: str
    label: str
    explain: str


@dataclass(frozen=True)
class SubmissionRow:
    id: str
    staff: str  # link to its staff page
    score: str
    percent: str
    status: str
    tasks: str
    top: str


@dataclass(frozen=True)
class Member:
    id: str
    staff: str


@dataclass(frozen=True)
class Cluster:
    count: int
    words: str
    code: str
    task: str
    members: list[Member]


def render_summary(summary: Mapping[str, Any]) -> str:
    """summary.html from ``batch.gradebook.summarize``'s data (autoescaped)."""
    chart = histogram(summary["histogram"], summary["max_score"])
    names = {c["task"]: c.get("task_name", "") for c in summary["clusters"]}
    return (
        environment()
        .get_template("summary.html")
        .render(
            s=summary,
            cards=cards(summary),
            chart=chart,
            rows=[_row(sub, names) for sub in summary.get("submissions", [])],
            clusters=[_cluster(c) for c in summary["clusters"]],
        )
    )


def cards(summary: Mapping[str, Any]) -> list[Card]:
    """The numbers at the top, each with the words that say what it counts."""
    count = int(summary["count"])
    out = [
        Card(str(count), "submissions", "graded into this folder, across all runs"),
        Card(
            f"{summary['mean']:.1f} / {summary['max_score']:g}",
            "mean score",
            f"points, averaged over the {count} submissions",
        ),
    ]
    for status, n in summary["statuses"].items():
        label, explain = STATUSES.get(status, (status, ""))
        out.append(Card(str(n), label, explain))
    return out


def staff_link(submission: str) -> str:
    """The relative link from summary.html to a submission's staff page."""
    return f"{quote(submission, safe='')}/{STAFF_PAGE}"


def _task_label(task: str, name: str) -> str:
    return f"Task {task} {name}".rstrip()


def _row(sub: Mapping[str, Any], names: Mapping[str, str]) -> SubmissionRow:
    score, most = float(sub["score"]), float(sub["max_score"])
    top = sub.get("top")
    words = ""
    if top:
        task = _task_label(top["task"], names.get(top["task"], ""))
        words = f"{words_for(top['diagnosis'])} in {task}"
    tasks = int(sub.get("tasks", 0))
    return SubmissionRow(
        id=sub["id"],
        staff=staff_link(sub["id"]),
        score=f"{score:g} / {most:g}",
        percent=f"{100 * score / most:.0f}%" if most else "–",
        status=STATUSES.get(sub["status"], (sub["status"], ""))[0],
        tasks=f"{sub.get('tasks_passed', 0)} of {tasks}" if tasks else "–",
        top=words,
    )


def _cluster(c: Mapping[str, Any]) -> Cluster:
    return Cluster(
        count=len(c["submissions"]),
        words=words_for(c["diagnosis"]),
        code=c["diagnosis"],
        task=_task_label(c["task"], c.get("task_name", "")),
        members=[Member(i, staff_link(i)) for i in c["submissions"]],
    )
