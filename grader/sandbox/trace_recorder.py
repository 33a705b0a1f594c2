"""The student's side of a traced run (see ``grader.sandbox.trace_replay``).

The trusted grader asks the student's process to run a piece of *given*
code (a training loop) itself. While it runs, every outermost call it makes
to a task's function or to another piece of given code that reaches one (a
"unit": ``loss_and_grads`` inside ``train``) is answered by the submission
and streamed back as the reply a call from the grader would have got, with
the unit's name and a print of the arguments it was called with
(``grader.sandbox.fingerprint``). The grader runs the loop's own code and
takes these replies in order while its arguments print the same; which of
them were true is checked after the run (``grader.plugin.verified``).

In a matched run (``grader.sandbox.trace_match``) it streams prints only,
in batches: for the unit calls ``printed`` picks, the print of the call's
arguments and object before it and of its value; at the end, the print of
what the driver returned and left in its object and arguments. Between batches it
looks for the grader's ``{"stop": true}`` (the runs parted: the grader will
not read further).
"""

from __future__ import annotations

import contextlib
import select
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, BinaryIO, Protocol

import numpy as np

from grader.sandbox import fingerprint, state, wire

MAX_ENTRIES = 100_000
FLUSH_SECONDS = 0.05  # replies wait in the buffer at most this long (a full buffer goes at once)


class Abort(BaseException):
    """Ends a traced run early; a BaseException so `except Exception` in the
    student's code does not swallow it."""


class Student(Protocol):
    """What the recorder needs of the submission (``grader.sandbox.worker``)."""

    def resolve(self, dotted: str) -> Any: ...
    def materialize(self, value: Any) -> Any: ...
    def convert(self, value: Any) -> wire.Token | None: ...
    def given(self, value: Any) -> bool: ...


class Prints:
    """A matched run's prints, sent in batches: ``{"prints": [targets,
    sizes, numbers]}``, a size of -1 for a call that raised."""

    def __init__(self, out: BinaryIO, stop: Callable[[], bool], declared: frozenset[str]) -> None:
        self.out, self.stop, self.declared = out, stop, declared
        self.targets: list[str] = []
        self.sizes: list[int] = []
        self.parts: list[np.ndarray] = []
        self.flushed = time.monotonic()

    def add(self, target: str, printed: np.ndarray | None) -> None:
        if printed is not None and printed.size > fingerprint.MAX_PRINT:
            printed = None  # too large to compare: the grader reads it as parted
        self.targets.append(target)
        self.sizes.append(-1 if printed is None else int(printed.size))
        if printed is not None:
            self.parts.append(printed)
        if (
            len(self.targets) >= fingerprint.BATCH
            or time.monotonic() - self.flushed > FLUSH_SECONDS
        ):
            self.send()

    def send(self) -> None:
        if self.targets:
            numbers = np.concatenate(self.parts) if self.parts else np.zeros(0)
            wire.send(self.out, {"prints": [self.targets, self.sizes, numbers]})
            self.targets, self.sizes, self.parts = [], [], []
        self.flushed = time.monotonic()
        if self.stop():
            raise Abort


class Recorder:
    def __init__(
        self,
        out: BinaryIO,
        student: Student,
        error: Callable[[BaseException], dict[str, Any]],
        prints: Prints | None = None,
    ) -> None:
        self.out, self.student, self.error = out, student, error
        self.prints = prints
        self.depth = 0
        self.count = 0
        self.flushed = time.monotonic()

    def emit(
        self, target: str, printed: np.ndarray, bound: wire.Bound, reply: dict[str, Any]
    ) -> None:
        """Send the reply to a call, within the bound the grader will read it with."""
        error = self.error
        wire.send(
            self.out,
            wire.fitting(
                {"entry": [target, printed, reply]},
                bound,
                lambda exc: {"entry": [target, printed, error(exc)]},
            ),
            flush=False,
        )
        now = time.monotonic()
        if now - self.flushed > FLUSH_SECONDS:
            self.out.flush()
            self.flushed = now

    def wrap(self, target: str, original: Any, method: bool) -> Any:
        student = self.student

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # a call inside a unit: the grader never sees it
                return original(*args, **kwargs)
            if self.count >= MAX_ENTRIES:
                raise Abort
            self.count += 1
            obj, rest = (args[0], args[1:]) if method else (None, args)
            if self.prints is not None:
                return self.printed(self.prints, target, original, obj, args, kwargs)
            arguments = [list(rest), dict(kwargs)]
            printed, shapes = fingerprint.take(arguments)
            bound = wire.Bound.expecting(shapes + fingerprint.held(obj, student.given))
            watch = state.Watch(obj, rest, kwargs, student.given)
            self.depth += 1
            try:
                result = original(*args, **kwargs)
            except (Abort, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.emit(target, printed, bound, self.error(exc))
                raise
            finally:
                self.depth -= 1
            self.emit(target, printed, bound, watch.reply(result))
            return result

        return recorded

    def printed(
        self,
        prints: Prints,
        target: str,
        original: Any,
        obj: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """One unit call of a matched run: run it, add its print if it is
        one that is printed."""
        if not fingerprint.printed(self.count - 1):
            self.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1
        given, declared = self.student.given, prints.declared
        rest = list(args[1:] if obj is not None else args)
        before, _ = fingerprint.take([obj, rest, kwargs], given, declared)
        self.depth += 1
        try:
            result = original(*args, **kwargs)
        except (Abort, KeyboardInterrupt):
            raise
        except BaseException:
            prints.add(target, None)
            raise
        finally:
            self.depth -= 1
        after, _ = fingerprint.take(result, given, declared)
        prints.add(target, np.concatenate([before, after]))
        return result


def stopping(inp: BinaryIO) -> Callable[[], bool]:
    """Whether the grader has asked a matched run to stop (it sends nothing
    else while one runs); the request is read and dropped."""

    def asked() -> bool:
        try:
            ready, _, _ = select.select([inp], [], [], 0)
        except (OSError, ValueError):
            return False
        if not ready:
            return False
        with contextlib.suppress(EOFError, wire.WireError):
            wire.receive(inp, wire.Bound.expecting(()))
        return True

    return asked


Patch = tuple[Any, str, Any]  # (module or class, attribute, what it held)


def install(
    recorder: Recorder,
    targets: list[str],
    resolve: Callable[[str], Any],
    modules: Callable[[], list[ModuleType]],
) -> list[Patch]:
    """Replace the units named in ``targets`` by recording wrappers; returns
    what to put back. Every target is resolved first, so that a module
    imported on the way copies (``from .losses import f``) the original,
    never a wrapper that would outlive this run."""
    found: list[tuple[str, Any]] = []
    for target in targets:
        try:
            found.append((target, resolve(target)))
        except (AttributeError, ModuleNotFoundError, SyntaxError):
            continue  # the grader's own call will report it
    loaded = modules()
    patches: list[Patch] = []
    for target, original in found:
        parts = target.split(".")
        if len(parts) == 3:  # module.Class.method
            owner = resolve(".".join(parts[:2]))
            if isinstance(owner, type) and parts[2] in vars(owner):
                patches.append((owner, parts[2], original))
                setattr(owner, parts[2], recorder.wrap(target, original, method=True))
            continue
        wrapper = recorder.wrap(target, original, method=False)
        for module in loaded:  # `from .losses import f` copies the name
            for name, value in list(vars(module).items()):
                if value is original:
                    patches.append((module, name, original))
                    setattr(module, name, wrapper)
    return patches


def restore(patches: list[Patch], modules: list[ModuleType]) -> None:
    """Put back what ``install`` replaced, and the originals of wrappers a
    module imported while the run went on copied."""
    wrappers: dict[int, tuple[Any, Any]] = {}  # id -> (wrapper, original), kept alive here
    for owner, name, original in reversed(patches):
        wrapper = getattr(owner, name)
        wrappers[id(wrapper)] = (wrapper, original)
        setattr(owner, name, original)
    for module in modules:
        for name, value in list(vars(module).items()):
            held = wrappers.get(id(value))
            if held is not None and held[0] is value:
                setattr(module, name, held[1])


def run_traced(
    request: dict[str, Any],
    streams: tuple[BinaryIO, BinaryIO],
    student: Student,
    modules: Callable[[], list[ModuleType]],
    error: Callable[[BaseException], dict[str, Any]],
) -> None:
    """Run the given code the request names, its units (``request["trace"]``:
    task functions and given code that reaches them) recorded, then send
    ``{"end": "done" | "error" | "limit"}``; a matched run (``request["match"]``:
    the attribute names to print) adds ``"final"``, the print of what the
    driver returned and left in its object and arguments."""
    inp, out = streams
    match = request.get("match")
    prints = None
    if type(match) is list:
        declared = frozenset(str(name) for name in match)
        prints = Prints(out, stopping(inp), declared)
    recorder = Recorder(out, student, error, prints)
    patches: list[Patch] = []
    end, final = "done", None
    try:
        driver = student.resolve(str(request["target"]))
        args = student.materialize(request.get("args", []))
        kwargs = student.materialize(request.get("kwargs", {}))
        obj = student.materialize(request["self"]) if "self" in request else None
        units = [str(t) for t in request["trace"]]
        patches = install(recorder, units, student.resolve, modules)
        result = driver(*args, **kwargs) if obj is None else driver(obj, *args, **kwargs)
        if prints is not None:
            final, _ = fingerprint.take([result, obj, args, kwargs], student.given, prints.declared)
            prints.send()
    except Abort:
        end = "limit"
    except KeyboardInterrupt:
        raise
    except BaseException:
        end = "error"
    finally:
        restore(patches, modules())
    wire.send(out, {"end": end} if final is None else {"end": end, "final": final})
