"""The trusted side's handle on one student's process: start it in the
jail (forked by ``grader.sandbox.forkserver``, spoken to through
``grader.sandbox.channel``), carry the submission's files to it, ask it for
calls, and hold it to its budgets: the time of one call, the total wall and
CPU time and the number of replies of the whole submission, and (through the
jail's cgroup) the memory of all its processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import time
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from grader.gradcheck.tracebacks import ProcessEnded
from grader.sandbox import files, forkserver, wire
from grader.sandbox.channel import Channel, Expired
from grader.sandbox.confine import Limits
from grader.sandbox.jail import ALLOWED_PACKAGES

OUTPUT_TAIL = 16 * 1024
F_SETPIPE_SZ, PIPE_SIZE = 1031, 1 << 20
CGROUP_CHECK_SECONDS = 0.2


class SandboxDied(ProcessEnded):
    """The student's process ended or was killed; ``str()`` says why."""


class Sandbox:
    """One student's process, answering calls on plain data."""

    def __init__(
        self,
        workdir: Path,
        *,
        limits: Limits | None = None,
        sandbox: bool = True,
        run_as: int | None = None,
        packages: tuple[str, ...] = ALLOWED_PACKAGES,
        modules: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir.resolve()
        self.limits = limits or Limits()
        self.setup = forkserver.Setup.of(self.limits, sandbox, run_as, packages, modules)
        self.pid: int | None = None
        self._code: int | None = None
        self.died: str | None = None
        # beside the work folder (in a batch: inside --out, so a killed batch
        # leaves nothing elsewhere)
        self._logs = Path(
            tempfile.mkdtemp(prefix=f".{self.workdir.name}.logs-", dir=self.workdir.parent)
        )
        weakref.finalize(self, shutil.rmtree, self._logs, True)  # if never closed
        self._offsets: dict[str, int] = {}
        self._waited = 0.0  # seconds spent waiting for its replies, all calls
        self._replies = 0
        self._pending = 0  # replies of posted requests not read yet
        self._cpu_base: float | None = None
        self._next_cgroup_check = 0.0

    def start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        with contextlib.suppress(OSError):  # room for a traced loop to run ahead
            fcntl.fcntl(from_child_r, F_SETPIPE_SZ, PIPE_SIZE)
        create = os.O_WRONLY | os.O_CREAT | os.O_APPEND  # a restart keeps earlier output
        stdout = os.open(self._logs / "stdout", create, 0o600)
        stderr = os.open(self._logs / "stderr", create, 0o600)
        try:
            self._server = forkserver.server(self.setup)
            group = self._server.cgroup
            if self._cpu_base is None:  # once: a restart does not renew the CPU budget
                self._cpu_base = group.cpu_seconds() if group else 0.0
            self.pid = self._server.spawn(
                {"limits": asdict(self.limits)}, [to_child_r, from_child_w, stdout, stderr]
            )
        except (forkserver.ForkServerError, OSError) as exc:
            os.close(to_child_w)
            os.close(from_child_r)
            self.died = f"the grader could not start a process for your code ({exc})"
            raise SandboxDied(self.died) from None
        finally:
            for fd in (to_child_r, from_child_w, stdout, stderr):
                os.close(fd)
        self._pipe = Channel(from_child_r, to_child_w, self._check)
        self._pipe.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            files.send(self._pipe, self.workdir, self.limits.disk_mb * 1024 * 1024)
        except files.FilesError as exc:
            self.kill()
            self.died = str(exc)
            raise SandboxDied(self.died) from None
        except Expired:
            self._timed_out(self.limits.wall_seconds)
        except OSError:
            self._dead()

    def _check(self) -> None:
        if self.exit_code(0) is not None:
            self._dead()

    def exit_code(self, timeout: float) -> int | None:
        """The child's exit code once it has ended (None while it runs)."""
        if self.pid is not None and self._code is None:
            try:
                self._code = self._server.wait(self.pid, timeout)
            except forkserver.ForkServerError:
                self._code = -signal.SIGKILL  # the jail is gone, and everything in it
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
        (``{"value": ..., "mutated": [...]}``, with ``"state"`` for a method,
        or ``{"error": ...}``), read within the bound of a reply to it."""
        message = wire.encode(wire.request(target, args, kwargs, owner, readonly), convert)
        self.send(message)
        return self.receive(message.bound())

    def send(
        self, request: dict[str, Any] | wire.Message, convert: wire.Convert | None = None
    ) -> None:
        """Send one request (see ``wire.request``; or one already encoded),
        starting the process if needed."""
        if self.died is not None:
            raise SandboxDied(self.died)
        if self.pid is None:
            self.start()
        allowed = self._allowed()
        self._pipe.deadline = time.monotonic() + allowed
        try:
            wire.send(self._pipe, request, convert)
        except Expired:
            self._timed_out(allowed)
        except OSError:
            self._dead()

    def post(self, request: dict[str, Any]) -> None:
        """Send a request whose reply nobody waits for now (the submission's
        modules imported while the trusted side imports its own): the next
        ``receive`` reads and drops that reply first."""
        self.send(request)
        self._pending += 1

    def receive(self, bound: wire.Bound | None = None) -> dict[str, Any]:
        """The next message from the student's process, within the wall-clock
        limit of one call, and within ``bound`` (default: no arrays beyond
        ``wire.FLOOR_ELEMENTS``; see ``wire.Message.bound``)."""
        while self._pending:
            self._pending -= 1
            self._receive(None)
        return self._receive(bound)

    def _receive(self, bound: wire.Bound | None) -> dict[str, Any]:
        if self.died is not None:
            raise SandboxDied(self.died)
        allowed = self._allowed()
        started = time.monotonic()
        self._pipe.deadline = started + allowed
        try:
            reply = wire.receive(self._pipe, bound or wire.Bound.expecting(()))
        except Expired:
            self._timed_out(allowed)
        except (EOFError, OSError):
            self._dead()
        except wire.WireError as exc:
            self._over_budget(f"your code's process sent something that is not data ({exc})")
        finally:
            self._waited += time.monotonic() - started
        if not isinstance(reply, dict):
            self._over_budget("your code's process sent a malformed reply")
        self._replies += 1
        self._within_budget()
        return reply

    def _allowed(self) -> float:
        """Seconds the next call may take: its own limit, or what is left of
        the submission's total."""
        left = self.limits.total_wall_seconds - self._waited
        if left <= 0:
            self._over_budget(
                f"your code used up its total time of {self.limits.total_wall_seconds:g} s"
            )
        return min(self.limits.wall_seconds, left)

    def _within_budget(self) -> None:
        if self._replies > self.limits.messages:
            self._over_budget(f"your code's process sent more than {self.limits.messages} replies")
        # the cgroup's files are read a few times a second, not on every reply of
        # a training loop (reading them costs more than a small reply)
        now = time.monotonic()
        if now < self._next_cgroup_check:
            return
        self._next_cgroup_check = now + CGROUP_CHECK_SECONDS
        group = self._server.cgroup
        if group is not None and group.out_of_memory():
            self._over_budget(
                f"your code's processes used more than {self.limits.memory_mb} MB of memory "
                "together"
            )
        if group is not None:
            used = group.cpu_seconds() - (self._cpu_base or 0.0)
            if used > self.limits.total_cpu_seconds:
                self._over_budget(
                    f"your code used more than {self.limits.total_cpu_seconds:g} s of CPU "
                    "time in all"
                )

    def _over_budget(self, why: str) -> NoReturn:
        self.kill()
        self.died = why
        raise SandboxDied(why)

    def _timed_out(self, allowed: float) -> NoReturn:
        if allowed < self.limits.wall_seconds:
            self._over_budget(
                f"your code used up its total time of {self.limits.total_wall_seconds:g} s"
            )
        self._over_budget(
            f"your code ran for more than {self.limits.wall_seconds:g} s "
            "(an endless loop or a long sleep?)"
        )

    def restart(self) -> None:
        """Stop the student's process; the next call starts a fresh one (its
        output keeps going to the same logs)."""
        if self.pid is not None:
            self.kill()
            self._pipe.close()
        self.pid, self._code, self.died = None, None, None

    def _dead(self) -> NoReturn:
        code = self.exit_code(5)
        if code is None:
            self.kill()
            code = self.exit_code(5)
        group = self._server.cgroup
        if group is not None and group.out_of_memory():
            self.died = (
                f"your code's processes used more than {self.limits.memory_mb} MB of memory "
                "together"
            )
        else:
            self.died = _death(code if code is not None else -signal.SIGKILL, self.limits)
        raise SandboxDied(self.died)

    def kill(self) -> None:
        """Kill the child and everything it started, and reap it."""
        if self.pid is None or self._code is not None:
            return
        with contextlib.suppress(forkserver.ForkServerError, OSError):
            self._server.kill(self.pid)
        self.exit_code(5)

    @property
    def output_folder(self) -> Path:
        """Where its stdout and stderr are kept until ``close``."""
        return self._logs

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
