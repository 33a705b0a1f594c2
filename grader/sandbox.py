"""Run a student's code in a confined child process (forked by
``grader.forkserver``, spoken to through ``grader.channel``).

The child gets a fresh working directory holding only its submission, owned
by a user id of its own; mount and network namespaces in which the reference,
the hidden tests, the outputs and the other submissions are covered by empty
tmpfs mounts and there is no network interface up; limits on CPU time,
address space, file size and processes; a scrubbed environment; and a
wall-clock timeout per call. Whatever isolation the machine does not allow is
reported in ``Isolation.notes`` rather than silently skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader import forkserver, wire
from grader.channel import Channel, Expired

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x40000000, 0x10000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND = 0x2, 0x4, 0x8, 0x1000
MNT_DETACH = 0x2
OUTPUT_TAIL = 16 * 1024
F_SETPIPE_SZ, PIPE_SIZE = 1031, 1 << 20


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


class SandboxDied(Exception):
    """The student's process ended or was killed; ``str()`` says why."""


_isolation: Isolation | None = None
_RUNTIME: list[str] = []


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


def _confine(
    hide: list[str],
    needed: list[str],
    uid: int | None,
    limits: Limits,
    namespaces: bool,
    workdir: str,
) -> Any:
    """What the fork server's child runs to confine itself, before any student code."""

    def apply() -> None:
        try:
            confine()
        except BaseException:
            # fd 2 is already the submission's log: leave the reason for the grader
            import traceback

            os.write(2, traceback.format_exc().encode())
            raise

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

    return apply


class Sandbox:
    """One student's process, answering calls on plain data."""

    def __init__(
        self,
        workdir: Path,
        *,
        hide: list[Path] | None = None,
        limits: Limits | None = None,
        uid: int | None = None,
    ) -> None:
        self.workdir = workdir.resolve()
        self.limits = limits or Limits()
        self.isolation = isolation()
        self.uid = uid if self.isolation.own_uid else None
        self.hide = [str(p.resolve()) for p in (hide or []) if p.exists() and p.is_dir()]
        self.pid: int | None = None
        self._code: int | None = None
        self.died: str | None = None
        self._logs = self.workdir.parent / f".{self.workdir.name}.logs"
        self._offsets: dict[str, int] = {}

    def start(self) -> None:
        self._logs.mkdir(mode=0o700, exist_ok=True)
        if self.uid is not None:
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, self.uid, self.uid)
            self.workdir.chmod(0o700)
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        with contextlib.suppress(OSError):  # room for a traced loop to run ahead
            fcntl.fcntl(from_child_r, F_SETPIPE_SZ, PIPE_SIZE)
        create = os.O_WRONLY | os.O_CREAT | os.O_APPEND  # a restart keeps earlier output
        stdout = os.open(self._logs / "stdout", create, 0o600)
        stderr = os.open(self._logs / "stderr", create, 0o600)
        config = {
            "workdir": str(self.workdir),
            "hide": self.hide,
            "needed": _RUNTIME,
            "uid": self.uid,
            "limits": asdict(self.limits),
            "namespaces": self.isolation.namespaces,
            "env": {"HOME": str(self.workdir)},
        }
        try:
            self._server = forkserver.server()
            self.pid = self._server.spawn(config, [to_child_r, from_child_w, stdout, stderr])
        except (forkserver.ForkServerError, OSError) as exc:
            os.close(to_child_w)
            os.close(from_child_r)
            self.died = f"the grader could not start a process for your code ({exc})"
            raise SandboxDied(self.died) from None
        finally:
            for fd in (to_child_r, from_child_w, stdout, stderr):
                os.close(fd)
        self._pipe = Channel(from_child_r, to_child_w, self._check)

    def _check(self) -> None:
        if self._exit_code(0) is not None:
            self._dead()

    def _exit_code(self, timeout: float) -> int | None:
        """The child's exit code once it has ended (None while it runs)."""
        if self.pid is not None and self._code is None:
            self._code = self._server.wait(self.pid, timeout)
        return self._code

    def call(
        self,
        target: str,
        args: Any = (),
        kwargs: Any = None,
        owner: Any = None,
        convert: wire.Convert | None = None,
        readonly: bool = False,
    ) -> dict[str, Any]:
        """Ask the student's process to run ``target``; returns its reply
        (``{"value": ...}``, ``{"value": ..., "self": ...}`` or ``{"error": ...}``)."""
        self.send(wire.request(target, args, kwargs, owner, readonly), convert)
        return self.receive()

    def send(self, request: dict[str, Any], convert: wire.Convert | None = None) -> None:
        """Send one request (see ``wire.request``), starting the process if needed."""
        if self.died is not None:
            raise SandboxDied(self.died)
        if self.pid is None:
            self.start()
        self._pipe.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            wire.send(self._pipe, request, convert)
        except Expired:
            self._timed_out()
        except OSError:
            self._dead()

    def receive(self) -> dict[str, Any]:
        """The next message from the student's process, within the wall-clock
        limit of one call."""
        if self.died is not None:
            raise SandboxDied(self.died)
        self._pipe.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            reply = wire.receive(self._pipe)
        except Expired:
            self._timed_out()
        except (EOFError, OSError):
            self._dead()
        except wire.WireError as exc:
            self.kill()
            self.died = f"your code's process sent something that is not data ({exc})"
            raise SandboxDied(self.died) from None
        if not isinstance(reply, dict):
            self.kill()
            self.died = "your code's process sent a malformed reply"
            raise SandboxDied(self.died)
        return reply

    def _timed_out(self) -> Any:
        self.kill()
        self.died = (
            f"your code ran for more than {self.limits.wall_seconds:g} s "
            "(an endless loop or a long sleep?)"
        )
        raise SandboxDied(self.died)

    def restart(self) -> None:
        """Stop the student's process; the next call starts a fresh one (its
        output keeps going to the same logs)."""
        if self.pid is not None:
            self.kill()
            self._pipe.close()
        self.pid, self._code, self.died = None, None, None

    def _dead(self) -> Any:
        code = self._exit_code(5)
        if code is None:
            self.kill()
            code = self._exit_code(5)
        self.died = _death(code if code is not None else -signal.SIGKILL, self.limits)
        raise SandboxDied(self.died)

    def kill(self) -> None:
        """Kill the child and everything it started (its own session), and reap it."""
        if self.pid is None or self._code is not None:
            return
        for kill in (os.kill, os.killpg):  # killpg: whatever it forked
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(self.pid, signal.SIGKILL)
        self._exit_code(5)

    def output_since(self) -> tuple[str, str]:
        """The student's stdout and stderr written since the last call (capped)."""
        texts = []
        for stream in ("stdout", "stderr"):
            path = self._logs / stream
            start = self._offsets.get(stream, 0)
            try:
                size = path.stat().st_size
                with open(path, "rb") as f:
                    f.seek(max(start, size - OUTPUT_TAIL))
                    data = f.read()
            except OSError:
                texts.append("")
                continue
            self._offsets[stream] = size
            text = data.decode("utf-8", errors="replace")
            cut = size - start - len(data)
            texts.append(f"[... {cut} bytes cut ...]\n{text}" if cut > 0 else text)
        return texts[0], texts[1]

    def output(self) -> tuple[str, str]:
        """The last 16 KiB of the student's stdout and stderr."""
        return _tail(self._logs / "stdout"), _tail(self._logs / "stderr")

    def close(self) -> tuple[str, str]:
        """Stop the process and return its output; the work dir is removed."""
        if self.pid is not None:
            self.kill()  # its output is unbuffered and already on disk: no need to wait
            self._pipe.close()
        out = self.output()
        shutil.rmtree(self._logs, ignore_errors=True)
        return out


def _death(code: int, limits: Limits) -> str:
    if code < 0:
        sig = -code
        reasons = {
            signal.SIGXCPU: f"used more than {limits.cpu_seconds} s of CPU time",
            signal.SIGXFSZ: f"wrote a file or output larger than {limits.file_mb} MB",
            signal.SIGSEGV: "crashed with a segmentation fault",
            signal.SIGKILL: "was killed (out of memory, or stopped by the grader)",
        }
        name = signal.Signals(sig).name
        reason = reasons.get(signal.Signals(sig), f"was killed by signal {name}")
        return f"your code's process {reason}"
    if code == forkserver.SETUP_FAILED:
        return "your code's process could not be set up by the grader (see its stderr)"
    return f"your code's process exited with code {code} (sys.exit or os._exit?)"


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - OUTPUT_TAIL))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return (f"[... {size - OUTPUT_TAIL} bytes cut ...]\n" + text) if size > OUTPUT_TAIL else text
