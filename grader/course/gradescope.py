"""The Gradescope autograder package (``grader gradescope``).

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh``
once as root to build its image, then runs ``run_autograder`` once per
submission in a fresh container, with the student's files in
``/autograder/submission``; the results go to
``/autograder/results/results.json``. The zip holds, at its root:

- ``setup.sh``: Python, venv and pip, bubblewrap, the unprivileged user the
  student's code runs as, and the grader's wheel in ``/autograder/venv``;
- ``run_autograder``: runs ``python -m grader.batch.autograder``, which grades
  the submission exactly as ``grader grade`` does;
- ``autograder.json``: the ``Settings`` (assignment, hidden tests'
  visibility, output format, budgets);
- the grader's wheel (``grader.course.wheel``: built from the source checkout, or
  packed again from an installed wheel);
- ``course/``: the assignment's template, public and hidden tests,
  ``pytest.ini`` and its reference (this zip goes to Gradescope, never to
  students).

``AUTOGRADER_ROOT`` moves ``/autograder`` elsewhere (a test lays out a
folder as Gradescope does and runs ``run_autograder`` against it).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path

from grader.course import templates

ROOT_ENV = "AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
STUDENT_USER = "grader-student"
SETTINGS = "autograder.json"
COURSE = "course"
SCRIPTS = ("setup.sh", "run_autograder")
DISTRIBUTION = "backprop-grader"


class PackageError(Exception):
    """The autograder cannot be built as asked; ``str()`` names the problem and the fix."""


@dataclass(frozen=True)
class Settings:
    """What ``run_autograder`` needs to know (``autograder.json`` in the zip)."""

    assignment: str
    hidden_visibility: str = "after_due_date"
    output_format: str = "md"
    timeout: float = 30.0
    memory_mb: int = 2048
    user: str = STUDENT_USER

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> Settings:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise PackageError(
                f"cannot read the autograder settings {path} ({exc}); rebuild the zip with "
                "grader gradescope and upload it again"
            ) from None


@dataclass(frozen=True)
class Layout:
    """Where Gradescope puts things under the autograder root."""

    root: Path

    @classmethod
    def here(cls) -> Layout:
        """The root named by ``AUTOGRADER_ROOT``, else ``/autograder``."""
        return cls(Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT))

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def results_json(self) -> Path:
        return self.results / "results.json"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def settings(self) -> Path:
        return self.source / SETTINGS

    @property
    def course(self) -> Path:
        return self.source / COURSE


def course_files(root: Path, assignment: str) -> dict[str, Path]:
    """Archive name -> file, for everything of the assignment the grading needs."""
    folder, reference = root / "assignments" / assignment, root / "reference" / assignment
    if not folder.is_dir():
        known = sorted(p.name for p in (root / "assignments").glob("*/") if p.is_dir())
        raise PackageError(
            f"no assignment {assignment!r} in {root / 'assignments'}; known assignments: "
            f"{', '.join(known) or 'none'} (pass --course with the folder that holds "
            "assignments/ and reference/)"
        )
    needed = {
        folder / assignment: "template",
        folder / "tests": "public tests",
        folder / "pytest.ini": "pytest.ini",
        reference: "reference",
    }
    for path, what in needed.items():
        if not path.exists():
            raise PackageError(f"no {what} for {assignment!r} at {path}; add it, then build again")
    stale = templates.stale(reference, folder / assignment)
    if stale:
        raise PackageError(
            f"the template of {assignment!r} differs from its reference ({stale[0]}); run "
            f"grader make-templates {assignment}, then build again"
        )
    # of the assignment's folder, what pytest reads (not the student README)
    graded = {assignment, "tests", "hidden", "pytest.ini", "conftest.py"}
    found: dict[str, Path] = {}
    for base in (folder, reference):
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or "__pycache__" in relative.parts:
                continue
            if base == folder and relative.parts[2] not in graded:
                continue
            found[f"{COURSE}/{relative.as_posix()}"] = path
    return found


def script(name: str, wheel: str, user: str) -> str:
    """``setup.sh`` or ``run_autograder`` with this package's wheel and user filled in."""
    text = resources.files("grader.course").joinpath(f"autograder/{name}").read_text("utf-8")
    return text.replace("@WHEEL@", wheel).replace("@STUDENT_USER@", user)


def write_zip(out: Path, course_root: Path, settings: Settings, wheel: Path) -> list[str]:
    """The autograder zip at ``out`` (written beside it, then renamed); returns its names."""
    if not wheel.is_file() or not wheel.name.endswith(".whl"):
        raise PackageError(f"{wheel} is not a wheel file; pass a backprop_grader-*.whl")
    files = course_files(course_root, settings.assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SCRIPTS:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16  # executable once Gradescope unpacks it
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, script(name, wheel.name, settings.user))
        info = zipfile.ZipInfo(SETTINGS, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, settings.to_json())
        archive.write(wheel, wheel.name)
        for name, path in files.items():
            archive.write(path, name)
        names = archive.namelist()
    os.replace(temporary, out)
    return names
