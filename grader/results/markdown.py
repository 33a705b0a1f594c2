"""Markdown for Gradescope's ``output_format: "md"``: untrusted text made
literal, and the few constructs the results use (code spans, bold, lists).

Every message may carry text the student's code produced (an exception's
words, a function's name), so it is escaped: each ASCII punctuation mark that
Markdown or HTML could read as syntax is backslash-escaped (CommonMark renders
an escaped mark as itself), and line breaks become spaces, so a message can
neither start a list or a heading nor open a link, an image or a tag.
"""

from __future__ import annotations

import re

# what could start markup, a link (an autolink needs ":" or "www."), HTML,
# an entity or math
_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:$^])")
_SPACE = re.compile(r"\s+")


def literal(text: str, limit: int = 600) -> str:
    """``text`` as Markdown that renders exactly as ``text`` (on one line)."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return _SYNTAX.sub(r"\\\1", flat)


def code(text: str, limit: int = 120) -> str:
    """An inline code span that holds ``text`` whatever backticks it has."""
    flat = _SPACE.sub(" ", text).strip()[:limit]
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
