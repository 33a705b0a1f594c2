"""Turn what TAs download into one work folder per submission.

A path on the command line is a student's folder, a single ``.py`` file or
notebook, a folder or ``.zip`` as an LMS downloads it (Canvas's flat file
names are grouped by Canvas user id; otherwise each top-level file or folder
is one student), or a student's own ``.zip``. A TA's slip (a missing path, a
file type grader grade does not read, an empty archive) stops the run before
anything is graded (``IntakeError``); a student's unusable submission (no
code, a broken archive or notebook) is that student's row with the reason.

Only regular files are read: links, devices and fifos in a folder or an
archive are skipped, never followed, and files are opened without following
links. Archives are extracted defensively: no absolute paths, no ``..``, and
caps on the number of files, their sizes and the compression ratio.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.batch import canvas
from grader.batch.placement import place
from grader.batch.printable import printable
from grader.batch.records import BatchError, Problem, Status, Student

MAX_FILES = 2000
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
SOURCE_SUFFIXES = (".py", ".ipynb")
SKIPPED_DIRS = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
ID_LENGTH = 80


class IntakeError(BatchError):
    """A TA's slip found before grading; the message names the path and the fix."""


class _Unusable(Exception):
    """One student's submission cannot be read (becomes that student's row)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Submission:
    """One student's work, ready to be copied into a work folder."""

    id: str
    origin: str
    files: dict[str, bytes] = field(default_factory=dict)  # name -> source bytes
    problem: Problem | None = None  # why it cannot be graded (still gets a result)
    student: Student = field(default_factory=Student)
    notes: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # files that are not code

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name] + b"\0")
        h.update(str(self.problem or "").encode())
        return h.hexdigest()


def safe_id(text: str) -> str:
    """A submission id: letters, digits, ``_`` and ``-`` only (any script).

    Never a dot, so never the name of one of the output folder's own files
    (journal.jsonl, gradebook.csv, summary.html, ...), never a control
    character, never hidden."""
    cleaned = re.sub(r"[^\w-]+", "_", unicodedata.normalize("NFC", text)).strip("_-")
    return cleaned[:ID_LENGTH] or "submission"


# -- reading files: regular files only -------------------------------------------------


def _read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (never through a link),
    None otherwise; IntakeError-free: too large raises _Unusable."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _Unusable(Problem(Status.UNREADABLE, f"{path.name} is too large to be homework"))
    return data


def _walk(folder: Path) -> Iterator[tuple[Path, str]]:
    """(path, kind) of every entry under ``folder`` without following links;
    kind is "file" for regular files, "skipped" for anything else."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
            continue
        if entry.is_symlink():
            yield path, "skipped"
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file(follow_symlinks=False):
            yield path, "file"
        else:
            yield path, "skipped"  # fifo, socket, device


def _add(sub: Submission, name: str, data: bytes, depth: int, depths: dict[str, int]) -> None:
    """Keep a source file; of two with the same name the shallower one wins."""
    if name in sub.files and depths.get(name, 0) <= depth:
        sub.notes.append(f"two files named {printable(name)}; graded the one nearer the top")
        return
    if name in sub.files:
        sub.notes.append(f"two files named {printable(name)}; graded the one nearer the top")
    sub.files[name] = data
    depths[name] = depth


def _from_folder(folder: Path, sub: Submission) -> Submission:
    depths: dict[str, int] = {}
    total = 0
    for path, kind in _walk(folder):
        relative = path.relative_to(folder)
        if kind == "skipped":
            sub.notes.append(f"{printable(relative)} is not a regular file; skipped")
            continue
        if path.suffix == ".zip":
            data = _read_regular(path)
            if data is not None:
                _add_archive(sub, data, printable(relative))
            continue
        if path.suffix not in SOURCE_SUFFIXES:
            sub.others.append(printable(relative))
            continue
        data = _read_regular(path)
        if data is None:
            sub.notes.append(f"{printable(relative)} is not a regular file; skipped")
            continue
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise _Unusable(Problem(Status.UNREADABLE, "the submission is too large"))
        _add(sub, path.name, data, len(relative.parts), depths)
    return sub


# -- archives --------------------------------------------------------------------------


@dataclass
class _Member:
    parts: tuple[str, ...]
    info: zipfile.ZipInfo


def _members(archive: zipfile.ZipFile, origin: str) -> tuple[list[_Member], list[str]]:
    """Regular-file members, checked against slips and bombs; and skipped names."""
    infos = archive.infolist()
    if len(infos) > MAX_FILES:
        raise _Unusable(
            Problem(Status.UNREADABLE, f"the archive holds {len(infos)} files (limit {MAX_FILES})")
        )
    total = 0
    members: list[_Member] = []
    skipped: list[str] = []
    for info in infos:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise _Unusable(
                Problem(
                    Status.UNREADABLE,
                    f"the archive entry {printable(info.filename)!r} points outside the "
                    "archive; re-download it from the LMS",
                )
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_FILE_BYTES * 4 or total > MAX_TOTAL_BYTES or ratio > MAX_RATIO:
            raise _Unusable(
                Problem(
                    Status.UNREADABLE,
                    f"the archive expands to more than it should ({printable(info.filename)!r}); "
                    "it looks like a zip bomb",
                )
            )
        if info.is_dir():
            continue
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind and kind != stat.S_IFREG:  # a link, fifo or device (0: type not recorded)
            skipped.append(printable(info.filename))
            continue
        parts = tuple(p for p in name.parts if p)
        if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts):
            continue
        members.append(_Member(parts, info))
    return members, skipped


def _open_zip(data: bytes | Path, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _Unusable(
            Problem(Status.UNREADABLE, f"{what} is not a readable zip archive")
        ) from None


def _read_member(archive: zipfile.ZipFile, member: _Member) -> bytes:
    try:
        with archive.open(member.info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _Unusable(
            Problem(
                Status.UNREADABLE, f"{printable(member.info.filename)} cannot be extracted ({exc})"
            )
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise _Unusable(
            Problem(
                Status.UNREADABLE, f"{printable(member.info.filename)} is too large to be homework"
            )
        )
    return data


def _add_archive(sub: Submission, data: bytes, what: str) -> None:
    """A student's own .zip: its code joins the submission's files."""
    with _open_zip(data, what) as archive:
        members, skipped = _members(archive, what)
        depths: dict[str, int] = {}
        for member in members:
            if PurePosixPath(member.parts[-1]).suffix not in SOURCE_SUFFIXES:
                sub.others.append(f"{what}/{printable('/'.join(member.parts))}")
                continue
            _add(sub, member.parts[-1], _read_member(archive, member), len(member.parts), depths)
    sub.notes += [f"{what}: {name} is not a regular file; skipped" for name in skipped]


def _from_zip(path: Path, modules: set[str]) -> list[Submission]:
    """A .zip named on the command line: an LMS download (one student per
    Canvas user id, or per top-level file or folder), or one student's own
    archive when its top level holds the assignment's module files."""
    origin = str(path)
    stem_id = safe_id(path.stem)
    try:
        with _open_zip(path, path.name) as archive:
            members, skipped = _members(archive, origin)
            if not members:
                raise IntakeError(
                    f"{printable(path)}: the archive is empty; re-download it from the LMS"
                )
            if not any(
                PurePosixPath(m.parts[-1]).suffix in (*SOURCE_SUFFIXES, ".zip") for m in members
            ):
                raise IntakeError(
                    f"{printable(path)}: the archive holds no .py, .ipynb or .zip files; check "
                    "that it is the download of this assignment"
                )
            roots = {m.parts[0] for m in members}
            if len(roots) == 1 and all(len(m.parts) > 1 for m in members):
                members = [_Member(m.parts[1:], m.info) for m in members]  # one wrapping folder
            top_files = [m.parts[0] for m in members if len(m.parts) == 1]
            if any(name in modules or _notebook_of(name, modules) for name in top_files):
                groups = {stem_id: (members, Student())}  # one student's own archive
            else:
                groups = _groups(members)
            found = []
            for key, (group, student) in sorted(groups.items()):
                sub = Submission(safe_id(key), f"{origin}:{key}", student=student)
                try:
                    _fill(sub, archive, group, modules)
                except _Unusable as exc:
                    sub.files, sub.problem = {}, exc.problem
                found.append(sub)
            if skipped and found:
                found[0].notes += [f"{name} is not a regular file; skipped" for name in skipped]
            return found
    except _Unusable as exc:
        return [Submission(stem_id, origin, problem=exc.problem)]


def _notebook_of(name: str, modules: set[str]) -> bool:
    return name.endswith(".ipynb") and name.removesuffix(".ipynb") + ".py" in modules


def _groups(members: list[_Member]) -> dict[str, tuple[list[_Member], Student]]:
    """Members by student: Canvas names by user id, else by top-level entry."""
    groups: dict[str, tuple[list[_Member], Student]] = {}
    by_user: dict[str, str] = {}
    for member in members:
        parsed = canvas.parse(member.parts[0]) if len(member.parts) == 1 else None
        if parsed is not None:
            key = by_user.setdefault(parsed.user_id, f"{parsed.name}_{parsed.user_id}")
            late = parsed.late or groups.get(key, ([], Student()))[1].late
            files = groups.get(key, ([], Student()))[0]
            renamed = _Member((parsed.file,), member.info)
            groups[key] = ([*files, renamed], Student(parsed.user_id, parsed.name, late))
            continue
        if len(member.parts) > 1:  # a student's folder
            key, member = member.parts[0], _Member(member.parts[1:], member.info)
        else:  # a student's single file
            key = PurePosixPath(member.parts[0]).stem
        files, student = groups.get(key, ([], Student()))
        groups[key] = ([*files, member], student)
    return groups


def _fill(
    sub: Submission, archive: zipfile.ZipFile, members: list[_Member], modules: set[str]
) -> None:
    depths: dict[str, int] = {}
    total = 0
    for member in members:
        name = canvas.original_name(member.parts[-1], modules)
        suffix = PurePosixPath(name).suffix
        if suffix == ".zip":
            _add_archive(sub, _read_member(archive, member), printable(name))
            continue
        if suffix not in SOURCE_SUFFIXES:
            sub.others.append(printable("/".join(member.parts)))
            continue
        data = _read_member(archive, member)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise _Unusable(Problem(Status.UNREADABLE, "the submission is too large"))
        _add(sub, name, data, len(member.parts), depths)


def _canvas_folder(folder: Path, modules: set[str]) -> list[Submission] | None:
    """A folder holding an extracted Canvas download, grouped by user id; None
    when the folder's files are not named as Canvas names them."""
    files = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        if entry.is_file(follow_symlinks=False) and not entry.name.startswith("."):
            files.append(entry.name)
    parsed = {name: canvas.parse(name) for name in files}
    if not files or any(p is None for p in parsed.values()):
        return None
    subs: dict[str, Submission] = {}
    depths: dict[str, dict[str, int]] = {}
    for name, info in parsed.items():
        assert info is not None
        key = f"{info.name}_{info.user_id}"
        sub = subs.setdefault(
            key,
            Submission(safe_id(key), f"{folder}:{key}", student=Student(info.user_id, info.name)),
        )
        if info.late and not sub.student.late:
            sub.student = Student(info.user_id, info.name, True)
        if sub.problem is not None:
            continue
        try:
            original = canvas.original_name(info.file, modules)
            data = _read_regular(folder / name)
            if data is None:
                sub.notes.append(f"{printable(info.file)} is not a regular file; skipped")
            elif original.endswith(".zip"):
                _add_archive(sub, data, printable(original))
            elif PurePosixPath(original).suffix in SOURCE_SUFFIXES:
                _add(sub, original, data, 1, depths.setdefault(key, {}))
            else:
                sub.others.append(printable(original))
        except _Unusable as exc:
            sub.files, sub.problem = {}, exc.problem
    return [subs[k] for k in sorted(subs)]


# -- the command line's paths ----------------------------------------------------------


def collect(
    paths: list[Path], modules: set[str] | None = None
) -> tuple[list[Submission], list[str]]:
    """All submissions named on the command line, and warnings (duplicates).

    ``modules`` are the template's file names (``layers.py``), which tell a
    student's own archive from an LMS download. Raises IntakeError for a
    TA's slip before anything is read further; a student's unusable
    submission becomes a Submission with a ``problem``."""
    modules = modules or set()
    for path in paths:
        _check_path(path)
    found: list[Submission] = []
    for path in paths:
        try:
            found += _submissions_at(path, modules)
        except IntakeError:
            raise
        except Exception as exc:  # anything else about one path: a row, never the batch's end
            problem = Problem(Status.UNREADABLE, printable(f"{type(exc).__name__}: {exc}"))
            found.append(Submission(safe_id(path.stem), str(path), problem=problem))
    for sub in found:
        if sub.problem is None and not sub.files:
            seen = f" (found {', '.join(sub.others[:5])})" if sub.others else ""
            sub.problem = Problem(Status.EMPTY, f"no .py or .ipynb files{seen}")
    return found, _deduplicate(found)


def _submissions_at(path: Path, modules: set[str]) -> list[Submission]:
    origin = str(path)
    if path.is_symlink():  # unzip restores links: one may point at the course's solutions
        reason = "it is a symbolic link, which grader grade never follows; pass what it points to"
        return [Submission(safe_id(path.stem), origin, problem=Problem(Status.UNREADABLE, reason))]
    if path.is_dir():
        grouped = _canvas_folder(path, modules)
        if grouped is not None:
            return grouped
        sub = Submission(safe_id(path.name), origin)
        try:
            _from_folder(path, sub)
        except _Unusable as exc:
            sub.files, sub.problem = {}, exc.problem
        return [sub]
    if path.suffix == ".zip":
        return _from_zip(path, modules)
    sub = Submission(safe_id(path.stem), origin)
    try:
        data = _read_regular(path)
        if data is None:
            raise IntakeError(f"{printable(path)}: not a regular file")
        _add(sub, path.name, data, 0, {})
    except _Unusable as exc:
        sub.problem = exc.problem
    return [sub]


def _check_path(path: Path) -> None:
    shown = printable(path)
    if not path.exists():
        raise IntakeError(f"{shown}: no such file or folder; check the path")
    if path.is_dir():
        return
    if not path.is_file():
        raise IntakeError(f"{shown}: not a file or folder; pass submission folders or files")
    if path.suffix not in (*SOURCE_SUFFIXES, ".zip"):
        kind = f"a {path.suffix} file" if path.suffix else "a file without an extension"
        raise IntakeError(
            f"{shown}: {printable(kind)}; grader grade reads folders, .py and .ipynb files and "
            ".zip archives (extract other archives into a folder first)"
        )
    if path.stat().st_size == 0 and path.suffix == ".zip":
        raise IntakeError(f"{shown}: the archive is empty; re-download it from the LMS")


def _deduplicate(found: list[Submission]) -> list[str]:
    """Ids unique even where case does not count (macOS, Windows shares)."""
    warnings = []
    seen: dict[str, str] = {}
    for sub in found:
        base, n = sub.id, 1
        while sub.id.casefold() in seen:
            n += 1
            sub.id = f"{base}~{n}"
        if n > 1:
            warnings.append(
                f"duplicate submission id {base}: {printable(seen[base.casefold()])} and "
                f"{printable(sub.origin)}; the second is graded as {sub.id}"
            )
        seen[sub.id.casefold()] = sub.origin
    return warnings


# -- the work folder -------------------------------------------------------------------


def as_utf8(data: bytes, name: str) -> tuple[bytes, str | None]:
    """Source bytes as UTF-8, and a note when they were not: files saved as
    GBK/GB18030 (common on Chinese Windows) or Latin-1 are transcoded, and a
    coding declaration is made to say utf-8."""
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
        lines = text.split("\n")
        for i in range(min(2, len(lines))):
            lines[i] = (
                re.sub(r"(coding[:=]\s*)[-\w.]+", r"\1utf-8", lines[i])
                if lines[i].lstrip().startswith("#")
                else lines[i]
            )
        note = f"{name} was not UTF-8; read it as {encoding.upper()}"
        return "\n".join(lines).encode("utf-8"), note
    return data, None  # unreachable: latin-1 decodes anything


@dataclass
class Layout:
    """What intake put into a work folder."""

    notes: list[str]
    used: list[str]  # the student's files whose code is graded
    unreadable: list[str]  # "name: why" for files that could not be read


def lay_out(sub: Submission, template: Path, work: Path) -> Layout:
    """Fill ``work`` with the blank template, then the student's code (see
    ``placement``). Returns what was placed where, and what could not be."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(template.glob("*.py"))}
    notes = list(sub.notes)
    files: dict[str, bytes] = {}
    for name, data in sorted(sub.files.items()):
        if name.endswith(".py"):
            data, note = as_utf8(data, name)
            if note:
                notes.append(note)
        files[name] = data
    placed = place(files, sources, template.name)
    for name, text in placed.modules.items():
        if text != sources.get(name):
            (work / name).write_text(text, encoding="utf-8")
    notes += placed.notes + [f"{u}; ignored" for u in placed.unreadable]
    return Layout([printable(n) for n in notes], placed.used, placed.unreadable)
