"""A fork server for students' processes.

Starting a Python interpreter and importing numpy costs about 0.1 s, more
than grading most submissions. So each trusted process starts one server: a
fresh interpreter (``-I``, a scrubbed environment) that imports numpy and
the sandbox's worker side and nothing of the course. For each submission it
forks a child, which confines itself exactly as before (namespaces, hidden
folders, rlimits, its own uid) and then serves calls, without an exec.

The server never sees the reference, the tests or the scores: it only holds
what every student process holds anyway. It reaps a child only when asked,
so a child's pid (and process group) is never reused while the trusted side
may still signal it.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

MESSAGE = 1 << 20
CHILD_FDS = 4  # to the child, from the child, its stdout log, its stderr log
SETUP_FAILED = 70  # the child's exit code when confining itself failed
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class ForkServerError(Exception):
    """The fork server could not be started or stopped answering."""


# --- the trusted side ------------------------------------------------------------


class ForkServer:
    """The trusted process's handle on its server."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.owner = os.getpid()
        with tempfile.TemporaryFile() as errors:  # its stderr, to say why it did not start
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-m", "grader.sandbox.forkserver", str(theirs.fileno())],
                    cwd="/",
                    env=CHILD_ENV,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    pass_fds=(theirs.fileno(),),
                )
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
                errors.seek(0)
                lines = errors.read().decode(errors="replace").strip().splitlines()
                why = lines[-1] if lines else f"exit code {self.process.returncode}"
                raise ForkServerError(
                    f"cannot start {sys.executable} -I -m grader.sandbox.forkserver ({why}); "
                    "is backprop-grader installed in this Python (pip install .)?"
                )

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def spawn(self, config: dict[str, Any], fds: list[int]) -> int:
        """Fork a confined child serving on ``fds`` (see CHILD_FDS); its pid."""
        socket.send_fds(self.sock, [json.dumps({"op": "spawn", **config}).encode()], fds)
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


_server: ForkServer | None = None


def server() -> ForkServer:
    """This process's fork server, started on first use (and again after a
    fork of this process, or if it died)."""
    global _server
    if _server is None or not _server.alive():
        _server = ForkServer()
    return _server


# --- the server ------------------------------------------------------------------


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

    from grader.sandbox import confine
    from grader.sandbox import worker as sandbox_worker

    workdir = str(request["workdir"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update({**CHILD_ENV, **request["env"]})
    limits = confine.Limits(**request["limits"])
    confined = confine.confinement(
        list(request["hide"]),
        list(request["needed"]),
        request["uid"],
        limits,
        bool(request["namespaces"]),
        workdir,
    )
    confined()
    os.chdir(workdir)  # again, now through the new mounts
    # every student process starts from the same random state, so a submission
    # that draws random numbers gets the same score on any worker and in any order
    random.seed(0)
    np.random.seed(0)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    sys.argv = ["submission"]
    sys.path.insert(0, workdir)
    sandbox_worker.run(3, 4, Path(workdir))


def _spawn(request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
    if len(fds) != CHILD_FDS:
        return {"error": f"expected {CHILD_FDS} file descriptors, got {len(fds)}"}
    try:
        pid = os.fork()
    except OSError as exc:
        return {"error": f"could not fork: {exc}"}
    if pid == 0:
        _child(request, fds)
    return {"pid": pid}


def _wait(pid: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return {"status": None, "error": f"no child {pid}"}
        if done == pid:
            return {"status": os.waitstatus_to_exitcode(status)}
        if time.monotonic() >= deadline:
            return {"status": None}
        time.sleep(0.002)


def serve(sock: socket.socket) -> None:
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
            if request.get("op") == "spawn":
                reply = _spawn(request, fds)
            elif request.get("op") == "wait":
                reply = _wait(int(request["pid"]), float(request["timeout"]))
            else:
                reply = {"error": f"unknown request {request.get('op')!r}"}
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"error": f"malformed request: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the trusted process
    # imported now, once, so that every child starts with them loaded
    import numpy  # noqa: F401

    from grader.sandbox import confine, worker  # noqa: F401

    serve(socket.socket(fileno=int(sys.argv[1])))


if __name__ == "__main__":
    main()
