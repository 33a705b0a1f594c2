"""Name a mistake by finding the known wrong version of the function that
returns exactly what the student's returned.

The checker does not know where alternatives come from (the plugin builds
them as mutants of the reference solution): it receives an ``Explainer``,
calls each alternative like the student's backward on fresh copies of the
same arguments, and compares the returned values as data. An alternative
that returns what the reference returns is equivalent and never names
anything; one that raises is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grader.gradcheck import samples
from grader.gradcheck.codes import Code
from grader.gradcheck.metrics import normwise
from grader.gradcheck.result import Diagnosis

MATCH = 1e-6  # normwise error under which two returned arrays are the same


@dataclass(frozen=True)
class Alternative:
    """A wrong version of the function under check, called like it.

    ``message`` may hold ``{grads}``, filled with the names of the returned
    values in which it differs from the reference (the names of the check,
    or the keys of a returned dict). ``partial``: it names the student's
    values where they are its own and the rest are right (a loop over the
    samples that overwrites one sum and accumulates the others).
    """

    code: Code
    message: str
    backward: Callable[..., object]
    partial: bool = False


class Explainer(Protocol):
    """What a failed check may ask to name its mistake."""

    def cascade(self, args: tuple[Any, ...]) -> Diagnosis | None:
        """A wrong function of another task that makes this one fail."""

    def reference(self) -> Callable[..., object] | None:
        """The right version, called like the student's backward."""

    def alternatives(self) -> Iterable[Alternative]:
        """Wrong versions, most specific first."""


def leaves(
    value: object, path: str = "", _inside: frozenset[int] = frozenset()
) -> Iterator[tuple[str, object]]:
    """(path, leaf) for every array or number in nested tuples, lists, dicts.
    A container that holds itself (a mutant's ``dW.append(dW)``) is a leaf
    of its own, equal to nothing."""
    if isinstance(value, Mapping | tuple | list) and (id(value) in _inside or len(_inside) > 16):
        yield path, CYCLE
        return
    inside = _inside | {id(value)}
    if isinstance(value, Mapping):
        for key in value:
            yield from leaves(value[key], f"{path}[{key!r}]", inside)
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]", inside)
    else:
        yield path, value


CYCLE = object()  # stands for a container nested in itself


def same(a: object, b: object) -> bool:
    """The same structure, and the same values up to rounding (a dict's keys
    in any order: {"W2": ..., "W1": ...} is the same dict as the handout's)."""
    left, right = dict(leaves(a)), dict(leaves(b))
    if left.keys() != right.keys():
        return False
    return all(_same_leaf(left[path], right[path]) for path in left)


def _same_leaf(x: object, y: object) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if type(x) is not np.ndarray and not isinstance(x, float | int | np.floating | np.integer):
        return False
    if type(y) is not np.ndarray and not isinstance(y, float | int | np.floating | np.integer):
        return False
    ax, ay = np.asarray(x), np.asarray(y)
    if ax.shape != ay.shape or ax.dtype.kind not in "fiub" or ay.dtype.kind not in "fiub":
        return False
    fx, fy = ax.astype(np.float64), ay.astype(np.float64)
    if not (np.isfinite(fx).all() and np.isfinite(fy).all()):
        return bool(np.array_equal(fx, fy, equal_nan=True))
    if not fy.any():
        return not fx.any()
    return normwise(fx, fy) <= MATCH


def differing(got: object, right: object, names: Callable[[str], str]) -> list[str]:
    """The names of the leaves in which ``got`` differs from ``right``."""
    left, other = dict(leaves(got)), dict(leaves(right))
    if left.keys() != other.keys():
        return []
    return [names(path) for path in left if not _same_leaf(left[path], other[path])]


def explain(
    explainer: Explainer,
    args: Callable[[], tuple[Any, ...]],
    got: object,
    names: Callable[[str], str],
    mutants: bool = True,
) -> Diagnosis | None:
    """The diagnosis an explainer gives for the student's return value
    ``got``; ``args`` makes fresh arguments for each call. A cascade always
    wins; the alternatives are tried only with ``mutants``."""
    found = explainer.cascade(args())
    if found is not None or not mutants:
        return found
    reference = explainer.reference()
    if reference is None:
        return None
    try:
        right = reference(*args())
    except Exception:  # the reference cannot run on these inputs: nothing to compare
        return None
    if not isinstance(got, BaseException) and same(got, right):
        return None
    raised = isinstance(got, BaseException)
    matches: list[Diagnosis] = []
    tried: list[tuple[Alternative, object]] = []
    for alternative in explainer.alternatives():
        try:
            wrong: object = alternative.backward(*args())
        except Exception as exc:  # the mistake raises here: it may raise as the student's did
            wrong = exc
        if not alternative.partial and not isinstance(wrong, BaseException):
            tried.append((alternative, wrong))
        if alternative.partial and (raised or isinstance(wrong, BaseException)):
            continue  # a loop on part of the batch that cannot run says nothing
        if raised or isinstance(wrong, BaseException):
            if not same_failure(got, wrong):
                continue
            grads: list[str] = []
        else:
            try:
                if same(wrong, right):
                    continue
                if alternative.partial:
                    touched = partly(got, right, wrong)
                    if not touched:
                        continue
                    grads = [g for g in (names(path) for path in touched) if g]
                elif not same(got, wrong):
                    continue
                else:
                    grads = [g for g in differing(wrong, right, names) if g]  # "": no name
            except Exception:  # a value the comparison cannot take names nothing
                continue
        if grads:
            message = alternative.message.replace("{grads}", _join(grads))
        else:
            message = alternative.message.replace("{grads}: ", "")
        matches.append(Diagnosis(alternative.code, message, grads[0] if len(grads) == 1 else None))
        if not raised:  # equal values are strong evidence: the first, most specific, wins
            break
    if raised:  # many mistakes raise the same error: prefer the ones that usually do
        matches.sort(key=lambda d: RAISING.index(d.code) if d.code in RAISING else len(RAISING))
        return matches[0] if matches else None
    if matches:
        return matches[0]
    return in_part(tried, got, right, names) or per_sample(reference, args, got, right, names)


def in_part(
    tried: list[tuple[Alternative, object]],
    got: object,
    right: object,
    names: Callable[[str], str],
) -> Diagnosis | None:
    """A mistake made in some of the returned values only (``db`` taken
    before the mask that ``dW`` went through): the first alternative whose
    values the student's equal wherever they are not right."""
    for alternative, wrong in tried:
        try:
            touched = partly(got, right, wrong)
        except Exception:  # a value the comparison cannot take names nothing
            continue
        if not touched:
            continue
        grads = [g for g in (names(path) for path in touched) if g]
        message = (
            alternative.message.replace("{grads}", _join(grads))
            if grads
            else (alternative.message.replace("{grads}: ", ""))
        )
        return Diagnosis(alternative.code, message, grads[0] if len(grads) == 1 else None)
    return None


def per_sample(
    reference: Callable[..., object],
    args: Callable[[], tuple[Any, ...]],
    got: object,
    right: object,
    names: Callable[[str], str],
) -> Diagnosis | None:
    """A loop over the batch that leaves a sample out or overwrites a sum,
    when the student's values are exactly what such a loop returns."""
    for candidate in samples.candidates(reference, args, right):
        touched = partly(got, right, candidate.value)
        if not touched:
            continue
        grads = [g for g in (names(path) for path in touched) if g]
        message = samples.MESSAGES[candidate.code].replace("{which}", candidate.which)
        if grads:
            message = message.replace("{grads}", _join(grads))
        else:
            message = message.replace("{grads}: ", "")
        return Diagnosis(candidate.code, message, grads[0] if len(grads) == 1 else None)
    return None


def partly(got: object, right: object, wrong: object) -> list[str]:
    """The paths at which ``got`` is ``wrong`` (and ``wrong`` is not right),
    when every other value of ``got`` is right; [] when ``got`` is neither."""
    mine, good, bad = dict(leaves(got)), dict(leaves(right)), dict(leaves(wrong))
    if not mine.keys() == good.keys() == bad.keys():
        return []
    touched = []
    for path, value in mine.items():
        if _same_leaf(value, good[path]):
            continue
        if not _same_leaf(value, bad[path]):
            return []
        touched.append(path)
    return touched


# mistakes that typically end in an exception, most telling first
RAISING = [
    Code.WRONG_VARIABLE,
    Code.FORWARD_VALUE_HANDED_DOWN,
    Code.TRANSPOSED,
    Code.RETURN_ORDER,
    Code.BROADCAST_SLIP,
]


def same_failure(got: object, wrong: object) -> bool:
    """Two exceptions of the same kind with the same message: the student's
    code and a mistake failing the same way (a shape that cannot broadcast).
    An exception raised in another process carries its kind and message as
    ``kind`` and ``detail``."""
    if not isinstance(got, BaseException) or not isinstance(wrong, BaseException):
        return False
    kind = getattr(got, "kind", type(got).__name__)
    detail = _words(str(getattr(got, "detail", str(got))))
    # compared word by word: a message that crossed from the student's process
    # is one line without trailing spaces (numpy's broadcast error ends in one)
    return bool(kind == type(wrong).__name__ and detail == _words(str(wrong)) and detail)


def _words(text: str) -> str:
    return " ".join(text.split())


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
