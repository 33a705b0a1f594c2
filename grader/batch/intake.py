"""Turn what TAs download into one work folder per submission.

A submission is a folder, a single ``.py`` file, a Jupyter notebook, or an
entry of an LMS ``.zip`` (one file or folder per student). Each becomes a
fresh copy of the blank template with the student's modules laid over it, so
a student who sent one file still gets "not attempted" for the others.
Archives are extracted defensively: no absolute paths, no ``..``, no links,
and caps on the number of files, their sizes and the compression ratio.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MAX_FILES = 2000
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
SOURCE_SUFFIXES = {".py", ".ipynb"}


class IntakeError(Exception):
    """A submission that cannot be read; the message names it and the fix."""


@dataclass
class Submission:
    """One student's work, ready to be copied into a work folder."""

    id: str
    origin: str
    files: dict[str, bytes] = field(default_factory=dict)  # name -> source bytes
    problem: str | None = None  # why it cannot be graded (still gets a result)

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name] + b"\0")
        h.update((self.problem or "").encode())
        return h.hexdigest()


def safe_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return cleaned[:80] or "submission"


def notebook_source(data: bytes, origin: str) -> bytes:
    """The code cells of a notebook as one module (magics and shell lines
    become comments)."""
    try:
        import nbformat

        reads: Any = nbformat.reads  # nbformat ships without type hints
        notebook = reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:
        raise IntakeError(f"{origin}: not a readable Jupyter notebook ({exc})") from None
    lines = []
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        for line in str(cell.get("source", "")).splitlines():
            stripped = line.lstrip()
            lines.append(f"# {line}" if stripped.startswith(("%", "!")) else line)
        lines.append("")
    return "\n".join(lines).encode()


def _read_tree(folder: Path, origin: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            continue
        if not path.is_file() or path.suffix not in SOURCE_SUFFIXES:
            continue
        if any(part.startswith((".", "__")) for part in path.relative_to(folder).parts[:-1]):
            continue
        size = path.stat().st_size
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise IntakeError(f"{origin}: {path.name} is too large to be a homework file")
        files[path.name] = path.read_bytes()
    return files


def _safe_members(archive: zipfile.ZipFile, origin: str) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > MAX_FILES:
        raise IntakeError(f"{origin}: the archive holds {len(members)} files (limit {MAX_FILES})")
    total = 0
    for info in members:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise IntakeError(
                f"{origin}: the archive entry {info.filename!r} points outside the archive; "
                "re-download it from the LMS"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise IntakeError(f"{origin}: the archive entry {info.filename!r} is a link")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_FILE_BYTES * 4 or total > MAX_TOTAL_BYTES or ratio > MAX_RATIO:
            raise IntakeError(
                f"{origin}: the archive expands to more than it should ({info.filename!r}); "
                "it looks like a zip bomb"
            )
    return members


def _from_zip(path: Path) -> list[Submission]:
    """An LMS download: each top-level file or folder is one student."""
    origin = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise IntakeError(f"{origin}: not a zip archive; re-download it") from None
    with archive:
        members = _safe_members(archive, origin)
        groups: dict[str, dict[str, bytes]] = {}
        roots = {PurePosixPath(m.filename).parts[0] for m in members if m.filename.strip("/")}
        strip = 1 if len(roots) == 1 and any(m.filename.count("/") > 1 for m in members) else 0
        for info in members:
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts[strip:]
            if not parts or any(p.startswith(("__MACOSX", ".")) for p in parts):
                continue
            suffix = PurePosixPath(parts[-1]).suffix
            if suffix not in SOURCE_SUFFIXES:
                continue
            student = parts[0] if len(parts) > 1 else PurePosixPath(parts[0]).stem
            with archive.open(info) as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise IntakeError(f"{origin}: {info.filename} is too large")
            groups.setdefault(student, {})[parts[-1]] = data
    return [
        Submission(safe_id(name), f"{origin}:{name}", files)
        for name, files in sorted(groups.items())
    ]


def collect(paths: list[Path]) -> tuple[list[Submission], list[str]]:
    """All submissions named on the command line, and warnings (duplicates).

    A path that cannot be read becomes a submission with a ``problem`` (it
    still gets a result and a gradebook row) rather than stopping the batch.
    """
    found: list[Submission] = []
    for path in paths:
        origin = str(path)
        try:
            if not path.exists():
                raise IntakeError(f"{origin}: no such file or folder")
            if path.is_dir():
                found.append(Submission(safe_id(path.name), origin, _read_tree(path, origin)))
            elif path.suffix == ".zip":
                found += _from_zip(path)
            elif path.suffix in SOURCE_SUFFIXES:
                found.append(Submission(safe_id(path.stem), origin, {path.name: path.read_bytes()}))
            else:
                raise IntakeError(f"{origin}: not a folder, .py, .ipynb or .zip submission")
        except IntakeError as exc:
            found.append(Submission(safe_id(path.stem), origin, problem=str(exc)))
    warnings = []
    seen: dict[str, str] = {}
    for sub in found:
        base, n = sub.id, 1
        while sub.id in seen:
            n += 1
            sub.id = f"{base}~{n}"
        if n > 1:
            warnings.append(
                f"duplicate submission id {base}: {seen[base]} and {sub.origin}; the second is "
                f"graded as {sub.id}"
            )
        seen[sub.id] = sub.origin
    return found, warnings


def as_utf8(data: bytes, name: str) -> tuple[bytes, str | None]:
    """Source bytes as UTF-8, and a note when they were not: files saved as
    GBK/GB18030 (common on Chinese Windows) or Latin-1 are transcoded."""
    try:
        data.decode("utf-8")
        return data, None
    except UnicodeDecodeError:
        pass
    for encoding in ("gb18030", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.encode("utf-8"), f"{name} was not UTF-8; read it as {encoding.upper()}"
    return data, None  # unreachable: latin-1 decodes anything


def _defined_names(source: bytes) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    return {
        node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


def lay_out(sub: Submission, template: Path, work: Path) -> list[str]:
    """Fill ``work`` with the blank template, then the student's modules.

    A file named like a template module replaces it; any other file (say
    ``alice.py`` or a notebook) replaces the template module whose functions
    it defines most of. Returns notes about what was placed where.
    """
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    modules = {p.name: _defined_names(p.read_bytes()) for p in template.glob("*.py")}
    notes = []
    for name, data in sorted(sub.files.items()):
        if name.endswith(".ipynb"):
            data = notebook_source(data, f"{sub.origin}/{name}")
            name = name[: -len(".ipynb")] + ".py"
        data, note = as_utf8(data, name)
        if note:
            notes.append(note)
        target = name
        if target not in modules:
            defined = _defined_names(data)
            overlap = {m: len(defined & names) for m, names in modules.items()}
            best = max(overlap, key=lambda m: overlap[m], default=None)
            if best is None or overlap[best] == 0:
                notes.append(f"{name} defines none of the assignment's functions; ignored")
                continue
            notes.append(f"{name} graded as {best}")
            target = best
        (work / target).write_bytes(data)
    return notes
