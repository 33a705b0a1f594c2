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

from grader.sandbox import trace_recorder as recorder
from grader.sandbox import wire

PACKAGE = "submission"


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

    def name_of(self, value: Any) -> str | None:
        module = getattr(value, "__module__", None) or ""
        qualname = getattr(value, "__qualname__", None)
        if qualname is None or "<" in qualname:
            return None
        if module.startswith(PACKAGE + "."):
            return f"{module[len(PACKAGE) + 1 :]}.{qualname}"
        if isinstance(value, np.ufunc) or module.startswith("numpy"):
            name = getattr(value, "__name__", "")
            return f"numpy.{name}" if getattr(np, name, None) is value else None
        return None

    def convert(self, value: Any) -> wire.Ref | wire.State | None:
        """Functions and classes cross by name, the submission's objects as state."""
        if (
            isinstance(value, type | np.ufunc)
            or inspect.isfunction(value)
            or inspect.isbuiltin(value)
        ):
            name = self.name_of(value)
            return wire.Ref("fn", name) if name is not None else None
        name = self.name_of(type(value))
        if name is not None and hasattr(value, "__dict__"):
            return wire.State(name, dict(vars(value)))
        return None

    def materialize(self, value: Any) -> Any:
        if isinstance(value, wire.Ref):
            return self.resolve(value.name)
        if isinstance(value, wire.State):
            cls = self.resolve(value.cls)
            obj = object.__new__(cls)
            for key, item in value.attributes.items():
                object.__setattr__(obj, key, self.materialize(item))
            return obj
        if isinstance(value, list):
            return [self.materialize(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.materialize(v) for v in value)
        if isinstance(value, dict):
            return {k: self.materialize(v) for k, v in value.items()}
        return value


def _frames(exc: BaseException, folder: Path) -> list[list[Any]]:
    root = str(folder)
    return [
        [os.path.basename(f.filename), f.lineno, f.name, (f.line or "").strip()]
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<") and os.path.abspath(f.filename).startswith(root)
    ]


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
            request = wire.receive(inp)
        except EOFError:
            return
        if isinstance(request, dict) and "trace" in request:
            recorder.run_traced(
                request,
                out,
                submission.resolve,
                submission.materialize,
                lambda: [m for n, m in sys.modules.items() if n.startswith(PACKAGE + ".")],
                submission.convert,
                lambda exc: _error(exc, folder),
            )
            continue
        try:
            target = submission.resolve(request["target"])
            args = submission.materialize(request.get("args", []))
            kwargs = submission.materialize(request.get("kwargs", {}))
            given = wire.arrays(args)
            if request.get("readonly"):
                for _, array in given:
                    array.flags.writeable = False
            before = wire.snapshot(given)
            if "self" in request:
                owner = submission.materialize(request["self"])
                result = target(owner, *args, **kwargs)
                reply: dict[str, Any] = {"value": result, "self": owner}
            else:
                reply = {"value": target(*args, **kwargs)}
            # the caller must see in-place changes to its arguments, as in-process
            reply["mutated"] = wire.mutations(given, before)
        except BaseException as exc:  # report anything the student's code raises
            if isinstance(exc, KeyboardInterrupt):
                raise
            reply = _error(exc, folder)
        try:
            wire.send(out, reply, submission.convert)
        except wire.WireError as exc:
            wire.send(out, _error(exc, folder))


def run(read_fd: int, write_fd: int, folder: Path) -> None:
    """Serve the trusted grader's calls on two pipe ends until it closes them."""
    inp = os.fdopen(read_fd, "rb", buffering=1 << 16)
    out = os.fdopen(write_fd, "wb", buffering=1 << 16)
    serve(inp, out, folder.resolve())
