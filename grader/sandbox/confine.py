"""Confine one submission's process inside the jail, and the limits it gets.

The jail (``grader.sandbox.jail``) is shared by the submissions one trusted
worker grades, one after the other. Each submission's process therefore
splits off namespaces of its own before any of its code runs: a user
namespace (no capabilities outside it), a PID namespace of which it is the
init (when it ends, everything it started is killed by the kernel), and
mount, IPC, UTS and network namespaces. In them it mounts a fresh tmpfs work
folder and ``/tmp`` of a bounded size, hides the jail's ``/proc``, sets its
rlimits, and drops every capability for good before importing the
submission.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass, field
from typing import Any, NoReturn

from grader.sandbox import cgroup, jail

CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID = 0x10000000, 0x00020000, 0x20000000
CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS = 0x08000000, 0x40000000, 0x04000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
PR_SET_DUMPABLE, PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = (
    4,
    1,
    24,
    38,
    47,
)
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAPABILITY_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Per process: ``cpu_seconds``,
    ``memory_mb`` (address space), ``file_mb`` (one file, and each of its
    stdout and stderr). Per submission: ``wall_seconds`` for one call,
    ``total_wall_seconds`` and ``total_cpu_seconds`` over all of them,
    ``memory_mb`` for all its processes together and ``processes`` (where
    cgroups can be had), ``disk_mb`` for its work folder and for /tmp, and
    ``messages`` replies."""

    cpu_seconds: int = 60
    memory_mb: int = 2048
    file_mb: int = 16
    processes: int = 32
    wall_seconds: float = 30.0
    total_wall_seconds: float = 900.0
    total_cpu_seconds: float = 900.0
    disk_mb: int = 64
    messages: int = 200_000


@dataclass
class Isolation:
    """How a submission's process is confined on this machine."""

    jail: bool = False
    cgroups: bool = False
    notes: list[str] = field(default_factory=list)


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(kind: str, target: str, flags: int, data: str) -> None:
    libc = _libc()
    _check(libc.mount(kind.encode(), target.encode(), kind.encode(), flags, data.encode()), target)


def own_namespaces() -> None:
    """Split off user, PID, mount, IPC, UTS and network namespaces. Returns in
    a process whose parent is the new PID namespace's init; that init only
    reaps and ends the way this process ends, and the process that called
    stays outside, waits for the init and ends the same way. So killing the
    caller kills the init, and with it everything the submission started;
    and the submission's code never runs as an init (which ignores signals)."""
    uid, gid = os.getuid(), os.getgid()
    # the fork server is not dumpable (so a submission cannot read it), which
    # would leave this process's /proc files to root: its own again
    _check(_libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET
    _check(_libc().unshare(flags | CLONE_NEWUTS), "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    init = os.fork()
    if init != 0:
        _mirror(init)
    _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    code = os.fork()
    if code == 0:
        return
    _reap(code)


def _reap(main: int) -> NoReturn:
    """The namespace's init: reap every orphan until ``main`` ends, then exit
    with its code, or 128 + its signal (an init cannot signal itself); the
    kernel then kills whatever is left in the namespace."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == main:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def _mirror(init: int) -> NoReturn:
    """Wait for the init and end the way the submission's process ended."""
    _, status = os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(status)
    if code > 128:  # killed by signal code - 128: die of it too
        if code - 128 not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(code - 128, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), code - 128)
    os._exit(code if code >= 0 else 128 - code)


def private_mounts(work: str, disk_mb: int) -> None:
    """A fresh, bounded work folder and /tmp; /dev/shm small; the jail's
    /proc hidden (it would show the fork server)."""
    size = f"size={max(1, disk_mb)}m"
    _mount("tmpfs", work, MS_NOSUID | MS_NODEV, f"{size},mode=0700")
    _mount("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, f"{size},mode=1777")
    _mount("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=1777")
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")  # under memory pressure, the submission goes first
    _mount("tmpfs", "/proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")


def drop_privileges() -> None:
    """No capabilities, now or ever again (bounding, ambient, effective,
    permitted, inheritable), and no way to gain any through exec."""
    libc = _libc()
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def apply_limits(limits: Limits, own_user: bool) -> None:
    """The per-process limits; the process count only for a user of its own
    (RLIMIT_NPROC counts every process of the user)."""
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if own_user:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (glibc's malloc.h)
HEAP_ARRAYS_MB = 32  # glibc's own ceiling for its adaptive threshold


def steady_malloc() -> None:
    """Allocate arrays of up to 32 MB from the heap. A student's process
    otherwise kept glibc's initial 128 KB mmap threshold: a spiral step's
    (300, 100) activations were mapped, faulted in page by page and unmapped
    on every step, 500,000 page faults that made its training loop run 1.7x
    slower than the same loop in a plain Python process. Memory stays bounded
    by RLIMIT_AS and the cgroup as before."""
    try:
        mallopt = _libc().mallopt
    except AttributeError:  # not glibc: its own allocator, its own policy
        return
    mallopt(M_MMAP_THRESHOLD, HEAP_ARRAYS_MB * 1024 * 1024)
    mallopt(M_TRIM_THRESHOLD, 2 * HEAP_ARRAYS_MB * 1024 * 1024)


def become(uid: int) -> None:
    """Without a jail, as root: run as ``uid`` (the Gradescope fallback)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


_isolation: dict[bool, Isolation] = {}


def isolation(sandbox: bool = True) -> Isolation:
    """How students' processes are confined here (probed once): whether the
    jail can be started, and whether memory, processes and CPU time can be
    bounded per submission (cgroups). ``notes`` says plainly what is missing."""
    if sandbox in _isolation:
        return _isolation[sandbox]
    found = Isolation()
    if sandbox:
        reason = jail.probe()
        found.jail = reason is None
        if reason is not None:
            found.notes.append(reason)
    else:
        found.notes.append(
            "no sandbox (--no-sandbox): students' code runs with the grader's rights, "
            "sees its files and the network"
        )
    group = cgroup.create("probe", 64, 8)
    found.cgroups = group is not None
    if group is not None:
        group.remove()
    else:
        found.notes.append(
            "no cgroups here (needs root and the memory controller): memory and CPU time "
            "are bounded per process of a submission, not for all its processes together"
        )
    _isolation[sandbox] = found
    return found
