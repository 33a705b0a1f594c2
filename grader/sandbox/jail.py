"""The jail: what a student's process may see, built up from nothing, and the
bubblewrap command that shows it exactly that.

A jail holds one fork server (``grader.sandbox.forkserver``) per trusted
worker. Inside it exist, read-only, only the interpreter and its standard
library (not its site-packages), the shared libraries of the system, the
packages the course allows (numpy, scipy, and what the assignment's
``requirements.txt`` installs, with their dependencies) and the student side of the
sandbox (``grader/__init__.py``, ``grader/gradcheck``, ``grader/sandbox``);
writable, only small tmpfs mounts (``/tmp``, ``/work``, ``/dev/shm``). There
is no course folder, no output folder, no other submission, no ``/run``, no
``/etc``, no network. bubblewrap gives it new mount, PID, IPC, UTS, network,
cgroup and user namespaces, its own ``/proc``, no capabilities, its own
session, and it dies with the trusted worker that started it.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

INSIDE = "/opt/backprop-grader"  # where the allowed packages and the grader appear
SITE = f"{INSIDE}/site"
LIB = f"{INSIDE}/lib"
WORK = "/work"
ALLOWED_PACKAGES = ("numpy", "scipy")
INSTALL = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or pass --no-sandbox to grade without one (unsafe: the students' code "
    "then runs with the grader's rights)"
)


class JailError(Exception):
    """The jail cannot be built on this machine; ``str()`` says why and what to do."""


@dataclass(frozen=True)
class Bind:
    """A host path shown read-only inside the jail at ``dest``."""

    source: str
    dest: str


@dataclass(frozen=True)
class Layout:
    """Everything the jail shows: read-only binds, symlinks, and folders of
    the binds that are covered by an empty read-only tmpfs."""

    python: str
    binds: tuple[Bind, ...]
    symlinks: tuple[tuple[str, str], ...]
    covers: tuple[str, ...]

    def sources(self) -> list[str]:
        """Host paths the jail reads (the stager makes them reachable)."""
        return sorted({b.source for b in self.binds})


def _real(path: str | os.PathLike[str]) -> str:
    return str(Path(path).resolve())


def _package_dirs(name: str) -> list[str]:
    """A package's folder (or a one-file module) and its vendored libraries
    (``numpy.libs``)."""
    spec = importlib.util.find_spec(name)
    if spec is None:
        return []
    if not spec.submodule_search_locations:  # threadpoolctl.py
        origin = spec.origin or ""
        return [str(Path(origin).resolve())] if origin.endswith(".py") else []
    folder = Path(next(iter(spec.submodule_search_locations))).resolve()
    libs = folder.parent / f"{name}.libs"
    return [str(folder)] + ([str(libs)] if libs.is_dir() else [])


REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def course_packages(requirements: Path) -> tuple[str, ...]:
    """ALLOWED_PACKAGES and what the distributions the course's
    ``requirements.txt`` lists install, with the distributions they need
    (scikit-learn: sklearn, joblib, threadpoolctl, scikit_learn.libs, ...):
    import names, and the folders of vendored libraries (``*.libs``). A
    distribution this interpreter does not have is skipped (the student's
    import then fails as it would at home without it)."""
    try:
        lines = requirements.read_text().splitlines()
    except OSError:
        return ALLOWED_PACKAGES
    wanted = [m.group(1) for line in lines if (m := REQUIREMENT.match(line.split("#")[0]))]
    found = set(ALLOWED_PACKAGES)
    seen: set[str] = set()
    while wanted:
        name = re.sub(r"[-_.]+", "-", wanted.pop()).lower()
        if name in seen or name in ALLOWED_PACKAGES:  # shown anyway, with their .libs
            continue
        seen.add(name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.update(_installed_names(distribution))
        for requirement in distribution.requires or []:
            match = REQUIREMENT.match(requirement)
            if match and "extra ==" not in requirement:
                wanted.append(match.group(1))
    return tuple(sorted(found))


def course_modules(reference: Path, packages: tuple[str, ...]) -> tuple[str, ...]:
    """The modules of ``packages`` that the reference's code imports
    (``sklearn.datasets``), numpy's and the standard library's aside: a fork
    server imports them once, so that every student's process starts with
    them loaded (scikit-learn takes a second to import)."""
    wanted = set(packages) - {"numpy"}
    found: set[str] = set()
    for path in sorted(reference.glob("*.py")):
        try:
            tree = ast.parse(path.read_text("utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.update(n for n in names if n.split(".")[0] in wanted)
    return tuple(sorted(found))


def _installed_names(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules and ``*.libs`` folders among a distribution's files
    (its own file list only: reading every distribution's costs most of a second)."""
    names = set()
    for file in distribution.files or []:
        top = file.parts[0] if file.parts else ""
        if top.endswith(".libs"):
            names.add(top)
        elif len(file.parts) == 1 and top.endswith(".py"):
            names.add(top[:-3])
        elif len(file.parts) > 1 and file.parts[-1] == "__init__.py" and len(file.parts) == 2:
            names.add(top)
    return {n for n in names if n.endswith(".libs") or n.isidentifier()}


def _libs_dir(name: str) -> list[str]:
    """A ``*.libs`` folder beside numpy's (the site-packages the course uses)."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        return []
    site = Path(next(iter(spec.submodule_search_locations))).resolve().parent
    return [str(site / name)] if (site / name).is_dir() else []


def _system_libraries() -> tuple[list[Bind], list[tuple[str, str]]]:
    """The shared libraries of the system (the C library, the loader, libm,
    libz, ...): library folders only, never /usr as a whole."""
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    binds: list[Bind] = []
    links: list[tuple[str, str]] = []
    for top in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        folder = f"{top}/{arch}" if top == "/usr/lib" and arch else top
        if os.path.isdir(folder) and top != "/usr/lib32":
            binds.append(Bind(_real(folder), folder))
    for top in ("/lib", "/lib64"):
        if os.path.islink(top):
            links.append((os.readlink(top), top))
        elif os.path.isdir(top):
            folder = f"{top}/{arch}" if top == "/lib" and arch else top
            if os.path.isdir(folder):
                binds.append(Bind(_real(folder), folder))
    return binds, links


@functools.cache
def layout(packages: tuple[str, ...] = ALLOWED_PACKAGES) -> Layout:
    """The allowlist of this machine's interpreter, computed once per process."""
    python = _real(sys.executable)
    binds = [Bind(python, python)]
    stdlib = _real(sysconfig.get_paths()["stdlib"])
    binds.append(Bind(stdlib, stdlib))
    # the interpreter's own installed packages are not the course's: hidden
    covers = [
        str(Path(stdlib) / name)
        for name in ("site-packages", "dist-packages")
        if (Path(stdlib) / name).is_dir()
    ]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        name = sysconfig.get_config_var("INSTSONAME") or ""
        shared = os.path.join(libdir, name)
        if os.path.isfile(shared):
            binds.append(Bind(_real(shared), shared))
    system, links = _system_libraries()
    binds += system
    for name in packages:
        folders = _libs_dir(name) if name.endswith(".libs") else _package_dirs(name)
        for folder in folders:
            bind = Bind(folder, f"{SITE}/{Path(folder).name}")
            if bind not in binds:
                binds.append(bind)
    grader = Path(__file__).resolve().parents[1]  # the grader package
    for part in ("__init__.py", "gradcheck", "sandbox"):
        binds.append(Bind(str(grader / part), f"{LIB}/grader/{part}"))
    return Layout(python, tuple(binds), tuple(links), tuple(sorted(covers)))


def bwrap() -> str:
    """The bubblewrap binary, or a JailError saying how to install it."""
    found = shutil.which("bwrap")
    if found is None:
        raise JailError(f"bubblewrap (bwrap) is not installed: {INSTALL}")
    return found


def command(
    uid: int, fd: int, work_mb: int, packages: tuple[str, ...] = ALLOWED_PACKAGES
) -> list[str]:
    """The bwrap command line of a jail whose fork server talks on ``fd``."""
    plan = layout(packages)
    argv = [
        bwrap(),
        "--unshare-all",
        "--unshare-user",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(uid),
        "--gid",
        str(uid),
        "--hostname",
        "sandbox",
        "--clearenv",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "HOME",
        WORK,
    ]
    for bind in plan.binds:
        argv += ["--ro-bind", bind.source, bind.dest]
    for target, link in plan.symlinks:
        argv += ["--symlink", target, link]
    for cover in plan.covers:
        argv += ["--size", "4096", "--tmpfs", cover, "--remount-ro", cover]
    scratch = str(max(1, work_mb) * 1024 * 1024)
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        scratch,
        "--tmpfs",
        "/tmp",
        "--size",
        scratch,
        "--tmpfs",
        WORK,
        "--size",
        "1048576",
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/",
        "--chdir",
        "/",
        "--",
        plan.python,
        "-I",
        "-S",
        "-c",
        f"import sys; sys.path[:0] = [{LIB!r}, {SITE!r}]; "
        "from grader.sandbox.forkserver import main; main()",
        str(fd),
    ]
    return argv


def probe() -> str | None:
    """None when a jail can be started here; otherwise one line saying why."""
    try:
        argv = [bwrap(), "--unshare-all", "--unshare-user", "--die-with-parent"]
    except JailError as exc:
        return str(exc)
    argv += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot start here ({exc}): {INSTALL}"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return (
            f"bubblewrap cannot create namespaces here ({why}); allow unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces) "
            "or pass --no-sandbox (unsafe)"
        )
    return None
