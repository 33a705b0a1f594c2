"""The class summary page: score histogram, item analysis, and clusters of
submissions sharing a diagnosis, each linking to its report."""

from __future__ import annotations

from typing import Any

from grader.gradcheck.codes import words_for
from grader.report.charts import histogram
from grader.report.render import environment


def render_summary(summary: dict[str, Any]) -> str:
    """summary.html from ``batch.gradebook.summarize``'s data (autoescaped)."""
    clusters = [{**c, "words": words_for(c["diagnosis"])} for c in summary["clusters"]]
    chart = histogram(summary["histogram"], summary["max_score"])
    return (
        environment().get_template("summary.html").render(s=summary, chart=chart, clusters=clusters)
    )
