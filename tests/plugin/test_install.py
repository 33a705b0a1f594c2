"""A handout installs from itself: the grader's wheel is in it, and the one
command of INSTALL.md, run in a fresh virtual environment, gives a working
``pytest`` (numpy and the rest come from the package index)."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from handouts import ROOT, student_env

from grader.course.release import release


def install_command(handout: Path) -> str:
    lines = (handout / "INSTALL.md").read_text().splitlines()
    commands = [line.strip() for line in lines if line.strip().startswith("python3 -m venv")]
    assert len(commands) == 1, lines
    return commands[0]


def shell(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("assignment", ["layers", "moons"])
def test_the_handout_holds_the_wheel_that_install_md_names(assignment, tmp_path):
    handout = tmp_path / assignment
    release(assignment, handout, ROOT / "assignments", ROOT / "reference", force=False)
    wheels = list(handout.glob("backprop_grader-*.whl"))
    assert len(wheels) == 1
    command = install_command(handout)
    assert f"pip install ./{wheels[0].name}" in command
    assert ("-r requirements.txt" in command) == (handout / "requirements.txt").exists()
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "grader/notebook.py" in names and not any("reference" in n for n in names)


def test_install_md_installs_a_working_grader_in_a_fresh_environment(tmp_path):
    handout = tmp_path / "layers"
    release("layers", handout, ROOT / "assignments", ROOT / "reference", force=False)
    installed = shell(install_command(handout), handout)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    where = shell(".venv/bin/python -c 'import grader; print(grader.__file__)'", handout)
    assert where.stdout.startswith(str(handout / ".venv")), where.stdout + where.stderr

    result = shell(". .venv/bin/activate && pytest -p no:cacheprovider", handout)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if re.match(r"^1\.\d+\s", line)]
    assert len(rows) == 15 and all(row.endswith("not attempted") for row in rows)
    assert (handout / "report.html").is_file()

    # that grader, installed from a wheel, packs the same wheel again for its own handouts
    # (the wheel lives as long as the process that made it: list it from there)
    repacked = shell(
        f"{handout / '.venv/bin/python'} -c "
        "'import zipfile; from grader.course.wheel import grader_wheel; "
        "print(\"\\n\".join(zipfile.ZipFile(grader_wheel()).namelist()))'",
        tmp_path,
    )
    assert repacked.returncode == 0, repacked.stderr
    again = repacked.stdout.split()
    original = zipfile.ZipFile(next(handout.glob("*.whl"))).namelist()
    assert sorted(again) == sorted(original)
