"""A class roster for the Canvas CSV (``--roster``): Canvas's own gradebook
export (Grades > Export), or any CSV with its identity columns (``Student``,
``ID``, and optionally ``SIS User ID``, ``SIS Login ID``, ``Section``)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from grader.batch.records import BatchError

ASSIGNMENT_COLUMN = re.compile(r"^(?P<title>.+) \((?P<id>\d+)\)$")


@dataclass(frozen=True)
class RosterEntry:
    name: str
    canvas_id: str
    sis_id: str = ""
    login_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    entries: list[RosterEntry]
    assignment_columns: list[str]  # "Name (id)" columns of a gradebook export


def read_roster(path: Path) -> Roster:
    """The students of ``path``, or a one-line BatchError naming what is wrong."""
    where = f"--roster {path}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BatchError(f"{where}: no such file; give the CSV exported from Canvas") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{where}: cannot be read ({exc}); save it as UTF-8 CSV") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing:
        raise BatchError(
            f"{where} has no {' or '.join(repr(c) for c in missing)} column; export the "
            "gradebook from Canvas (Grades > Export) and pass that file"
        )
    entries = []
    for raw in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        name, canvas_id = row.get("Student", ""), row.get("ID", "")
        if not canvas_id or name == "Points Possible" or name == "Student, Test":
            continue  # the points row and Canvas's test student
        entries.append(
            RosterEntry(
                name,
                canvas_id,
                row.get("SIS User ID", ""),
                row.get("SIS Login ID", ""),
                row.get("Section", ""),
            )
        )
    if not entries:
        raise BatchError(f"{where} lists no students; export the gradebook from Canvas")
    columns = [h for h in header if ASSIGNMENT_COLUMN.match(h)]
    return Roster(entries, columns)


def assignment_column(roster: Roster | None, assignment: str, given: str) -> tuple[str, str]:
    """The Canvas column to fill, and a warning when it had to be guessed:
    ``--canvas-assignment`` if given, else the roster's one "Name (id)"
    column naming the assignment, else the assignment's own name (Canvas then
    creates a new assignment)."""
    if given:
        return given, ""
    if roster is None:
        return assignment, ""
    matching = [c for c in roster.assignment_columns if assignment.casefold() in c.casefold()]
    if len(matching) == 1:
        return matching[0], ""
    shown = ", ".join(repr(c) for c in (matching or roster.assignment_columns)[:6])
    return assignment, (
        f"the roster's assignment columns ({shown or 'none'}) do not name {assignment!r} once; "
        f"the Canvas CSV fills a new column {assignment!r} (pass --canvas-assignment "
        "'NAME (ID)' to fill an existing one)"
    )
