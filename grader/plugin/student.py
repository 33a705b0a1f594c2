"""Load a student's submission (a folder of modules or one .py file) behind a
``student`` handle: ``student.layers.linear_backward`` or, when the name is
unique across the submission, ``student.linear_backward``."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.gradcheck.tracebacks import student_frame

_counter = itertools.count()
PREFIX = "_submission_"  # the start of the fresh package name each submission is imported as
_INTERNAL = [
    (re.compile(re.escape(PREFIX) + r"\d+\.(\w+)"), r"\1"),  # a module of a folder
    (re.compile(re.escape(PREFIX) + r"\d+_(\w+)"), r"\1"),  # a single-file submission
]


class SubmissionError(Exception):
    """A problem with the submission itself (missing file, missing function)."""


class Student:
    """Lazy access to the modules of one submission."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        if not self.path.exists():
            raise SubmissionError(
                f"submission not found: {self.path} (set --grader-submission or the "
                "grader_submission ini key to your homework folder or .py file)"
            )
        self._package: str | None = None
        self._modules: dict[str, ModuleType] = {}
        self._names: list[str] | None = None

    def module_names(self) -> list[str]:
        if self._names is None:
            if self.path.is_file():
                self._names = [self.path.stem]
            else:
                self._names = sorted(
                    p.stem
                    for p in self.path.glob("*.py")
                    if p.stem != "__init__" and not p.stem.startswith(("test_", "conftest"))
                )
        return self._names

    def module(self, name: str) -> Module:
        """The submission's module ``name`` (imported once)."""
        return Module(self._import(name), name)

    def _import(self, name: str) -> ModuleType:
        if name in self._modules:
            return self._modules[name]
        if name not in self.module_names():
            raise SubmissionError(
                f"the submission has no module {name}.py in {self.path}; "
                f"it has {', '.join(self.module_names()) or 'no modules'}"
            )
        try:
            if self.path.is_file():
                module = _load_file(self.path, f"{PREFIX}{next(_counter)}_{name}")
            else:
                module = importlib.import_module(f"{self._package_name()}.{name}")
        except SubmissionError:
            raise
        except Exception as exc:  # the student's module does not import: say where, in their words
            raise SubmissionError(self.import_failure(exc, name)) from None
        self._modules[name] = module
        return module

    def in_own_words(self, text: str) -> str:
        """``text`` with the names we import the submission under replaced by
        the student's: ``_submission_0.losses`` reads ``losses``."""
        for pattern, replacement in _INTERNAL:
            text = pattern.sub(replacement, text)
        return re.sub(re.escape(PREFIX) + r"\d+", self.path.name, text)

    def import_failure(self, exc: Exception, name: str) -> str:
        """One line: which of the student's files and lines failed to import, and why."""
        if isinstance(exc, SyntaxError):  # the location is the error's own, not a frame
            where = f"{os.path.basename(exc.filename or name + '.py')}:{exc.lineno or 0}"
            code = (exc.text or "").strip()
            text = f"{where}: {type(exc).__name__}: {exc.msg}"
            return f"{text}: `{code}`" if code else text
        frame = student_frame(exc, None, self.path if self.path.is_dir() else self.path.parent)
        where = f"{os.path.basename(frame.filename)}:{frame.line}" if frame else f"{name}.py"
        code = f": `{frame.code}`" if frame is not None and frame.code else ""
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if missing:
            own = self.in_own_words(missing)
            if own != missing:  # one of the submission's own modules
                have = ", ".join(m + ".py" for m in self.module_names()) or "no modules"
                return (
                    f"{where} imports {own}, but the submission has no {own}.py "
                    f"(it has {have}){code}"
                )
            return f"{where} imports {missing}, which is not installed{code}"
        detail = self.in_own_words(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        text = f"{where}: {type(exc).__name__}" + (f": {detail}" if detail else "")
        return f"{text}, while importing {name}.py{code}"

    def _package_name(self) -> str:
        """Import the folder as a fresh package, so its relative imports work
        and two submissions never share a module."""
        if self._package is None:
            name = f"{PREFIX}{next(_counter)}"
            init = self.path / "__init__.py"
            if init.exists():
                spec = importlib.util.spec_from_file_location(
                    name, init, submodule_search_locations=[str(self.path)]
                )
            else:  # a plain folder of modules: a package with no __init__ code
                spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
                spec.submodule_search_locations = [str(self.path)]
            if spec is None:
                raise SubmissionError(f"cannot import the folder {self.path} as a package")
            package = importlib.util.module_from_spec(spec)
            sys.modules[name] = package
            if init.exists() and spec.loader is not None:
                spec.loader.exec_module(package)
            self._package = name
        return self._package

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.module_names():
            return self.module(name)
        owners = [m for m in self.module_names() if hasattr(self._import(m), name)]
        if len(owners) == 1:
            return getattr(self._import(owners[0]), name)
        if owners:
            raise SubmissionError(
                f"{name} is defined in several modules ({', '.join(owners)}); "
                f"use student.{owners[0]}.{name}"
            )
        raise SubmissionError(
            f"the submission has no function or module named {name} (looked in "
            f"{', '.join(m + '.py' for m in self.module_names())}); did you rename or delete it?"
        )

    def __repr__(self) -> str:
        return f"Student({str(self.path)!r})"


class Module:
    """One module of the submission; a missing name is a clear error."""

    def __init__(self, module: ModuleType, name: str) -> None:
        self._module = module
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        try:
            return getattr(self._module, attribute)
        except AttributeError:
            raise SubmissionError(
                f"{self._name}.py has no function or class named {attribute}; did you rename "
                "or delete it? (keep the names of the template)"
            ) from None

    def __repr__(self) -> str:
        return f"<submission module {self._name}>"


def _load_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SubmissionError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
