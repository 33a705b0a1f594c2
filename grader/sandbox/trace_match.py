"""Matched runs: a trusted training loop run with the reference answering,
checked call by call against the student's own run of it.

When the trusted worker enters given code that can reach a task (a driver,
see ``grader.sandbox.trace_replay``), it first asks the student's process to
run its copy of the driver and stream, for outermost unit calls (the first
few, then one in eight: ``fingerprint.printed``), a print of the call's arguments and
object and of its value, and at the end a print of what the driver returned
and left in its object and arguments (``grader.sandbox.fingerprint``; the
student's side is ``grader.sandbox.trace_recorder``). Meanwhile the trusted
side runs the same driver with the reference answering every unit call, and
prints the same.
Both run at once, each at the speed of one process running the loop.

While every print is the same (up to rounding), the student's run went the
trusted run's way step by step, so the trusted run's result is the
student's. At the first print that differs (a wrong gradient, an edited
learning rate), or a call that raised, the grader asks the student's process
to stop and runs the driver again from its first arguments as a traced run
whose replies are the student's (``trace_replay``): a submission whose
functions are wrong ends exactly as it would in one process.

A print is not a security boundary: whether the student's functions give
those answers is checked after the run on calls drawn at random, sent to
the student's process directly and judged against the reference
(``grader.plugin.verified``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from grader.sandbox import fingerprint, wire
from grader.sandbox.process import Sandbox, SandboxDied

MAX_TARGET = 300  # characters of a unit's name
MAX_AFTER_STOP = 8  # messages read after asking a run to stop
# one batch of prints: BATCH calls' names and sizes, and their numbers in one array
BATCH, MAX_PRINT = fingerprint.BATCH, fingerprint.MAX_PRINT
BATCH_BOUND = wire.Bound(
    array_elements=BATCH * MAX_PRINT,
    total_elements=BATCH * MAX_PRINT,
    arrays=1,
    header_bytes=BATCH * (MAX_TARGET + 16) + 256,
    containers=8,
)


class Match:
    """The prints the student's process is streaming for one driver call."""

    def __init__(self, sandbox: Sandbox, convert: wire.Convert) -> None:
        self.sandbox, self.convert = sandbox, convert
        self.queue: deque[tuple[str, np.ndarray | None]] = deque()
        self.ended = True
        self.parted = False
        self.final: np.ndarray | None = None

    def start(self, request: dict[str, Any], units: list[str], declared: frozenset[str]) -> bool:
        """Ask for a matched run; False if the arguments are not all data."""
        message = wire.encode({**request, "trace": units, "match": sorted(declared)}, self.convert)
        if not message.plain or self.sandbox.died is not None:
            return False
        try:
            self.sandbox.send(message)
        except SandboxDied:
            self.sandbox.restart()
            return False
        self.ended = False
        return True

    def same(self, target: str, mine: np.ndarray) -> bool:
        """Whether the student's next printed unit call was ``target`` and
        printed as ``mine``; on the first that was not, the runs have parted and the
        student's process is stopped."""
        if self.parted:
            return False
        if not self.queue and not self.ended:
            self._read()
        if self.queue:
            theirs, numbers = self.queue.popleft()
            if theirs == target and numbers is not None and fingerprint.same(mine, numbers):
                return True
        self.part()
        return False

    def finish(self, mine: np.ndarray) -> bool:
        """The trusted run is over: whether the student's ended the same way,
        after the same calls, returning and leaving what prints as ``mine``."""
        while not self.parted and not self.ended and not self.queue:
            self._read()  # a batch after the trusted run's last call: it made more calls
        if self.parted or self.queue or self.final is None:
            self.part()
            return False
        return fingerprint.same(mine, self.final)

    def part(self) -> None:
        """Stop reading: ask the student's process to stop its run, and drop
        what it sends until it ends (restart it if it does not)."""
        self.parted = True
        self.queue.clear()
        if self.ended:
            return
        try:
            self.sandbox.send({"stop": True})
            # an honest process stops at its next batch; one that goes on is restarted
            for _ in range(MAX_AFTER_STOP):
                if self.ended:
                    return
                self._read()
            if not self.ended:
                self.sandbox.restart()
                self.ended = True
        except SandboxDied:
            self.sandbox.restart()
            self.ended = True

    def _read(self) -> None:
        """The next message of the run: a batch of prints, or its end."""
        try:
            message = self.sandbox.receive(BATCH_BOUND)
        except SandboxDied:
            # a timeout or crash, or a message beyond the bound: the traced
            # run that follows meets the same problem where it belongs, or not
            self.sandbox.restart()
            self.ended = self.parted = True
            return
        if "end" in message:
            self.ended = True
            final = message.get("final")
            if message.get("end") == "done" and type(final) is np.ndarray:
                self.final = final if final.dtype == np.float64 else None
            return
        batch = _batch(message.get("prints"))
        if batch is None:  # not a batch: the process is not trusted to stop, restart it
            self.queue.clear()
            self.sandbox.restart()
            self.ended = self.parted = True
            return
        self.queue.extend(batch)


def _batch(data: Any) -> list[tuple[str, np.ndarray | None]] | None:
    """A batch of prints as (unit, print or None for a call that raised);
    None if it is not one."""
    if type(data) is not list or len(data) != 3:
        return None
    targets, sizes, numbers = data
    if type(targets) is not list or type(sizes) is not list or len(targets) != len(sizes):
        return None
    if type(numbers) is not np.ndarray or numbers.dtype != np.float64 or numbers.ndim != 1:
        return None
    if not all(type(t) is str and len(t) <= MAX_TARGET for t in targets):
        return None
    if not all(type(n) is int and -1 <= n <= MAX_PRINT for n in sizes):
        return None
    if sum(n for n in sizes if n > 0) != numbers.size:
        return None
    batch: list[tuple[str, np.ndarray | None]] = []
    start = 0
    for target, size in zip(targets, sizes, strict=True):
        if size < 0:
            batch.append((target, None))
            continue
        batch.append((target, numbers[start : start + size]))
        start += size
    return batch
