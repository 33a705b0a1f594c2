"""The scoreboard of a graded run: one row per task (id, name, points,
status) in a rich table that fits the terminal's width, coloured where the
terminal takes colour, then the total, or, for a run that covered only some
tasks, how many it covered and no total."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.plugin.coverage import Coverage

STYLES = {
    "passed": "green",
    "partial": "yellow",
    "failed": "red",
    "error": "bold red",
    "not attempted": "yellow",
    "skipped": "dim",
}


def table(results: Mapping[str, Any]) -> Table:
    """The scoreboard as a rich table (the total as its footer on a full run)."""
    coverage = Coverage.from_results(results)
    full = coverage is None or not coverage.partial
    board = Table(
        box=box.SIMPLE,
        show_edge=False,
        pad_edge=False,
        show_footer=full,
        header_style="bold",
        footer_style="bold",
    )
    total = f"{results['score']:g}/{results['max_score']:g}"
    board.add_column("Task", footer="Total" if full else "", no_wrap=True)
    board.add_column("Name", overflow="fold", ratio=1)
    board.add_column("Points", footer=total if full else "", justify="right", no_wrap=True)
    board.add_column("Status", no_wrap=True)
    for task in results["tasks"]:
        style = STYLES.get(task["status"], "")
        board.add_row(
            task["id"],
            task["name"],
            f"{task['score']:g}/{task['max_score']:g}",
            Text(task["status"], style=style),
        )
    return board


def render(results: Mapping[str, Any], *, width: int, color: bool) -> str:
    """The scoreboard as terminal text no wider than ``width``: ANSI colours
    only when ``color``; a partial run says how much it covered."""
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        force_jupyter=False,  # text for the caller, never rich's own display in a notebook
    )
    console.print(table(results))
    coverage = Coverage.from_results(results)
    if coverage is not None and coverage.partial:
        console.print(Text(coverage.sentence(), style="yellow"))
    output = console.file
    assert isinstance(output, io.StringIO)
    return "\n".join(line.rstrip() for line in output.getvalue().rstrip("\n").splitlines())


def diagnoses(results: Mapping[str, Any], *, width: int) -> list[str]:
    """The message of every task that did not pass, in full, wrapped to
    ``width`` under its task id (the notebook's text view)."""
    lines: list[str] = []
    for task in results["tasks"]:
        if task["status"] in ("passed", "skipped") or not task["message"]:
            continue
        lines += wrap(f"{task['id']} {task['name']}: {task['message']}", width)
    return lines


def wrap(text: str, width: int) -> list[str]:
    """Every line of ``text`` wrapped to ``width`` (never cut): a continued
    line keeps its indent and two more spaces."""
    out: list[str] = []
    for line in text.splitlines() or [""]:
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(
            line,
            width=max(width, len(indent) + 12),
            subsequent_indent=indent + "  ",
            break_on_hyphens=False,
            drop_whitespace=True,
        )
    return out
