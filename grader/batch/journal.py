"""journal.jsonl: one line per finished submission, fsynced, so a batch
killed at any moment resumes where it stopped."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from grader.batch.records import JOURNAL, Row


def read_journal(out: Path) -> dict[str, Row]:
    """Finished submissions; a torn last line (kill -9 mid-write) is ignored."""
    rows: dict[str, Row] = {}
    path = out / JOURNAL
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            row = Row(**data)
        except (ValueError, TypeError):
            continue
        if (out / row.id / "results.json").exists():
            rows[row.id] = row
    return rows


def append_journal(out: Path, row: Row) -> None:
    """One line per finished submission, flushed to disk before moving on."""
    path = out / JOURNAL
    torn = False
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"  # a write cut short by kill -9
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if torn else "") + json.dumps(asdict(row)) + "\n")
        f.flush()
        os.fsync(f.fileno())
