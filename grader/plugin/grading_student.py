"""The ``student`` handle in grading mode.

Tests see the same ``student.<module>.<name>`` as in student mode, but the
modules are private copies of the *reference*: given code (forward passes,
data, training loops) runs trusted, and only the task functions and methods
are proxies that run the student's code in the sandbox, on plain data. A
student can therefore neither change the forward pass the checker
differentiates nor fake a loss curve.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import itertools
import sys
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

import numpy as np

from grader.course import templates
from grader.gradcheck.tracebacks import RaisedElsewhere
from grader.plugin.student import Module, SubmissionError
from grader.sandbox import trace_replay as replay
from grader.sandbox import wire
from grader.sandbox.process import Sandbox

_counter = itertools.count()


class RemoteNotAttempted(NotImplementedError):
    """The student's code raised NotImplementedError in the sandbox: the task
    is not attempted (read as such by the checker and the plugin)."""


class StudentError(RaisedElsewhere):
    """An exception raised by the student's code in the sandbox."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.kind = str(error.get("type", "Exception"))
        self.detail = str(error.get("message", ""))
        self.frames = [tuple(f) for f in error.get("frames", [])]
        where = ""
        if self.frames:
            name, line, function, code = self.frames[-1]
            where = (
                f" (at {name}:{line} in {function}: `{code}`)"
                if code
                else (f" (at {name}:{line} in {function})")
            )
        super().__init__(f"{self.kind}: {self.detail}{where}" if self.detail else self.kind + where)

    def trace(self) -> str:
        return "\n".join(
            f'  File "{name}", line {line}, in {function}\n    {code}'
            for name, line, function, code in self.frames
        )


class TrustedStudent:
    """``student`` for grading mode: reference modules, remote task code."""

    def __init__(self, reference: Path, sandbox: Sandbox, path: Path) -> None:
        self.path = path
        self.sandbox = sandbox
        self.reference = reference
        self._package = f"_trusted_{next(_counter)}"
        spec = importlib.machinery.ModuleSpec(self._package, None, is_package=True)
        spec.submodule_search_locations = [str(reference)]
        sys.modules[self._package] = importlib.util.module_from_spec(spec)
        self._modules: dict[str, ModuleType] = {}
        self._tasks = templates.tasks(reference)
        self._names: list[str] | None = None
        self._targets: list[str] = []
        self._trace: replay.Trace | None = None
        self._untraced: set[str] = set()

    def module_names(self) -> list[str]:
        if self._names is None:
            self._names = sorted(
                p.stem for p in self.reference.glob("*.py") if p.stem != "__init__"
            )
        return self._names

    def _import(self, name: str) -> ModuleType:
        if name not in self._modules:
            # import every module first: proxies must replace names before any given
            # code runs, and given code refers to sibling modules' task functions too
            for stem in self.module_names():
                self._modules[stem] = importlib.import_module(f"{self._package}.{stem}")
            for task in self._tasks:
                self._install(task)
            self._install_drivers()
        return self._modules[name]

    def _install(self, task: templates.Task) -> None:
        module = self._modules[task.module]
        target = f"{task.module}.{task.qualname}"
        if "." in task.qualname:
            cls_name, method = task.qualname.split(".", 1)
            setattr(getattr(module, cls_name), method, self._remote_method(target))
        else:
            self._rebind(getattr(module, task.name), self._remote_function(target, task.name))

    def _rebind(self, original: Any, replacement: Any) -> None:
        """Every module-level name bound to ``original`` now names ``replacement``
        (`from .losses import f` copies the name into the importing module)."""
        for module in self._modules.values():
            for name, value in list(vars(module).items()):
                if value is original:
                    setattr(module, name, replacement)

    def _install_drivers(self) -> None:
        """Given code that can reach a task runs traced (see ``grader.sandbox.trace_replay``)."""
        targets = {f"{t.module}.{t.qualname}" for t in self._tasks}
        self._targets = sorted(targets)
        for target, original in replay.drivers(self._modules, targets).items():
            module = self._modules[target.split(".", 1)[0]]
            if target.count(".") == 2:
                _, cls_name, method = target.split(".")
                setattr(getattr(module, cls_name), method, self._driver(target, original, True))
                continue
            self._rebind(original, self._driver(target, original, False))

    def _driver(self, target: str, original: Any, method: bool) -> Any:
        cls_name = target.rsplit(".", 1)[0]

        @functools.wraps(original)
        def driver(*args: Any, **kwargs: Any) -> Any:
            if self._trace is not None or target in self._untraced:
                return original(*args, **kwargs)
            owner, rest = (args[0], args[1:]) if method else (None, args)
            state = wire.State(cls_name, dict(vars(owner))) if method else None
            trace = replay.Trace(self.sandbox, self._convert)
            if not trace.start(wire.request(target, rest, kwargs, state), self._targets):
                self._untraced.add(target)
                return original(*args, **kwargs)
            self._trace = trace
            try:
                return original(*args, **kwargs)
            finally:
                self._trace = None
                trace.finish()
                if trace.matched < 2:  # it saved nothing: call this one directly from now on
                    self._untraced.add(target)

        return driver

    def _call(self, target: str, args: Any, kwargs: Any, owner: Any = None) -> dict[str, Any]:
        """One call into the sandbox (or its reply from a trace); in-place
        changes the student's code made to the arguments are copied back onto
        the caller's arrays."""
        given = wire.arrays(args)
        readonly = any(not array.flags.writeable for _, array in given)
        request = wire.request(target, args, kwargs, owner, readonly)
        reply = self._trace.take(request) if self._trace is not None else None
        if reply is None:
            self.sandbox.send(request, self._convert)
            reply = self.sandbox.receive()
        lookup = {tuple(path): array for path, array in given}
        for entry in reply.get("mutated", []) if isinstance(reply.get("mutated"), list) else []:
            if not (isinstance(entry, list) and len(entry) == 2):
                continue
            path, value = entry
            original = lookup.get(tuple(path)) if isinstance(path, list) else None
            if (
                isinstance(original, np.ndarray)
                and isinstance(value, np.ndarray)
                and original.shape == value.shape
                and original.flags.writeable
            ):
                np.copyto(original, value, casting="unsafe")
        return reply

    def _remote_function(self, target: str, name: str) -> Any:
        def proxy(*args: Any, **kwargs: Any) -> Any:
            return self._value(self._call(target, args, kwargs))

        proxy.__name__ = proxy.__qualname__ = name
        proxy._grader_target = target  # type: ignore[attr-defined]
        return proxy

    def _remote_method(self, target: str) -> Any:
        cls_name = target.rsplit(".", 1)[0]

        def method(owner: Any, *args: Any, **kwargs: Any) -> Any:
            state = wire.State(cls_name, dict(vars(owner)))
            reply = self._call(target, args, kwargs, owner=state)
            value = self._value(reply)
            returned = reply.get("self")
            if isinstance(returned, wire.State):
                self._update(owner, returned)
            return value

        method.__name__ = method.__qualname__ = target.rsplit(".", 1)[1]
        method._grader_target = target  # type: ignore[attr-defined]
        return method

    def _update(self, existing: Any, returned: Any) -> Any:
        """``existing`` changed as the student's method changed its copy:
        objects, lists and dicts keep their identity (given code may hold
        them across the call, as a training step holds its network's layers)
        and get their new contents; anything else is replaced."""
        if isinstance(returned, wire.State) and self._name_of(type(existing)) == returned.cls:
            attributes = vars(existing)
            for key in [k for k in attributes if k not in returned.attributes]:
                del attributes[key]
            for key, item in returned.attributes.items():
                object.__setattr__(existing, key, self._update(attributes.get(key), item))
            return existing
        if type(existing) is list and type(returned) is list:
            if len(existing) == len(returned):
                existing[:] = [self._update(a, b) for a, b in zip(existing, returned, strict=True)]
            else:
                existing[:] = self._materialize(returned)
            return existing
        if type(existing) is dict and type(returned) is dict:
            for key in [k for k in existing if k not in returned]:
                del existing[key]
            for key, item in returned.items():
                existing[key] = self._update(existing.get(key), item)
            return existing
        return self._materialize(returned)

    def _value(self, reply: dict[str, Any]) -> Any:
        if "error" in reply:
            error = reply["error"]
            if isinstance(error, dict) and error.get("not_attempted"):
                raise RemoteNotAttempted(str(error.get("message", "")))
            raise StudentError(error if isinstance(error, dict) else {})
        return self._materialize(reply.get("value"))

    def _name_of(self, value: Any) -> str | None:
        target = getattr(value, "_grader_target", None)
        if isinstance(target, str):
            return target
        if isinstance(value, np.ufunc) or getattr(value, "__module__", "") == "numpy":
            name = getattr(value, "__name__", "")
            return f"numpy.{name}" if getattr(np, name, None) is value else None
        module = getattr(value, "__module__", "") or ""
        if module.startswith(self._package + "."):
            return f"{module[len(self._package) + 1 :]}.{value.__qualname__}"
        return None

    def _convert(self, value: Any) -> wire.Ref | wire.State | None:
        if isinstance(value, type | FunctionType | np.ufunc) or (
            callable(value) and hasattr(value, "_grader_target")
        ):
            name = self._name_of(value)
            return wire.Ref("fn", name) if name else None
        name = self._name_of(type(value))
        if name is not None and hasattr(value, "__dict__"):
            return wire.State(name, dict(vars(value)))
        return None

    def _resolve(self, dotted: str) -> Any:
        head, _, rest = dotted.partition(".")
        if head == "numpy":
            return getattr(np, rest)
        value: Any = self._import(head) if head in self.module_names() else None
        for part in rest.split("."):
            value = getattr(value, part, None)
        if value is None:
            raise SubmissionError(f"the sandbox named an unknown function {dotted}")
        return value

    def _materialize(self, value: Any) -> Any:
        if isinstance(value, wire.Ref):
            return self._resolve(value.name)
        if isinstance(value, wire.State):
            cls: Any = self._resolve(value.cls)
            if not isinstance(cls, type):
                raise SubmissionError(f"the sandbox sent an object of unknown class {value.cls}")
            obj: Any = object.__new__(cls)
            for key, item in value.attributes.items():
                object.__setattr__(obj, key, self._materialize(item))
            return obj
        if isinstance(value, list):
            return [self._materialize(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._materialize(v) for v in value)
        if isinstance(value, dict):
            return {k: self._materialize(v) for k, v in value.items()}
        return value

    def module(self, name: str) -> Module:
        if name not in self.module_names():
            raise SubmissionError(f"the assignment has no module {name}.py")
        return Module(self._import(name), name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.module_names():
            return self.module(name)
        owners = [m for m in self.module_names() if hasattr(self._import(m), name)]
        if len(owners) == 1:
            return getattr(self._import(owners[0]), name)
        raise SubmissionError(f"the assignment has no unique function named {name}")
