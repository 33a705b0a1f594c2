"""The project's own promises: typed and lint-clean grader/, a wheel that
ships grader only (never reference solutions), a working CLI demo."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def typecheck_numpy() -> str:
    """The numpy requirement of the dev extra: the numpy grader/ is type-checked against."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'^\s*"(numpy[^"]*)",\s*$', text[text.index("dev = [") :], re.M)
    assert found, "the dev extra pins the numpy that mypy checks against"
    return found[1]


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy is a dev dependency")
def test_grader_is_mypy_strict_clean():
    """mypy's verdict depends on numpy's stubs, which change between numpy
    versions: it runs only with the numpy the project pins for type checking."""
    import numpy
    from packaging.requirements import Requirement

    pinned = Requirement(typecheck_numpy())
    if not pinned.specifier.contains(numpy.__version__):
        pytest.skip(f"type-checked against {pinned}; this Python has numpy {numpy.__version__}")
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is a dev dependency")
def test_grader_tests_and_examples_are_ruff_clean():
    result = run("ruff", "check", "grader", "tests", "examples", "bench", "reference")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_ships_grader_only_and_its_demo_runs_anywhere(tmp_path):
    """One wheel build (two tests building in the same checkout would race on
    build/): it holds grader only, never a solution, and ``grader demo`` runs
    from it with nothing of the checkout (the catalogue is in the wheel)."""
    result = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT))
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("backprop_grader-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("backprop_grader")}
    assert packages == {"grader"}
    assert "grader/py.typed" in names
    assert "grader/catalogue/catalogue.py" in names
    assert not any("reference" in name or "SOLUTION" in name for name in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import grader.catalogue; "
        "assert grader.catalogue.__file__.startswith(sys.argv[1]); "
        "from grader.cli import main; sys.exit(main(['demo']))"
    )
    demo = run(sys.executable, "-I", "-c", script, str(site), cwd=elsewhere)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr
    assert "0 unexpected" in demo.stdout


def test_cli_demo_checks_the_catalogue(tmp_path):
    out = tmp_path / "demo.json"
    result = run(sys.executable, "-m", "grader", "demo", "--json", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "0 unexpected" in result.stdout
    assert "dw has the right values but transposed" in result.stdout
    assert out.read_text().startswith("[")


def test_every_folder_of_grader_is_packaged():
    text = (ROOT / "pyproject.toml").read_text()
    block = text[text.index("packages = [") : text.index("]", text.index("packages = ["))]
    listed = set(re.findall(r'"(grader[a-z_.]*)"', block))
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grader").rglob("__init__.py")
    }
    assert folders | {"grader.catalogue"} == listed


def test_the_readme_lists_every_diagnosis_code():
    from grader import Code

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### What it names") : readme.index("### The result record")]
    missing = [c.value for c in Code if f"`{c.value}`" not in table]
    assert not missing
