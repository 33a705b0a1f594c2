"""The ``student`` handle in grading mode.

Tests see the same ``student.<module>.<name>`` as in student mode, but the
modules are private copies of the *reference*: given code (forward passes,
data, training loops) runs trusted, and only the task functions and methods
are proxies that run the student's code in the sandbox, on plain data. A
student can therefore neither change the forward pass the checker
differentiates nor fake a loss curve.

Nothing the student's process sends is resolved, built or called here: a
reply is data (``grader.sandbox.wire``), read within the bound of its
request; a method's changes to its object and a call's in-place changes to
its arguments are applied only as arrays of the same shape and dtype, or
the reply is refused (``grader.sandbox.state``). Given functions and
objects go the other way as names this side chose (``wire.Given``,
``wire.Instance``), mapped there to the submission's own copies.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import importlib.machinery
import importlib.util
import itertools
import sys
import threading
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

import numpy as np

from grader.course import templates
from grader.gradcheck.tracebacks import RaisedElsewhere
from grader.plugin import verified
from grader.plugin.solutions import open_reference
from grader.plugin.student import Module, SubmissionError
from grader.plugin.watch import Watch
from grader.sandbox import fingerprint, state, wire
from grader.sandbox import trace_match as matching
from grader.sandbox import trace_replay as replay
from grader.sandbox.process import Sandbox

_counter = itertools.count()


class RemoteNotAttempted(NotImplementedError):
    """The student's code raised NotImplementedError in the sandbox: the task
    is not attempted (read as such by the checker and the plugin)."""


class StudentError(RaisedElsewhere):
    """An exception raised by the student's code in the sandbox."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.kind = _text(error.get("type"), MAX_TYPE) or "Exception"
        self.detail = _text(error.get("message"), MAX_MESSAGE)
        frames = error.get("frames")
        self.frames = [
            (_text(f[0], MAX_TYPE), f[1], _text(f[2], MAX_TYPE), _text(f[3], MAX_CODE))
            for f in (frames if type(frames) is list else [])[-MAX_FRAMES:]
            if type(f) is list and len(f) == 4 and type(f[1]) is int
        ]
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


MAX_TYPE, MAX_MESSAGE, MAX_CODE, MAX_FRAMES = 100, 500, 200, 40
REPLY_KEYS = frozenset({"value", "mutated", "state", "error"})


class _Parted(BaseException):
    """Ends the trusted side of a matched run at the first call where the
    student's run went another way; a BaseException so that given code's
    `except Exception` does not swallow it."""


class _Matched:
    """The trusted side of one matched run (``grader.sandbox.trace_match``)."""

    def __init__(self, match: matching.Match, declared: frozenset[str]) -> None:
        self.match, self.declared = match, declared
        self.reservoir = verified.Reservoir()
        self.depth = 0


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):  # the reference's own import reports it
            importlib.import_module(name)


def _text(value: Any, limit: int) -> str:
    """A string the student's process sent, as one bounded line."""
    return " ".join(value.split())[:limit] if type(value) is str else ""


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
        self._units: list[str] = []
        self._by_target = {f"{t.module}.{t.qualname}": t for t in self._tasks}
        self._trace: replay.Trace | None = None
        self._preloaded = False
        self._ahead: threading.Thread | None = None
        self._matched: _Matched | None = None
        self._unmatched: set[str] = set()
        self._references: dict[str, Any] = {}  # a task's reference function, by target
        self._declared: frozenset[str] = frozenset()
        self._reservoir: verified.Reservoir | None = None
        self._judge: Watch | None = None
        self._untraced: set[str] = set()
        self._short: set[str] = set()  # drivers called directly while their runs stay short
        self._direct_calls = 0
        # what crosses by name, names chosen here: given functions and classes
        self._given: dict[int, tuple[Any, str]] = {}
        self._classes: dict[type, str] = {}

    def module_names(self) -> list[str]:
        if self._names is None:
            self._names = sorted(
                p.stem for p in self.reference.glob("*.py") if p.stem != "__init__"
            )
        return self._names

    def preload(self) -> None:
        """Start the student's process importing the submission's modules,
        while this side goes on: pytest collects, then imports the
        reference's modules. The course's modules that both sides need
        (scikit-learn, a second and a half) are imported here in a thread
        while the fork server imports them for its children."""
        if not self._preloaded:
            self._preloaded = True
            modules = self.sandbox.setup.modules
            self._ahead = threading.Thread(target=_import_all, args=(modules,), daemon=True)
            self._ahead.start()
            self.sandbox.post({"preload": sorted({t.module for t in self._tasks})})

    def _import(self, name: str) -> ModuleType:
        if name not in self._modules:
            self.preload()
            if self._ahead is not None:
                self._ahead.join()
            # import every module first: proxies must replace names before any given
            # code runs, and given code refers to sibling modules' task functions too
            for stem in self.module_names():
                self._modules[stem] = importlib.import_module(f"{self._package}.{stem}")
            self._register()
            for task in self._tasks:
                self._install(task)
            self._install_drivers()
            self._declared = frozenset(
                name
                for cls in self._classes
                for member in vars(cls).values()
                if isinstance(member, FunctionType)
                for name in replay.names(member.__code__)
            )
        return self._modules[name]

    def _register(self) -> None:
        """Name every function and class the assignment's modules define (the
        originals too, which given code may hold: ``ACTIVATIONS``)."""
        for stem, module in self._modules.items():
            for name, value in vars(module).items():
                if getattr(value, "__module__", None) != module.__name__:
                    continue
                if isinstance(value, type):
                    self._classes[value] = f"{stem}.{name}"
                    self._name(value, f"{stem}.{name}")
                elif isinstance(value, FunctionType):
                    self._name(value, f"{stem}.{name}")

    def _name(self, value: Any, name: str) -> None:
        self._given.setdefault(id(value), (value, name))

    def _install(self, task: templates.Task) -> None:
        module = self._modules[task.module]
        target = f"{task.module}.{task.qualname}"
        if "." in task.qualname:
            cls_name, method = task.qualname.split(".", 1)
            self._references[target] = vars(getattr(module, cls_name))[method]
            setattr(getattr(module, cls_name), method, self._remote_method(target))
        else:
            self._references[target] = getattr(module, task.name)
            proxy = self._remote_function(target, task.name)
            self._name(proxy, target)
            self._rebind(getattr(module, task.name), proxy)

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
        found = replay.drivers(self._modules, targets)
        self._units = sorted(targets | set(found))
        for target, original in found.items():
            module = self._modules[target.split(".", 1)[0]]
            if target.count(".") == 2:
                _, cls_name, method = target.split(".")
                setattr(getattr(module, cls_name), method, self._driver(target, original, True))
                continue
            driver = self._driver(target, original, False)
            self._name(driver, target)
            self._rebind(original, driver)

    def _driver(self, target: str, original: Any, method: bool) -> Any:
        @functools.wraps(original)
        def driver(*args: Any, **kwargs: Any) -> Any:
            owner, rest = (args[0], args[1:]) if method else (None, args)
            if self._matched is not None:  # a unit of a matched run: run here, compared
                run = lambda: original(*args, **kwargs)  # noqa: E731
                return self._matched_unit(self._matched, target, run, owner, rest, kwargs)
            trace = self._trace
            if trace is not None:  # a unit of a traced run: its streamed reply, or run it here
                taken, value = self._taken(target, rest, kwargs, owner)
                return value if taken else original(*args, **kwargs)
            if self._judge is None and target in self._short:
                return self._called_directly(target, original, args, kwargs)
            if self._judge is not None or target in self._untraced:
                return original(*args, **kwargs)
            return self._traced(target, original, owner, rest, kwargs)

        return driver

    def _traced(
        self, target: str, original: Any, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """A driver's call: matched against the reference if it can be
        (``grader.sandbox.trace_match``); else its trusted code run on the
        replies the student's process streams for its copy, then replies
        drawn at random checked (``grader.plugin.verified``); if one was not
        what the submission's code gives, run again call by call from the
        arguments it started with."""
        call = (owner, *args) if owner is not None else args
        cls_name = target.rsplit(".", 1)[0]
        instance = wire.Instance(cls_name, dict(vars(owner))) if owner is not None else None
        if target not in self._unmatched:
            before = copy.deepcopy((owner, args, kwargs))
            matched, result = self._match(target, original, owner, args, kwargs, instance)
            if matched:
                return result
            owner, args, kwargs = (
                verified.restore(live, saved, self._is_given)
                for live, saved in zip((owner, args, kwargs), before, strict=True)
            )
            call = (owner, *args) if owner is not None else args
            instance = wire.Instance(cls_name, dict(vars(owner))) if owner is not None else None
        trace = replay.Trace(self.sandbox, self._token)
        if not trace.start(wire.request(target, args, kwargs, instance), self._units):
            self._untraced.add(target)
            return original(*call, **kwargs)
        before = copy.deepcopy((owner, args, kwargs))
        reservoir = verified.Reservoir()
        self._trace, self._reservoir = trace, reservoir
        try:
            result, failed = original(*call, **kwargs), False
        except Exception:
            # the same call again, directly: the exception comes from the same
            # step, with every task call of the run seen (``checker.given``
            # names the task to blame as in one process)
            result, failed = None, True
        finally:
            self._trace = self._reservoir = None
            trace.finish()
            if trace.matched < 2:  # it saved nothing: call this one directly from now on
                self._untraced.add(target)
        if not failed:
            untrue = verified.check(reservoir, self._reapplied, self._judged, self._is_given)
            if untrue is None:
                return result
        # the trace cannot be trusted: the same call again, every unit call direct
        self._untraced.add(target)
        owner, args, kwargs = (
            verified.restore(live, saved, self._is_given)
            for live, saved in zip((owner, args, kwargs), before, strict=True)
        )
        return original(*((owner, *args) if owner is not None else args), **kwargs)

    def _called_directly(
        self, target: str, original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """A driver whose runs were too short for a matched run to save
        anything (its few calls are all judged anyway), called call by call;
        one that turns out long is matched again from its next call."""
        start = self._direct_calls
        try:
            return original(*args, **kwargs)
        finally:
            if self._direct_calls - start > verified.FIRST + verified.SAMPLED:
                self._short.discard(target)
                self._untraced.discard(target)
                self._unmatched.discard(target)

    def _match(
        self,
        target: str,
        original: Any,
        owner: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        instance: wire.Instance | None,
    ) -> tuple[bool, Any]:
        """(True, result) when the student's run of the driver matched the
        trusted run with the reference answering, at every unit call and at
        its end, and the calls drawn from it are answered right by the
        submission; else (False, None), the arguments maybe changed."""
        match = matching.Match(self.sandbox, self._token)
        request = wire.request(target, args, kwargs, instance)
        if not match.start(request, self._units, self._declared):
            self._unmatched.add(target)
            return False, None
        run = _Matched(match, self._declared)
        self._matched = run
        result, same = None, False
        try:
            result = original(*((owner, *args) if owner is not None else args), **kwargs)
            printed = self._print([result, owner, list(args), dict(kwargs)], run)
            same = match.finish(printed)
        except (_Parted, Exception):
            pass  # parted; or it raised: the traced run that follows raises it where it belongs
        finally:
            self._matched = None
            match.part()
        if same and verified.judge(run.reservoir, self._judged) is None:
            if run.reservoir.seen <= verified.FIRST + verified.SAMPLED:
                # every call was judged: it saved nothing, call it directly from now on
                self._short.add(target)
                self._unmatched.add(target)
                self._untraced.add(target)
            return True, result
        self._unmatched.add(target)
        return False, None

    def _matched_unit(
        self,
        run: _Matched,
        target: str,
        compute: Any,
        owner: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """A unit call of a matched run, computed here with the reference
        answering; an outermost one is printed and compared."""
        if run.depth:
            return compute()
        printed = fingerprint.printed(run.reservoir.seen)
        before = self._print([owner, list(args), dict(kwargs)], run) if printed else None
        slot = run.reservoir.slot()
        saved = copy.deepcopy((args, kwargs, owner)) if slot is not None else None
        run.depth += 1
        try:
            value = compute()
        except Exception:
            run.match.part()
            raise
        finally:
            run.depth -= 1
        run.reservoir.keep(slot, target, saved, {})
        if before is not None:
            after = self._print(value, run)
            if not run.match.same(target, np.concatenate([before, after])):
                raise _Parted
        return value

    def _print(self, value: Any, run: _Matched) -> np.ndarray:
        return fingerprint.take(value, self._is_given, run.declared)[0]

    def _taken(
        self, target: str, args: tuple[Any, ...], kwargs: dict[str, Any], owner: Any
    ) -> tuple[bool, Any]:
        """(True, value) when a traced run's next streamed reply answers this
        unit call (applied as data); (False, None) when the call must run here."""
        trace, reservoir = self._trace, self._reservoir
        if trace is None or reservoir is None or not trace.active:
            return False, None
        printed, shapes = fingerprint.take([list(args), dict(kwargs)])
        shapes += fingerprint.held(owner, self._is_given)
        reply = trace.take(target, printed, wire.Bound.expecting(shapes))
        if reply is None:
            return False, None
        slot = reservoir.slot()
        before = copy.deepcopy((args, kwargs, owner)) if slot is not None else None
        given = target not in self._by_target
        try:
            value = self._applied(reply, args, kwargs, owner, given)
        except state.Refused:
            if not given:
                raise  # a task's reply: refused exactly as the same direct reply would be
            # given code changed what a reply cannot carry (an attribute that is
            # not an array): the trusted code runs it, and the rest, here
            trace.abandon()
            return False, None
        reservoir.keep(slot, target, before, reply)
        return True, value

    def _is_given(self, value: Any) -> bool:
        """An object of a class of the assignment: its attributes are state."""
        return type(value) in self._classes

    def _call(self, target: str, args: Any, kwargs: Any, owner: Any = None) -> Any:
        """A task's function called by trusted code: while a traced run's
        replies are checked, the reference answers and the student's answer
        is judged; in a traced run, the next streamed reply; else one call
        into the sandbox."""
        if self._judge is not None:
            task = self._by_target[target]
            return self._judge.call(task, (owner, *args) if owner is not None else args, kwargs)
        if self._matched is not None:
            reference = self._references[target]
            call = (owner, *args) if owner is not None else args
            run = lambda: reference(*call, **kwargs)  # noqa: E731
            return self._matched_unit(self._matched, target, run, owner, args, kwargs)
        taken, value = self._taken(target, args, kwargs, owner)
        return value if taken else self._direct(target, args, kwargs, owner)

    def _direct(self, target: str, args: Any, kwargs: Any, owner: Any = None) -> Any:
        """One call into the sandbox: its value, once the changes it made to
        ``owner`` and in place to the arguments are applied here."""
        self._direct_calls += 1
        arguments = [args, kwargs]
        readonly = state.readonly(arguments, self._is_given)
        cls_name = target.rsplit(".", 1)[0]
        instance = wire.Instance(cls_name, dict(vars(owner))) if owner is not None else None
        request = wire.encode(wire.request(target, args, kwargs, instance, readonly), self._token)
        self.sandbox.send(request)
        return self._applied(self.sandbox.receive(request.bound()), args, kwargs, owner)

    def _applied(
        self, reply: dict[str, Any], args: Any, kwargs: Any, owner: Any, given: bool = False
    ) -> Any:
        """A reply's value, once the changes it reports to ``owner`` and in
        place to the arguments are applied (all of them, or none: the reply
        is refused). ``given``: the reply of a unit of given code, whose
        assignments (``self.X = X``) may put an array of another shape."""
        unknown = sorted(str(k)[:40] for k in set(reply) - REPLY_KEYS)
        if unknown:
            raise state.Refused(f"a reply with unknown parts {unknown}")
        error = reply.get("error")
        if error is not None:
            if type(error) is dict and error.get("not_attempted") is True:
                raise RemoteNotAttempted(_text(error.get("message"), MAX_MESSAGE))
            raise StudentError(error if type(error) is dict else {})
        arguments = [args, kwargs]
        changes = [
            state.check(arguments, reply.get("mutated", []), self._is_given, state.argument, True)
        ]
        if owner is not None:
            walk = lambda v: v is owner or self._is_given(v)  # noqa: E731
            changes.append(
                state.check(owner, reply.get("state", []), walk, state.owner, reshape=given)
            )
        elif "state" in reply:
            raise state.Refused("a function's reply that changes an object")
        for plan in changes:
            plan.commit()
        return reply.get("value")

    def _reapplied(self, kept: verified.Kept, args: Any, kwargs: Any, owner: Any) -> Any:
        """A kept call's reply applied again, to copies of its arguments."""
        return self._applied(kept.reply, args, kwargs, owner, kept.target not in self._by_target)

    def _judged(
        self, target: str, args: tuple[Any, ...], kwargs: dict[str, Any], owner: Any
    ) -> tuple[Any, list[templates.Task]]:
        """A unit call computed with the reference answering every task call,
        the outermost ones also sent to the sandbox and judged: (its value,
        the tasks whose answers were wrong)."""
        live = {
            task.id: self._direct_function(f"{task.module}.{task.qualname}", "." in task.qualname)
            for task in self._tasks
        }
        judge = Watch(open_reference(self.reference), live, answer_right=True, nested=False)
        call = (owner, *args) if owner is not None else args
        self._judge = judge
        try:
            task = self._by_target.get(target)
            if task is not None:
                value = judge.call(task, call, kwargs)
            else:
                value = self._unit(target)(*call, **kwargs)
        finally:
            self._judge = None
        return value, judge.wrong

    def _direct_function(self, target: str, method: bool) -> Any:
        if method:
            return lambda owner, *a, **k: self._direct(target, a, k, owner)
        return lambda *a, **k: self._direct(target, a, k)

    def _unit(self, target: str) -> Any:
        """The trusted given function or method a unit's name stands for."""
        value: Any = self._modules[target.split(".", 1)[0]]
        for part in target.split(".")[1:]:
            value = getattr(value, part)
        return value

    def _remote_function(self, target: str, name: str) -> Any:
        def proxy(*args: Any, **kwargs: Any) -> Any:
            return self._call(target, args, kwargs)

        proxy.__name__ = proxy.__qualname__ = name
        proxy._grader_target = target  # type: ignore[attr-defined]
        return proxy

    def _remote_method(self, target: str) -> Any:
        def method(owner: Any, *args: Any, **kwargs: Any) -> Any:
            return self._call(target, args, kwargs, owner=owner)

        method.__name__ = method.__qualname__ = target.rsplit(".", 1)[1]
        method._grader_target = target  # type: ignore[attr-defined]
        return method

    def _token(self, value: Any) -> wire.Token | None:
        """How a value of this side crosses when it is not data: a given
        function or class by the name this side gave it, an object of a given
        class as its attributes; None for anything else (sent as unsupported)."""
        known = self._given.get(id(value))
        if known is not None and known[0] is value:
            return wire.Given(known[1])
        if isinstance(value, np.ufunc) or (
            isinstance(value, BuiltinFunctionType | FunctionType)
            and str(getattr(value, "__module__", "")).startswith("numpy")
        ):
            name = getattr(value, "__name__", "")
            return wire.Given(f"numpy.{name}") if getattr(np, name, None) is value else None
        cls = self._classes.get(type(value))
        if cls is not None:
            return wire.Instance(cls, dict(vars(value)))
        return None

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
