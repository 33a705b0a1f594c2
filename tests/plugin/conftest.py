from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from handouts import ROOT, SUBMISSION, TESTS


@pytest.fixture
def homework(pytester):
    pytester.makepyfile(homework=SUBMISSION, test_homework=TESTS)
    pytester.makeini("[pytest]\ngrader_assignment = demo\n")
    return pytester


@pytest.fixture
def layers_handout() -> Iterator[Path]:
    """The layers homework as a student gets it: the blank template, the public
    tests, README and pytest.ini (what ``grader release`` copies, without the
    wheel), in a folder with a short path, as a student's is (pytest's own
    rootdir line would not fit 80 columns with pytest's long tmp paths)."""
    with tempfile.TemporaryDirectory(prefix="hw") as folder:
        yield _copy_layers(Path(folder) / "layers")


def _copy_layers(handout: Path) -> Path:
    source = ROOT / "assignments" / "layers"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "report.html", ".pytest_cache")
    shutil.copytree(source / "layers", handout / "layers", ignore=ignore)
    shutil.copytree(source / "tests", handout / "tests", ignore=ignore)
    for name in ("README.md", "pytest.ini"):
        shutil.copy2(source / name, handout / name)
    return handout
