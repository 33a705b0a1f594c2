"""The student's side of a traced call (see ``grader.sandbox.trace_replay``).

The trusted grader asks the student's process to run a piece of *given* code
(a training loop) itself. While it runs, every outermost call of a task
function or method is recorded exactly as a call from the grader would have
been answered, and streamed back keyed by the hash of the request the grader
would have sent for it. The grader then runs its own copy of the loop and
takes a reply only for a request it built itself that hashes the same, so
a trace can save round trips but cannot change a single answer.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, BinaryIO

from grader.sandbox import wire

MAX_ENTRIES = 100_000


class Abort(BaseException):
    """Ends a traced run early; a BaseException so `except Exception` in the
    student's code does not swallow it."""


class Recorder:
    def __init__(
        self,
        out: BinaryIO,
        convert: wire.Convert,
        error: Callable[[BaseException], dict[str, Any]],
    ) -> None:
        self.out, self.convert, self.error = out, convert, error
        self.depth = 0
        self.count = 0

    def emit(self, key: str, reply: dict[str, Any]) -> None:
        try:
            wire.send(self.out, {"entry": [key, reply]}, self.convert)
        except wire.WireError as exc:
            wire.send(self.out, {"entry": [key, self.error(exc)]})

    def wrap(self, target: str, original: Any, method: bool) -> Any:
        cls_name = target.rsplit(".", 1)[0]

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # a task called by a task: the grader never sees it
                return original(*args, **kwargs)
            if self.count >= MAX_ENTRIES:
                raise Abort
            self.count += 1
            owner, rest = (args[0], args[1:]) if method else (None, args)
            given = wire.arrays(rest)
            readonly = any(not array.flags.writeable for _, array in given)
            state = wire.State(cls_name, dict(vars(owner))) if method else None
            key, _ = wire.key(wire.request(target, rest, kwargs, state, readonly), self.convert)
            before = wire.snapshot(given)
            self.depth += 1
            try:
                result = original(*args, **kwargs)
            except (Abort, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.emit(key, self.error(exc))
                raise
            finally:
                self.depth -= 1
            reply: dict[str, Any] = {"value": result}
            if method:
                reply["self"] = owner
            reply["mutated"] = wire.mutations(given, before)
            self.emit(key, reply)
            return result

        return recorded


def install(
    recorder: Recorder, targets: list[str], resolve: Callable[[str], Any], modules: list[ModuleType]
) -> list[tuple[Any, str, Any]]:
    """Replace the task functions and methods named in ``targets`` by
    recording wrappers; returns what to put back."""
    patches: list[tuple[Any, str, Any]] = []
    for target in targets:
        try:
            original = resolve(target)
        except (AttributeError, ModuleNotFoundError, SyntaxError):
            continue  # the grader's own call will report it
        parts = target.split(".")
        if len(parts) == 3:  # module.Class.method
            owner = resolve(".".join(parts[:2]))
            if isinstance(owner, type) and parts[2] in vars(owner):
                patches.append((owner, parts[2], original))
                setattr(owner, parts[2], recorder.wrap(target, original, method=True))
            continue
        wrapper = recorder.wrap(target, original, method=False)
        for module in modules:  # `from .losses import f` copies the name
            for name, value in list(vars(module).items()):
                if value is original:
                    patches.append((module, name, original))
                    setattr(module, name, wrapper)
    return patches


def restore(patches: list[tuple[Any, str, Any]]) -> None:
    for owner, name, original in reversed(patches):
        setattr(owner, name, original)


def run_traced(
    request: dict[str, Any],
    out: BinaryIO,
    resolve: Callable[[str], Any],
    materialize: Callable[[Any], Any],
    modules: Callable[[], list[ModuleType]],
    convert: wire.Convert,
    error: Callable[[BaseException], dict[str, Any]],
) -> None:
    """Run the given code the request names with recording on, then send
    ``{"end": "done" | "error" | "limit"}``."""
    recorder = Recorder(out, convert, error)
    patches: list[tuple[Any, str, Any]] = []
    end = "done"
    try:
        driver = resolve(str(request["target"]))
        args = materialize(request.get("args", []))
        kwargs = materialize(request.get("kwargs", {}))
        if "self" in request:
            args = [materialize(request["self"]), *args]
        patches = install(recorder, [str(t) for t in request["trace"]], resolve, modules())
        driver(*args, **kwargs)
    except Abort:
        end = "limit"
    except KeyboardInterrupt:
        raise
    except BaseException:
        end = "error"
    finally:
        restore(patches)
    wire.send(out, {"end": end})
