"""Canvas: the file names of its "Download Submissions" archive, and the
gradebook CSV in the layout its gradebook import reads.

Canvas names every file of a submission download
``{lastfirst}_{user id}_{submission id}_{original file name}``, with
``_LATE`` after the name when the submission was late (and a ``-1``, ``-2``
suffix on the original name when a student uploaded a file twice). All the
files of one student share the user id, which is also the ``ID`` column of
Canvas's gradebook.

The import layout is Canvas's own gradebook export: ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per
assignment named ``Assignment Name (assignment id)`` (a name without an id
makes Canvas create a new assignment), and a ``Points Possible`` row under
the header.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.batch.printable import csv_cell
from grader.batch.records import Row
from grader.batch.roster import RosterEntry

NAME = re.compile(
    r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$"
)
RESUBMITTED = re.compile(r"-\d+$")
IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


@dataclass(frozen=True)
class CanvasFile:
    """One file of a Canvas submission download, its name taken apart."""

    name: str  # lastfirst, as Canvas writes it
    user_id: str
    submission_id: str
    late: bool
    file: str  # the name the student uploaded


def parse(filename: str) -> CanvasFile | None:
    """The parts of a Canvas download file name, or None for any other name."""
    match = NAME.match(filename)
    if match is None:
        return None
    return CanvasFile(
        match["name"], match["user"], match["submission"], bool(match["late"]), match["file"]
    )


def original_name(uploaded: str, known: Iterable[str]) -> str:
    """``layers-1.py`` -> ``layers.py`` when ``layers.py`` is a known module:
    Canvas numbers a file a student uploaded again."""
    stem, dot, suffix = uploaded.rpartition(".")
    if not dot:
        return uploaded
    plain = f"{RESUBMITTED.sub('', stem)}.{suffix}"
    return plain if plain != uploaded and plain in set(known) else uploaded


def write_csv(
    path: Path,
    rows: Sequence[Row],
    column: str,
    max_score: float,
    roster: Sequence[RosterEntry] = (),
) -> list[str]:
    """Write the Canvas import CSV; returns warnings (rows Canvas cannot match)."""
    warnings: list[str] = []
    by_id = {r.lms_id: r for r in rows if r.lms_id}
    by_login = {r.id.casefold(): r for r in rows}
    used: set[str] = set()
    lines: list[list[str]] = []
    for entry in roster:
        row = by_id.get(entry.canvas_id) or next(
            (
                by_login[k.casefold()]
                for k in (entry.login_id, entry.sis_id)
                if k.casefold() in by_login
            ),
            None,
        )
        score = ""
        if row is not None:
            used.add(row.id)
            score = f"{row.score:g}"
        lines.append(
            [entry.name, entry.canvas_id, entry.sis_id, entry.login_id, entry.section, score]
        )
    unmatched = [r for r in rows if r.id not in used]
    for row in unmatched:
        lines.append([row.name or row.id, row.lms_id, "", "", "", f"{row.score:g}"])
    nameless = [r.id for r in unmatched if not r.lms_id]
    if roster and unmatched:
        warnings.append(
            f"{len(unmatched)} graded submissions are not in the roster "
            f"({', '.join(r.id for r in unmatched[:5])}); they are listed at the end"
        )
    if nameless:
        warnings.append(
            f"{len(nameless)} rows of the Canvas CSV have no Canvas ID, so Canvas cannot match "
            "them: grade Canvas downloads or pass --roster"
        )
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*IDENTITY, csv_cell(column)])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", f"{max_score:g}"])
        for line in lines:
            writer.writerow([*(csv_cell(c) for c in line[:-1]), line[-1]])
    return warnings
