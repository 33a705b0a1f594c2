"""Notebooks as a TA receives them: magics, shell lines, help syntax,
plotting, packages the sandbox does not offer, and one notebook filling
several template modules."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from grader.batch.grade import Course, Options, run
from grader.batch.notebook import NotebookError, code_cells
from grader.batch.placement import place
from grader.batch.standins import offered, rewrite_source

ROOT = Path(__file__).parents[2]
COURSE = Path(__file__).parent / "course"
MINI = (COURSE / "reference" / "mini" / "mini.py").read_text()
LAYERS = ROOT / "reference" / "layers"
TEMPLATE = {p.name: p.read_text() for p in (ROOT / "assignments/layers/layers").glob("*.py")}


def quiet(_: str) -> None:
    pass


def notebook(*cells: str) -> bytes:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "source": c} for c in cells]
            + [{"cell_type": "markdown", "source": "# not code"}],
            "nbformat": 4,
        }
    ).encode()


def function(path: Path, name: str) -> str:
    source = path.read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return str(ast.get_source_segment(source, node))
    raise LookupError(name)


def test_magics_shell_lines_help_and_plotting_do_not_cost_points(tmp_path):
    data = notebook(
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
        "import seaborn as sns\nfrom tqdm import tqdm",
        "%%bash\nls -la\n",
        "files = !ls\n!pip install torch\nnp.dot?\n??np.sum",
        MINI,
        "def show(losses):\n    fig, ax = plt.subplots()\n    ax.plot(losses)\n    plt.show()\n"
        "    for _ in tqdm(range(3)):\n        pass\n    return 'shown'",
        "plt.plot([1, 2, 3])\nplt.title('loss')\nplt.show()\nshow([1, 2])",
        "%%time\nEPS = 1e-8",
    )
    (tmp_path / "nina.ipynb").write_bytes(data)
    rows = run(
        [tmp_path / "nina.ipynb"], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet
    )
    assert rows[0].score == 6 and rows[0].status == "passed", rows[0]
    notes = " | ".join(rows[0].notes)
    assert "matplotlib.pyplot is not available when grading; its uses do nothing" in notes
    assert "top-level statements (plots, prints, experiments) left out" in notes


def test_one_notebook_fills_two_template_modules(tmp_path):
    """linear_backward belongs to layers.py, softmax_loss_backward to
    losses.py: both are graded, neither reads "not attempted"."""
    data = notebook(
        "import numpy as np\nimport matplotlib.pyplot as plt",
        function(LAYERS / "layers.py", "linear_backward"),
        "%%time\n" + function(LAYERS / "losses.py", "softmax_loss_backward"),
        "plt.plot([0.5, 0.25])",
    )
    (tmp_path / "omar.ipynb").write_bytes(data)
    out = tmp_path / "out"
    run([tmp_path / "omar.ipynb"], Course(ROOT, "layers"), out, Options(), log=quiet)
    tasks = json.loads((out / "omar" / "results.json").read_text())["extra_data"]
    status = {t["id"]: t["status"] for t in tasks["backprop_grader"]["tasks"]}
    assert status["1.1"] == "passed" and status["1.6"] == "passed", status
    assert status["1.2"] == "not attempted"


def test_placement_keeps_definitions_imports_and_constants_in_place(monkeypatch):
    data = notebook(
        "from layers.losses import sum_squares_loss\nfrom layers.layers import relu_forward\n"
        "SCALE = 2.0\nTABLE = {'relu': relu_forward}",
        "def relu_backward(dout, cache):\n    return dout * (cache > 0) * SCALE / 2",
        "def relu_backward(dout, cache):\n    return dout * (cache > 0)",  # run again: wins
        "result = relu_backward(1, 2)\nprint(result)",
    )
    placed = place({"work.ipynb": data}, TEMPLATE, "layers")
    layers = placed.modules["layers.py"]
    tree = ast.parse(layers)
    defs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert defs.count("relu_backward") == 1
    assert defs.index("relu_backward") == defs.index("relu_forward") + 1  # in place
    assert "return dout * (cache > 0)\n" in layers and "SCALE / 2" not in layers
    assert "from losses import sum_squares_loss" in layers
    assert "from layers import relu_forward" not in layers  # its own module
    assert "TABLE = {'relu': relu_forward}" in layers.split("def relu_backward")[-1]
    assert "print(result)" not in layers
    assert placed.modules["losses.py"] == TEMPLATE["losses.py"]
    monkeypatch.syspath_prepend(str(ROOT / "assignments/layers/layers"))  # as the sandbox does
    namespace: dict[str, object] = {}
    exec(compile(layers, "layers.py", "exec"), namespace)


def test_a_cell_that_does_not_parse_names_the_syntax_error_for_its_task():
    data = notebook("def relu_backward(dout, cache)\n    return dout", "x = (")
    placed = place({"broken.ipynb": data}, TEMPLATE, "layers")
    namespace: dict[str, object] = {}
    exec(compile(placed.modules["layers.py"], "layers.py", "exec"), namespace)
    relu_backward = namespace["relu_backward"]
    assert callable(relu_backward)
    with pytest.raises(SyntaxError, match=re.escape("broken.ipynb cell 1 does not parse")):
        relu_backward(1, 2)
    assert any("cell 2 does not parse" in n for n in placed.notes)


def test_a_notebook_of_other_code_is_an_empty_submission(tmp_path):
    (tmp_path / "pat.ipynb").write_bytes(notebook("print('hello')", "def unrelated():\n    pass"))
    rows = run(
        [tmp_path / "pat.ipynb"], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet
    )
    assert rows[0].status == "empty submission" and rows[0].score == 0
    assert "pat.ipynb defines none of the assignment's functions; ignored" in rows[0].notes


def test_unavailable_top_level_imports_of_a_module_file_keep_their_line_numbers():
    source = (
        "from __future__ import annotations\nimport numpy as np\n"
        "import matplotlib.pyplot as plt\nfrom sklearn_extra import (\n    thing,\n)\n"
        "def f():\n    import torch\n    return 1\n"
    )
    offer = offered(TEMPLATE, "layers")
    text, missing = rewrite_source(source, offer, "layers")
    assert missing == ["matplotlib.pyplot", "sklearn_extra"]
    assert len(text.splitlines()) == len(source.splitlines())
    assert text.splitlines()[6:] == source.splitlines()[6:]  # nested imports untouched
    namespace: dict[str, object] = {}
    exec(compile(text, "layers.py", "exec"), namespace)
    plt = namespace["plt"]
    fig, ax = plt.subplots()  # type: ignore[operator]
    ax.plot([1, 2])
    assert list(plt.tqdm(range(3))) == [0, 1, 2]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty (0 bytes)"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2]", "not a Jupyter notebook"),
        (b'{"metadata": {}}', "no cells"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_unreadable_notebooks_say_why(data, reason):
    with pytest.raises(NotebookError, match=re.escape(reason)):
        code_cells(data)


def test_nbformat_3_and_list_sources_are_read():
    v3 = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1"}]}]}
    assert [c.source.strip() for c in code_cells(json.dumps(v3).encode())] == ["x = 1"]
    v4 = {"nbformat": 4, "cells": [{"cell_type": "code", "source": ["y = 1\n", "z = 2"]}]}
    assert code_cells(json.dumps(v4).encode())[0].source.strip() == "y = 1\nz = 2"
