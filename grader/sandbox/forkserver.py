"""The fork server: one per trusted worker, inside its jail.

Starting a Python interpreter and importing numpy costs about 0.1 s, more
than grading most submissions. So each trusted process starts one server in
a bubblewrap jail (``grader.sandbox.jail``): an interpreter that imports
numpy and the sandbox's worker side and nothing of the course. For each
submission it forks a child, which splits off namespaces of its own
(``grader.sandbox.confine``), receives the submission's files into a fresh
tmpfs work folder, drops every capability and then serves calls, without an
exec. Only one submission lives in a jail at a time; when it is killed,
everything it started goes with it.

The server never sees the reference, the tests or the scores: it only holds
what every student process holds anyway, and it cannot be reached from a
submission's namespaces. It reaps a child only when asked.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

from grader.sandbox import stage
from grader.sandbox.cgroup import Cgroup, create
from grader.sandbox.confine import PR_SET_DUMPABLE, Limits
from grader.sandbox.jail import ALLOWED_PACKAGES, WORK, JailError, command, layout

MESSAGE = 1 << 20
CHILD_FDS = 4  # to the child, from the child, its stdout log, its stderr log
SETUP_FAILED = 70  # the child's exit code when confining itself failed
UID_BASE = 200_000  # jail users: UID_BASE + the trusted worker's pid (unique while it lives)
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_names = itertools.count()


class ForkServerError(Exception):
    """The fork server could not be started or stopped answering."""


# --- the trusted side ------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """How the server's children are confined: in a jail (``sandbox``) or
    not; as ``run_as`` when not (root only); and the per-submission limits
    the jail and its cgroup enforce."""

    sandbox: bool = True
    run_as: int | None = None
    memory_mb: int = 2048
    processes: int = 32
    disk_mb: int = 64
    packages: tuple[str, ...] = ALLOWED_PACKAGES  # what the jail shows of site-packages
    modules: tuple[str, ...] = ()  # imported by the server once, before its first child

    def __post_init__(self) -> None:
        object.__setattr__(self, "packages", tuple(self.packages))  # a list, from JSON
        object.__setattr__(self, "modules", tuple(self.modules))

    @classmethod
    def of(
        cls,
        limits: Limits,
        sandbox: bool,
        run_as: int | None,
        packages: tuple[str, ...] = ALLOWED_PACKAGES,
        modules: tuple[str, ...] = (),
    ) -> Setup:
        return cls(
            sandbox, run_as, limits.memory_mb, limits.processes, limits.disk_mb, packages, modules
        )


class ForkServer:
    """The trusted process's handle on its server (and on its jail's cgroup)."""

    def __init__(self, setup: Setup | None = None) -> None:
        self.setup = setup or Setup()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.owner = os.getpid()
        self.cgroup: Cgroup | None = None
        argv = self._argv(theirs.fileno())
        with tempfile.TemporaryFile() as errors:  # its stderr, to say why it did not start
            try:
                self.process = subprocess.Popen(
                    argv,
                    cwd="/",
                    env=CHILD_ENV,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    pass_fds=(theirs.fileno(),),
                )
            except OSError:
                self._drop_cgroup()
                raise
            finally:
                theirs.close()
            ours.settimeout(60)
            try:
                ready = self._receive().get("ready") is True
            except ForkServerError:
                ready = False
            ours.settimeout(None)
            if not ready:
                self.process.kill()
                self.process.wait()
                self._drop_cgroup()
                errors.seek(0)
                lines = errors.read().decode(errors="replace").strip().splitlines()
                why = lines[-1] if lines else f"exit code {self.process.returncode}"
                where = "in its bubblewrap jail" if self.setup.sandbox else "without a sandbox"
                raise ForkServerError(
                    f"cannot start the students' fork server {where} ({why}); "
                    "is backprop-grader installed in this Python (pip install .)?"
                )

    def _argv(self, fd: int) -> list[str]:
        python = [sys.executable, "-I", "-S"]
        if not self.setup.sandbox:
            code = "from grader.sandbox.forkserver import main; main()"
            return [sys.executable, "-I", "-c", code, str(fd)]
        root = os.geteuid() == 0
        uid = UID_BASE + os.getpid() if root else os.getuid()
        try:
            jail_argv = command(uid, fd, self.setup.disk_mb, self.setup.packages)
        except JailError as exc:
            raise ForkServerError(str(exc)) from None
        self.cgroup = create(f"jail{next(_names)}", self.setup.memory_mb, self.setup.processes)
        spec = {
            "argv": jail_argv,
            "uid": uid if root else None,
            "sources": layout(self.setup.packages).sources(),
            "cgroups": self.cgroup.procs if self.cgroup else [],
        }
        return [*python, str(Path(stage.__file__)), json.dumps(spec)]

    def _drop_cgroup(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def spawn(self, config: dict[str, Any], fds: list[int]) -> int:
        """Fork a confined child serving on ``fds`` (see CHILD_FDS); its pid
        (in the jail's PID namespace: signal it through ``kill``)."""
        request = {"op": "spawn", **config, "setup": asdict(self.setup)}
        socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        reply = self._receive()
        if "pid" not in reply:
            raise ForkServerError(str(reply.get("error", "the fork server could not fork")))
        return int(reply["pid"])

    def wait(self, pid: int, timeout: float) -> int | None:
        """The child's exit code (negative: killed by that signal), reaping it;
        None if it is still running after ``timeout`` seconds."""
        self.sock.send(json.dumps({"op": "wait", "pid": pid, "timeout": timeout}).encode())
        status = self._receive().get("status")
        return int(status) if isinstance(status, int) else None

    def kill(self, pid: int) -> None:
        """Kill the child and everything it started."""
        self.sock.send(json.dumps({"op": "kill", "pid": pid}).encode())
        self._receive()

    def _receive(self) -> dict[str, Any]:
        try:
            data = self.sock.recv(MESSAGE)
        except OSError as exc:
            raise ForkServerError(f"the fork server stopped answering ({exc})") from None
        if not data:
            raise ForkServerError("the fork server exited")
        reply = json.loads(data)
        return reply if isinstance(reply, dict) else {}

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._drop_cgroup()


_servers: dict[Setup, ForkServer] = {}


def close_all() -> None:
    """Stop this process's servers (their jails and cgroups go with them)."""
    for found in list(_servers.values()):
        if found.owner == os.getpid():
            with contextlib.suppress(OSError, ForkServerError):
                found.close()
    _servers.clear()


atexit.register(close_all)


def server(setup: Setup | None = None) -> ForkServer:
    """This process's fork server for ``setup``, started on first use (and
    again after a fork of this process, or if it died)."""
    setup = setup or Setup()
    found = _servers.get(setup)
    if found is None or not found.alive():
        _servers[setup] = found = ForkServer(setup)
    return found


# --- the server ------------------------------------------------------------------


_imported: set[str] = set()


def _import_ahead(modules: tuple[str, ...]) -> None:
    """Import the course's modules here, once, before forking: each child
    starts with them loaded instead of importing them itself. One that does
    not import is left to the student's own import, which reports it."""
    for name in modules:
        if name in _imported or type(name) is not str:
            continue
        _imported.add(name)
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _child(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In the forked child: become the student's process."""
    code = 0
    try:
        os.setsid()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]
        null = os.open(os.devnull, os.O_RDONLY)
        for target, fd in zip(
            (0, 1, 2, 3, 4), (null, high[2], high[3], high[0], high[1]), strict=True
        ):
            os.dup2(fd, target)
        os.closerange(5, os.sysconf("SC_OPEN_MAX"))  # the server's socket included
        _become_student(request)
    except BaseException:  # fd 2 is the submission's log: leave the reason there
        with contextlib.suppress(OSError):
            os.write(2, traceback.format_exc().encode())
        code = SETUP_FAILED
    os._exit(code)


def _become_student(request: dict[str, Any]) -> None:
    import random

    import numpy as np

    from grader.sandbox import confine, files
    from grader.sandbox import worker as sandbox_worker

    setup = Setup(**request["setup"])
    limits = Limits(**request["limits"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update({**CHILD_ENV, "HOME": request["workdir"]})
    if setup.sandbox:
        confine.own_namespaces()  # from here on: the init of a PID namespace of its own
        confine.private_mounts(request["workdir"], limits.disk_mb)
    elif setup.run_as is not None:
        confine.become(setup.run_as)
    workdir = Path(request["workdir"])
    files.receive(3, workdir, limits.disk_mb * 1024 * 1024)
    confine.apply_limits(limits, own_user=setup.sandbox or setup.run_as is not None)
    confine.steady_malloc()
    if setup.sandbox:
        confine.drop_privileges()
    os.chdir(workdir)
    # every student process starts from the same random state, so a submission
    # that draws random numbers gets the same score on any worker and in any order
    random.seed(0)
    np.random.seed(0)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    sys.argv = ["submission"]
    sys.path.insert(0, str(workdir))
    sandbox_worker.run(3, 4, workdir)


class Children:
    """The server's children and, without a jail, their work folders."""

    def __init__(self) -> None:
        self.folders: dict[int, str] = {}
        self.jailed = False

    def spawn(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        if len(fds) != CHILD_FDS:
            return {"error": f"expected {CHILD_FDS} file descriptors, got {len(fds)}"}
        setup = Setup(**request["setup"])
        self.jailed = setup.sandbox
        # the trusted side imports its own meanwhile (``TrustedStudent.preload``)
        _import_ahead(setup.modules)
        if setup.sandbox:
            folder = WORK  # a fresh tmpfs of the child's own
        else:  # a fresh folder only this child's user may enter
            folder = tempfile.mkdtemp(prefix="grader-student-")
            if setup.run_as is not None:
                os.chown(folder, setup.run_as, setup.run_as)  # an empty folder: nothing to follow
        try:
            pid = os.fork()
        except OSError as exc:
            return {"error": f"could not fork: {exc}"}
        if pid == 0:
            _child({**request, "workdir": folder}, fds)
        if not setup.sandbox:
            self.folders[pid] = folder
        return {"pid": pid}

    def wait(self, pid: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return {"status": None, "error": f"no child {pid}"}
            if done == pid:
                self._forget(pid)
                return {"status": os.waitstatus_to_exitcode(status)}
            if time.monotonic() >= deadline:
                return {"status": None}
            time.sleep(0.002)

    def kill(self, pid: int) -> dict[str, Any]:
        """SIGKILL the child; without a jail also its session (setsid), inside
        one every other process of the jail too (one submission at a time)."""
        for kill in (os.kill, os.killpg):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
        if self.jailed:  # in the jail's PID namespace: bwrap is 1, this server 2
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) not in (1, os.getpid(), pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(entry), signal.SIGKILL)
        return {"killed": pid}

    def _forget(self, pid: int) -> None:
        folder = self.folders.pop(pid, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def serve(sock: socket.socket) -> None:
    children = Children()
    sock.send(json.dumps({"ready": True}).encode())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MESSAGE, CHILD_FDS)
        except OSError:
            return
        if not data:
            return  # the trusted process went away
        try:
            request = json.loads(data)
            op = request.get("op")
            if op == "spawn":
                reply = children.spawn(request, fds)
            elif op == "wait":
                reply = children.wait(int(request["pid"]), float(request["timeout"]))
            elif op == "kill":
                reply = children.kill(int(request["pid"]))
            else:
                reply = {"error": f"unknown request {op!r}"}
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"error": f"malformed request: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the trusted process
    # nobody may read this process's memory or trace it (a submission runs as its user)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # imported now, once, so that every child starts with them loaded
    import numpy.random  # noqa: F401

    from grader.sandbox import files, worker  # noqa: F401

    serve(socket.socket(fileno=int(sys.argv[1])))


if __name__ == "__main__":
    main()
