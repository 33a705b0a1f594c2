"""Build a student handout from an assignment: the template package, the
public tests, the student README and how to install the grader. Never the
reference, never the hidden tests, never a line of a solution."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.course import templates
from grader.course.wheel import WheelError, grader_wheel

INSTALL = """# Installing the grader

This homework is graded by backprop-grader, a pytest plugin. Its wheel is in
this folder; pip takes numpy and the rest from the package index. With Python
3.10 to 3.13, in this folder:

    {command}

On Windows, activate with `.venv\\Scripts\\activate` instead of
`. .venv/bin/activate`. Working in Jupyter? Install the `notebook` extra, which
brings JupyterLab and a kernel for this environment:

    pip install "./{wheel}[notebook]"

Then run `pytest` in this folder. Every task starts as "not attempted"; fill in
each blank (it raises NotImplementedError naming its task, e.g. "Task 1.1"),
run `pytest` again, and open `report.html` for the details of what is still
wrong. In a notebook, `from grader.notebook import check` and `check("1.2")`
check one task, `check()` all of them (see README.md).
"""


def install_command(wheel: str, requirements: bool) -> str:
    """The one command of INSTALL.md: a virtual environment, the grader's wheel
    from the handout, the homework's own requirements from the package index."""
    extra = " -r requirements.txt" if requirements else ""
    return f"python3 -m venv .venv && . .venv/bin/activate && pip install ./{wheel}{extra}"


class ReleaseError(Exception):
    """The assignment cannot be released as it is."""


def solution_lines(reference: Path) -> set[str]:
    """Every non-trivial line that only a solution block of the reference
    contains (a line that the given code has too is no secret)."""
    inside, outside = set(), set()
    for path in reference.glob("*.py"):
        source = path.read_text()
        text = source.splitlines()
        for begin, end, _ in templates.blocks(source, str(path)):
            inside |= {line.strip() for line in text[begin : end - 1]}
        outside |= {line.strip() for line in templates.strip(source, str(path)).splitlines()}
    return {line for line in inside - outside if len(line) > 12 and not line.startswith("#")}


def leaks(handout: Path, reference: Path) -> list[str]:
    """Lines of the handout that appear in a reference solution block."""
    secret = solution_lines(reference)
    found = []
    for path in sorted(handout.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() in secret:
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def release(
    name: str,
    out: Path,
    assignments: Path,
    reference: Path,
    force: bool,
    *,
    wheel: Path | None = None,
) -> list[Path]:
    """Write the handout of assignment ``name`` into ``out``, with the grader's
    wheel (``wheel``, or one made from the running grader) to install from."""
    source = assignments / name
    if not (source / "tests").is_dir():
        known = sorted(p.name for p in assignments.iterdir() if (p / "tests").is_dir())
        raise ReleaseError(
            f"no assignment {name!r} in {assignments} (known: {', '.join(known) or 'none'})"
        )
    stale = templates.stale(reference / name, source / name)
    if stale:
        raise ReleaseError(f"{stale[0]}; run `grader make-templates {name}` first")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty; choose a new folder or pass --force")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "report.html")
    shutil.copytree(source / name, out / name, ignore=ignore)
    shutil.copytree(source / "tests", out / "tests", ignore=ignore)
    for extra in ("README.md", "pytest.ini", "requirements.txt"):
        if (source / extra).exists():
            shutil.copy2(source / extra, out / extra)
    try:
        built = wheel if wheel is not None else grader_wheel()
    except WheelError as exc:
        shutil.rmtree(out)
        raise ReleaseError(str(exc)) from None
    shutil.copy2(built, out / built.name)
    command = install_command(built.name, (source / "requirements.txt").exists())
    (out / "INSTALL.md").write_text(INSTALL.format(command=command, wheel=built.name))
    leaked = leaks(out, reference / name)
    if leaked:
        shutil.rmtree(out)
        raise ReleaseError(f"the handout would contain solution code: {leaked[0]}")
    return sorted(p for p in out.rglob("*") if p.is_file())
