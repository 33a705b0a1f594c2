"""The two pipes to a student's process, with a deadline on every read and
write: a process that stops halfway through a message, or stops reading,
cannot make the grader wait forever."""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable


class Expired(Exception):
    """The deadline passed while waiting on the student's process."""


class Channel:
    """Reads and writes whole byte strings; ``deadline`` (a ``time.monotonic``
    value) bounds each wait, and ``check`` is called about once a second
    while waiting (to notice a process that died)."""

    def __init__(self, read_fd: int, write_fd: int, check: Callable[[], None]) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        os.set_blocking(write_fd, False)
        self.check = check
        self.deadline = float("inf")
        self.buffer, self.start = bytearray(), 0
        self.outgoing: list[bytes] = []

    def _wait(self, fd: int, writing: bool) -> None:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Expired
            sets: tuple[list[int], list[int]] = ([], [fd]) if writing else ([fd], [])
            ready = select.select(*sets, [], min(left, 1.0))
            if ready[0] or ready[1]:
                return
            self.check()

    def pending(self) -> bool:
        """Bytes already read from the pipe but not yet consumed."""
        return self.start < len(self.buffer)

    def read(self, size: int) -> bytearray:
        """Up to ``size`` bytes (empty at end of file), as a fresh bytearray
        (so arrays made from it are writable without another copy)."""
        if not self.pending():
            self._wait(self.read_fd, writing=False)
            self.buffer, self.start = bytearray(os.read(self.read_fd, max(size, 1 << 16))), 0
        chunk = self.buffer[self.start : self.start + size]
        self.start += len(chunk)
        return chunk

    def write(self, data: bytes) -> None:
        self.outgoing.append(data)

    def flush(self) -> None:
        """Send everything written since the last flush."""
        data, self.outgoing = b"".join(self.outgoing), []
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.write_fd, view) :]
            except BlockingIOError:
                self._wait(self.write_fd, writing=True)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
