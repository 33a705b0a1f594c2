"""Run a student's code in a confined child process (forked by
``grader.sandbox.forkserver``, spoken to through ``grader.sandbox.channel``).

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
import fcntl
import os
import shutil
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.gradcheck.tracebacks import ProcessEnded
from grader.sandbox import forkserver, wire
from grader.sandbox.channel import Channel, Expired
from grader.sandbox.confine import Limits, isolation, needed_paths

OUTPUT_TAIL = 16 * 1024
F_SETPIPE_SZ, PIPE_SIZE = 1031, 1 << 20


class SandboxDied(ProcessEnded):
    """The student's process ended or was killed; ``str()`` says why."""


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
            "needed": needed_paths(),
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
        self._pipe.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            wire.send(self._pipe, request, convert)
        except Expired:
            self._timed_out()
        except OSError:
            self._dead()

    def receive(self, bound: wire.Bound | None = None) -> dict[str, Any]:
        """The next message from the student's process, within the wall-clock
        limit of one call, and within ``bound`` (default: no arrays beyond
        ``wire.FLOOR_ELEMENTS``; see ``wire.Message.bound``)."""
        if self.died is not None:
            raise SandboxDied(self.died)
        self._pipe.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            reply = wire.receive(self._pipe, bound or wire.Bound.expecting(()))
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
