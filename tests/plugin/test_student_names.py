"""A submission that does not import is named by the student's own file and
line, never by the internal names we import it under (``_submission_0.losses``)."""

from __future__ import annotations

import pytest
from handouts import words

TEST = """
import pytest

@pytest.mark.task("1.1", points=1, name="fit")
def test_fit(student):
    student.regression.fit()
"""


@pytest.fixture
def package(pytester):
    """A homework package hw/ with regression.py, graded by test_hw.py."""
    pytester.makeini("[pytest]\ngrader_submission = hw\ngrader_assignment = demo\n")
    pytester.mkdir("hw")
    (pytester.path / "hw" / "__init__.py").write_text("")
    pytester.makepyfile(test_hw=TEST)
    return pytester


def write(pytester, name, text):
    (pytester.path / "hw" / name).write_text(text)


def said(result) -> str:
    out = words(result.stdout.str())
    assert "_submission_" not in out, out
    return out


def test_a_missing_module_of_the_submission(package):
    filler = "\n" * 9
    write(package, "regression.py", f"{filler}from .losses import sum_squares\n\ndef fit(): pass\n")
    out = said(package.runpytest())
    assert "regression.py:10 imports losses, but the submission has no losses.py" in out
    assert "(it has regression.py): `from .losses import sum_squares`" in out


def test_a_missing_name_in_another_module(package):
    write(package, "losses.py", "def other(): pass\n")
    write(package, "regression.py", "from .losses import sum_squares\n\ndef fit(): pass\n")
    out = said(package.runpytest())
    assert "regression.py:1: ImportError: cannot import name 'sum_squares' from 'losses'" in out


def test_a_syntax_error_at_its_line(package):
    body = "".join(f"x{i} = {i}\n" for i in range(33)) + "def fit(:\n    pass\n"
    write(package, "regression.py", body)
    out = said(package.runpytest())
    assert "regression.py:34: SyntaxError:" in out and "`def fit(:`" in out


def test_an_error_while_importing(package):
    write(package, "regression.py", "import math\n\nscale = np.ones(3)\n\ndef fit(): pass\n")
    out = said(package.runpytest())
    assert (
        "regression.py:3: NameError: name 'np' is not defined, while importing regression.py: "
        "`scale = np.ones(3)`" in out
    )


def test_a_package_that_is_not_installed(package):
    write(package, "regression.py", "import torchy_not_here\n\ndef fit(): pass\n")
    out = said(package.runpytest())
    assert "regression.py:1 imports torchy_not_here, which is not installed" in out


def test_an_attribute_error_names_the_students_module(package):
    write(package, "losses.py", "def loss(): return 1\n")
    write(package, "regression.py", "from . import losses\n\ndef fit():\n    losses.gone()\n")
    out = said(package.runpytest())
    assert "module 'losses' has no attribute 'gone'" in out
