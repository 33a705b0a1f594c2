"""A Jupyter notebook as Python code, cell by cell.

Each code cell goes through IPython's own input transformer
(``IPython.core.inputtransformer2.TransformerManager``, the one Jupyter runs
before executing a cell), so ``%magics``, ``%%cell magics``, ``!shell`` lines,
``x = !ls`` and ``np.dot?`` become ordinary Python calls to ``get_ipython()``
that placement can leave out. The body of a cell magic that runs Python
(``%%time``, ``%%timeit``, ``%%capture``, ``%%writefile x.py``, ...) is code
of the student's and is kept as a cell of its own.

Notebooks are read leniently (nbformat 4 and 3 alike, without schema
validation): a hand-edited notebook with a missing ``metadata`` key still
has its code read.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

# cell magics whose body is Python run in the kernel
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "writefile"})


class NotebookError(Exception):
    """A notebook that cannot be read; the message says why."""


@dataclass(frozen=True)
class Cell:
    """One code cell, already plain Python (magics turned into calls)."""

    number: int  # 1-based, counting code cells only
    source: str


def code_cells(data: bytes) -> list[Cell]:
    """The code cells of a notebook file as Python source."""
    if not data.strip():
        raise NotebookError(
            "the notebook is empty (0 bytes)" if not data else "the notebook is blank"
        )
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError("the notebook is not UTF-8 text") from None
    except ValueError as exc:
        raise NotebookError(f"the notebook is not valid JSON (cut short? {exc})") from None
    sources = _sources(notebook)
    from IPython.core import inputtransformer2

    manager: Any = inputtransformer2.TransformerManager()  # type: ignore[no-untyped-call]
    cells: list[Cell] = []
    for number, source in enumerate(sources, start=1):
        for code in _python_of(manager, source):
            cells.append(Cell(number, code))
    return cells


def _sources(notebook: Any) -> list[str]:
    if not isinstance(notebook, dict):
        raise NotebookError("the file is JSON but not a Jupyter notebook")
    if isinstance(notebook.get("cells"), list):  # nbformat 4
        raw = [
            (c.get("cell_type"), c.get("source")) for c in notebook["cells"] if isinstance(c, dict)
        ]
    elif isinstance(notebook.get("worksheets"), list):  # nbformat 3
        raw = [
            (c.get("cell_type"), c.get("input"))
            for sheet in notebook["worksheets"]
            if isinstance(sheet, dict)
            for c in sheet.get("cells", [])
            if isinstance(c, dict)
        ]
    else:
        raise NotebookError("the file is JSON but not a Jupyter notebook (it has no cells)")
    sources = []
    for kind, source in raw:
        if kind != "code":
            continue
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        sources.append(source if isinstance(source, str) else "")
    return sources


def _python_of(manager: Any, source: str) -> list[str]:
    """A cell's source as Python: the transformed cell, and the bodies of any
    cell magic that runs Python."""
    try:
        code = str(manager.transform_cell(source))
    except Exception:  # the transformer gave up: leave the text to the parser
        return [source]
    body = _python_cell_magic_body(code)
    if body is not None:
        return _python_of(manager, body)
    return [code]


def _python_cell_magic_body(code: str) -> str | None:
    """The body of ``get_ipython().run_cell_magic('time', '', body)`` when the
    magic runs Python (``%%writefile`` only for a ``.py`` file)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
    ):
        return None
    name, line, body = (a.value for a in call.args if isinstance(a, ast.Constant))
    if name not in PYTHON_CELL_MAGICS:
        return None
    if name == "writefile" and not str(line).strip().endswith(".py"):
        return None
    return str(body)
