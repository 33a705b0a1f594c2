"""Text from submissions made safe to show: what reaches the TA's terminal or
a CSV cell never carries control characters (escape sequences, carriage
returns, newlines, bidirectional overrides), and a CSV cell never starts
like a spreadsheet formula."""

from __future__ import annotations

import unicodedata

# bidirectional embeddings, overrides and isolates reorder what a terminal or
# a spreadsheet shows (a file name can display as something else)
BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_START = ("=", "+", "-", "@")


def printable(text: object) -> str:
    """``text`` on one line without control characters: each run of them
    becomes one space (so ``a\\nb`` stays two words) and the ends are trimmed."""
    out: list[str] = []
    gap = False
    for char in str(text):
        if char in BIDI or unicodedata.category(char) == "Cc":
            gap = True
            continue
        if gap and out:
            out.append(" ")
        gap = False
        out.append(char)
    return "".join(out).strip()


def csv_cell(text: object) -> str:
    """A text cell of a CSV file: printable, and never read as a formula by a
    spreadsheet (a leading ``=``, ``+``, ``-`` or ``@`` gets a quote mark),
    unless it is a number."""
    cell = printable(text)
    if cell.startswith(FORMULA_START) and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
