"""The class summary page: score histogram, item analysis, and clusters of
submissions sharing a diagnosis, each linking to its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)

CODE_WORDS = {
    "transposed": "gradient transposed",
    "sign_flip": "wrong sign",
    "missing_1_over_n": "missing 1/N",
    "extra_1_over_n": "divided by N twice",
    "missing_factor_2": "missing factor 2",
    "extra_factor_2": "extra factor 2",
    "reg_missing": "regularization gradient missing",
    "reg_doubled": "regularization gradient doubled",
    "modified_input": "input modified in place",
    "dout_ignored": "upstream gradient ignored",
    "not_attempted": "not attempted",
    "exception": "exception in student code",
    "unrecognised": "unrecognised mistake",
}


def _bars(histogram: list[int], maximum: float) -> list[dict[str, Any]]:
    tallest = max(histogram, default=0) or 1
    bins = len(histogram)
    return [
        {
            "x": 10 + i * 38,
            "height": 150 * count / tallest,
            "count": count,
            "label": f"{maximum * i / bins:g}–{maximum * (i + 1) / bins:g}",
        }
        for i, count in enumerate(histogram)
    ]


def render_summary(summary: dict[str, Any]) -> str:
    template = _ENV.get_template("summary.html")
    clusters = [
        {**c, "words": CODE_WORDS.get(c["diagnosis"], c["diagnosis"].replace("_", " "))}
        for c in summary["clusters"]
    ]
    return template.render(
        s=summary, bars=_bars(summary["histogram"], summary["max_score"]), clusters=clusters
    )
