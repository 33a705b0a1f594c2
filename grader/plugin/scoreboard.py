"""The scoreboard printed at the end of a graded pytest run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDTH = 100


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def scoreboard(results: Mapping[str, Any]) -> list[str]:
    """One line per task: ID, name, points, status, diagnosis; then the total."""
    tasks = results["tasks"]
    name_width = max([len("task"), *(len(t["name"]) for t in tasks)])
    lines = [f"{'Task':<6} {'Name':<{name_width}} {'Points':>9}  {'Status':<14} Diagnosis"]
    for t in tasks:
        points = f"{t['score']:g}/{t['max_score']:g}"
        message = "" if t["status"] == "passed" else _short(t["message"], 70)
        lines.append(
            f"{t['id']:<6} {t['name']:<{name_width}} {points:>9}  {t['status']:<14} {message}"
        )
    total = f"{results['score']:g}/{results['max_score']:g}"
    lines.append(f"{'Total':<6} {'':<{name_width}} {total:>9}")
    return lines
