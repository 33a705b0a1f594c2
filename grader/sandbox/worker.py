"""The student's side of the sandbox: import the submission and run the
calls the trusted grader asks for, exchanging only plain data.

Run in a child of ``grader.sandbox.forkserver`` once it has confined itself; it
never sees the reference, the tests or the scores.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.sandbox import state, wire
from grader.sandbox import trace_recorder as recorder

PACKAGE = "submission"
MAX_FRAMES = 40  # of a traceback, innermost kept
MAX_CODE = 200  # characters of a traceback line


class Submission:
    """The submission's modules, imported as the package ``submission``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
        self.modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        if name not in self.modules:
            if not (self.folder / f"{name}.py").is_file():
                raise ModuleNotFoundError(f"your submission has no {name}.py")
            self.modules[name] = importlib.import_module(f"{PACKAGE}.{name}")
        return self.modules[name]

    def resolve(self, dotted: str) -> Any:
        """'layers.relu_forward' or 'layer_class.Layer.backprop' or 'numpy.tanh'."""
        head, _, rest = dotted.partition(".")
        if head == "numpy":
            value: Any = getattr(np, rest, None)
            if not callable(value):
                raise AttributeError(f"numpy has no function {rest}")
            return value
        value = self.module(head)
        for part in rest.split("."):
            if not hasattr(value, part):
                raise AttributeError(f"{head}.py has no {rest} (did you rename or delete it?)")
            value = getattr(value, part)
        return value

    def given(self, value: Any) -> bool:
        """Whether ``value`` is an object of one of the submission's classes
        (its attributes are state that crosses back as changes)."""
        return type(value).__module__.startswith(PACKAGE + ".") and hasattr(value, "__dict__")

    def name_of(self, value: Any) -> str | None:
        module = getattr(value, "__module__", None) or ""
        qualname = getattr(value, "__qualname__", None)
        if type(qualname) is not str or "<" in qualname:
            return None
        if module.startswith(PACKAGE + "."):
            return f"{module[len(PACKAGE) + 1 :]}.{qualname}"
        if isinstance(value, np.ufunc) or module.startswith("numpy"):
            name = getattr(value, "__name__", "")
            return f"numpy.{name}" if getattr(np, name, None) is value else None
        return None

    def convert(self, value: Any) -> wire.Token | None:
        """The tokens the trusted side would send for this process's own
        functions and objects: a traced call's request must hash the same."""
        if (
            isinstance(value, type | np.ufunc)
            or inspect.isfunction(value)
            or inspect.isbuiltin(value)
        ):
            name = self.name_of(value)
            return wire.Given(name) if name is not None else None
        if self.given(value):
            name = self.name_of(type(value))
            return wire.Instance(name, dict(vars(value))) if name is not None else None
        return None

    def materialize(self, value: Any) -> Any:
        """A request's value with its tokens mapped to this submission's own
        functions, classes and objects (names the trusted side chose)."""
        if type(value) is wire.Given:
            return self.resolve(value.name)
        if type(value) is wire.Instance:
            cls = self.resolve(value.cls)
            if not isinstance(cls, type):
                raise TypeError(f"{value.cls} is not a class in your submission")
            obj: Any = object.__new__(cls)
            for key, item in value.state.items():
                object.__setattr__(obj, key, self.materialize(item))
            return obj
        if type(value) is list:
            return [self.materialize(v) for v in value]
        if type(value) is tuple:
            return tuple(self.materialize(v) for v in value)
        if type(value) is dict:
            return {k: self.materialize(v) for k, v in value.items()}
        return value


def _frames(exc: BaseException, folder: Path) -> list[list[Any]]:
    root = str(folder)
    return [
        [os.path.basename(f.filename), f.lineno, f.name, (f.line or "").strip()[:MAX_CODE]]
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<") and os.path.abspath(f.filename).startswith(root)
    ][-MAX_FRAMES:]


def _error(exc: BaseException, folder: Path) -> dict[str, Any]:
    if isinstance(exc, SyntaxError):  # the location is the file and line, not a frame
        where = f"{os.path.basename(exc.filename or '?')}, line {exc.lineno}"
        text = (exc.text or "").strip()
        return {
            "error": {
                "type": "SyntaxError",
                "not_attempted": False,
                "frames": [],
                "message": f"{exc.msg} ({where}{': ' + text if text else ''})",
            }
        }
    return {
        "error": {
            "type": type(exc).__name__,
            "message": str(exc).splitlines()[0][:500] if str(exc) else "",
            "not_attempted": isinstance(exc, NotImplementedError),
            "frames": _frames(exc, folder),
        }
    }


def serve(inp: Any, out: Any, folder: Path) -> None:
    submission = Submission(folder)
    while True:
        try:
            request = wire.receive(inp, wire.REQUESTS)
        except EOFError:
            return
        if isinstance(request, dict) and "preload" in request:
            _preload(submission, request["preload"])
            wire.send(out, {"value": None})
            continue
        if isinstance(request, dict) and "stop" in request:
            continue  # a matched run's stop that came after its end
        if isinstance(request, dict) and "trace" in request:
            recorder.run_traced(
                request,
                (inp, out),
                submission,
                lambda: [m for n, m in sys.modules.items() if n.startswith(PACKAGE + ".")],
                lambda exc: _error(exc, folder),
            )
            continue
        bound = wire.Bound.expecting(wire.shapes(request))
        try:
            target = submission.resolve(request["target"])
            args = submission.materialize(request.get("args", []))
            kwargs = submission.materialize(request.get("kwargs", {}))
            if request.get("readonly"):
                state.freeze([args, kwargs], submission.given)
            owner = submission.materialize(request["self"]) if "self" in request else None
            watch = state.Watch(owner, args, kwargs, submission.given)
            result = target(*args, **kwargs) if owner is None else target(owner, *args, **kwargs)
            # the caller sees the changes to its object and arguments, as in-process
            reply = watch.reply(result)
        except BaseException as exc:  # report anything the student's code raises
            if isinstance(exc, KeyboardInterrupt):
                raise
            reply = _error(exc, folder)
        wire.send(out, wire.fitting(reply, bound, lambda exc: _error(exc, folder)))


def _preload(submission: Submission, names: Any) -> None:
    """Import the assignment's modules ahead of the first call, while the
    trusted side imports its own (a module that fails raises again, with its
    traceback, on the call that needs it)."""
    for name in names if isinstance(names, list) else []:
        if isinstance(name, str) and name.isidentifier():
            try:
                submission.module(name)
            except KeyboardInterrupt:
                raise
            except BaseException:  # reported again by the call that needs it
                pass


def run(read_fd: int, write_fd: int, folder: Path) -> None:
    """Serve the trusted grader's calls on two pipe ends until it closes them."""
    inp = os.fdopen(read_fd, "rb", buffering=1 << 16)
    out = os.fdopen(write_fd, "wb", buffering=1 << 16)
    serve(inp, out, folder.resolve())
