"""Confine the student's process: namespaces that hide the course, a
private scratch space, rlimits and its own user id. What the machine does
not allow is reported in ``Isolation.notes`` rather than silently skipped."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND = 0x2, 0x4, 0x8, 0x1000
MNT_DETACH = 0x2


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. ``wall_seconds`` bounds each call."""

    cpu_seconds: int = 60
    memory_mb: int = 2048
    file_mb: int = 16
    processes: int = 32
    wall_seconds: float = 30.0


@dataclass
class Isolation:
    """What confinement the machine allows; probed once per process."""

    namespaces: bool = False
    own_uid: bool = False
    notes: list[str] = field(default_factory=list)


_isolation: Isolation | None = None
_RUNTIME: list[str] = []


def needed_paths() -> list[str]:
    """The interpreter's directories, as probed by ``isolation()``."""
    return list(_RUNTIME)


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, kind: str | None, flags: int, data: str | None) -> None:
    libc = _libc()
    result = libc.mount(
        source.encode(),
        target.encode(),
        kind.encode() if kind else None,
        flags,
        data.encode() if data else None,
    )
    if result != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}")


def _release(holder: str) -> None:
    """Unmount a temporary mount point and remove it: it is a folder of the
    host's file system, and one is made per student process."""
    _libc().umount2(holder.encode(), MNT_DETACH)  # fails harmlessly on a plain folder
    with contextlib.suppress(OSError):
        os.rmdir(holder)


def runtime_paths() -> list[str]:
    """Directories the student's interpreter must be able to read."""
    import site

    import numpy

    found = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parents[1])}
    found.update(site.getsitepackages())
    found.add(str(Path(numpy.__file__).resolve().parents[1]))
    found.add(str(Path(__file__).resolve().parents[1]))  # this package (editable installs)
    return sorted(p for p in found if os.path.isdir(p))


def _blocking(path: str) -> str | None:
    """The first ancestor of ``path`` that other users cannot traverse."""
    current = Path("/")
    for part in Path(path).parts[1:]:
        if os.stat(current).st_mode & 0o005 != 0o005:
            return str(current)
        current = current / part
    return None


def _expose(needed: list[str], stage: str) -> None:
    """Make ``needed`` readable by other users inside this mount namespace:
    cover each untraversable ancestor with a 0755 tmpfs (hiding the rest of
    it) and bind back only the needed subtrees."""
    for _ in range(8):
        blocked = sorted({b for p in needed if (b := _blocking(p)) is not None})
        if not blocked:
            return
        top = blocked[0]
        keep = sorted(
            {
                str(Path(top) / Path(p).relative_to(top).parts[0])
                for p in needed
                if p.startswith(top.rstrip("/") + "/")
            }
        )
        os.makedirs(stage, exist_ok=True)
        staged = []
        for i, path in enumerate(keep):
            spot = os.path.join(stage, str(i))
            os.makedirs(spot, exist_ok=True)
            _mount(path, spot, None, MS_BIND | MS_REC, None)
            staged.append((spot, path))
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0755")
        for spot, path in staged:
            os.makedirs(path, exist_ok=True)
            _mount(spot, path, None, MS_BIND | MS_REC, None)
            _release(spot)
        _release(stage)


SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


def _private_scratch(keep: list[str]) -> None:
    """Fresh, small tmpfs over the shared scratch folders, so nothing the
    student writes there outlives its process or reaches anyone else. The
    paths in ``keep`` (its work folder, and the interpreter when it lives
    under /tmp, as a CI checkout may) are bound back in at the same place,
    with everything mounted inside them (so hidden folders stay hidden)."""
    inside = sorted({p for p in keep if any(p == s or p.startswith(s + "/") for s in SCRATCH)})
    tops = [p for p in inside if not any(p.startswith(o + "/") for o in inside if o != p)]
    base = "/run" if os.path.isdir("/run") else "/var/tmp"
    held = []
    for path in tops:
        holder = tempfile.mkdtemp(prefix=".grader-keep-", dir=base)
        _mount(path, holder, None, MS_BIND | MS_REC, None)
        held.append((holder, path))
    for path in SCRATCH:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for holder, path in held:
        os.makedirs(path, exist_ok=True)
        _mount(holder, path, None, MS_BIND | MS_REC, None)
        _release(holder)


def _unshare_and_hide(
    hide: list[str], needed: list[str] | None = None, keep: str | None = None
) -> None:
    libc = _libc()
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    if needed:
        _expose(needed, f"/tmp/.grader-stage-{os.getpid()}")
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0755")
    if keep is not None:  # last: it also covers whatever was hidden under /tmp
        _private_scratch([keep, *(needed or _RUNTIME)])


def isolation() -> Isolation:
    """Probe (once) whether namespaces and a separate user id are available."""
    global _isolation
    if _isolation is not None:
        return _isolation
    found = Isolation()
    pid = os.fork()
    if pid == 0:  # the probe child: try everything, report by exit code
        code = 0
        try:
            _unshare_and_hide([])
        except OSError:
            code |= 1
        try:
            os.setgid(65534)
            os.setuid(65534)
        except OSError:
            code |= 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    found.namespaces = not code & 1
    found.own_uid = not code & 2
    if not found.namespaces:
        found.notes.append(
            "no mount/network namespaces here (needs root or CAP_SYS_ADMIN): student code can "
            "reach the network and read files its user can read; grade as root for full isolation"
        )
    if not found.own_uid:
        found.notes.append("cannot switch user ids (not root): submissions run as the grading user")
    _RUNTIME[:] = runtime_paths()
    _isolation = found
    return found


def confinement(
    hide: list[str],
    needed: list[str],
    uid: int | None,
    limits: Limits,
    namespaces: bool,
    workdir: str,
) -> Any:
    """What the fork server's child runs to confine itself, before any student code
    (a failure raises; the fork server leaves its traceback in the submission's log)."""

    def confine() -> None:
        if namespaces:
            _unshare_and_hide(hide, needed if uid is not None else None, workdir)
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return confine
