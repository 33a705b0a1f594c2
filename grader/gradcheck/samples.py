"""Mistakes of a loop over the samples of a batch, named from the right
function alone: a right version run on part of the batch gives what a loop
that stops one sample short, starts one late, or overwrites (=) where it must
accumulate (+=) returns.

A returned array whose first axis is the batch is per sample (``dx``); any
other is a sum over the samples (``dw``, ``db``). The right version may
divide by the batch size, so each candidate is also tried rescaled to the
whole batch's N. Nothing here knows a layer: this works for any function
whose arguments carry the batch on their first axis.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.gradcheck.codes import Code

MESSAGES = {
    Code.LOOP_OFF_BY_ONE: "{grads}: the loop over the samples leaves one out ({which}), so "
    "its contribution is missing; loop over all N samples",
    Code.OVERWRITE_NOT_ACCUMULATE: "{grads}: inside the loop over the samples a sum is "
    "overwritten (=) where it must accumulate (+=), so only the last sample counts",
}


@dataclass(frozen=True)
class Candidate:
    code: Code
    which: str
    value: object


def batch_size(args: tuple[Any, ...]) -> int | None:
    """The leading size of the first array in the arguments (dout, x, scores)."""
    first = next(_arrays(args), None)
    if first is None or first.ndim == 0 or first.shape[0] < 2:
        return None
    return int(first.shape[0])


@dataclass(frozen=True)
class Loop:
    """One loop mistake: the part of the batch it sees and, with ``scale``
    None, a right version's mean rescaled from that part to the whole batch."""

    code: Code
    which: str
    part: str
    scale: float | None

    def rows(self, n: int) -> slice:
        return _rows(self.part, n)

    def result(self, full: object, part: object, n: int) -> object:
        """What the loop returns, from the right version's ``full`` result
        and its result on this loop's part of the batch."""
        if self.part == "last":  # every row is written, each sum overwritten
            return combine(full, part, n, None, self.scale, 1)
        return combine(full, part, n, self.rows(n), self.scale, n - 1)


LOOPS = [
    Loop(code, which, part, scale)
    for scale in (1.0, None)
    for code, which, part in (
        (Code.LOOP_OFF_BY_ONE, "the last sample", "head"),
        (Code.LOOP_OFF_BY_ONE, "the first sample", "rest"),
        (Code.OVERWRITE_NOT_ACCUMULATE, "", "last"),
    )
]


def common_size(args: tuple[Any, ...]) -> int | None:
    """The batch size of arguments that hold parameters too (a dict of
    weights beside ``probs`` and a cache): the leading size most of their
    arrays share, the larger on a tie; None if no two arrays share one."""
    sizes = Counter(a.shape[0] for a in _arrays(args) if a.ndim >= 1 and a.shape[0] >= 2)
    if not sizes:
        return None
    size, count = max(sizes.items(), key=lambda item: (item[1], item[0]))
    return int(size) if count >= 2 else None


def candidates(
    right: Callable[..., object], args: Callable[[], tuple[Any, ...]], full: object
) -> Iterator[Candidate]:
    """What each loop mistake returns, built from ``right`` on parts of the batch;
    ``full`` is what ``right`` returns on the whole batch."""
    n = batch_size(args())
    if n is None:
        return
    runs: dict[str, object] = {}
    for part in ("head", "rest", "last"):
        try:
            runs[part] = right(*sliced(args(), n, _rows(part, n)))
        except Exception:  # the right version cannot run on part of the batch
            continue
    for loop in LOOPS:
        if loop.part in runs:
            yield Candidate(loop.code, loop.which, loop.result(full, runs[loop.part], n))


def variant(
    right: Callable[..., object], loop: Loop, first_whole: bool = False
) -> Callable[..., object]:
    """A function that returns what ``right`` written as ``loop`` returns on
    the same arguments: a loop mistake where the batch reaches the function
    through code around it (a test's closure), not through the check's own
    arguments. A method's object is not the batch: its arrays are cut with
    the arguments' batch size. ``first_whole``: the first argument is left
    whole (parameters, such as a dict of weights, one of which may happen to
    have as many rows as the batch)."""

    def looped(*args: Any, **kwargs: Any) -> object:
        full = right(*args, **kwargs)
        n = common_size(tuple(a for a in args if not _is_object(a)))
        if n is None:
            return full
        rows = loop.rows(n)
        cut = sliced(copy.deepcopy(args), n, rows)  # a copy: nothing of it is shared
        if first_whole and args:
            cut = (copy.deepcopy(args[0]), *cut[1:])
        part = right(*cut, **sliced(copy.deepcopy(kwargs), n, rows))
        for mine, theirs in zip(args, cut, strict=True):
            if _is_object(mine):  # a method: what it leaves on its object, looped too
                _leave(mine, theirs, loop, n)
        return loop.result(full, part, n)

    return looped


def _leave(owner: Any, part: Any, loop: Loop, n: int) -> None:
    """Set each array ``owner`` holds to what the loop leaves there, from the
    part's object (``owner`` holds the right version's)."""
    mine = vars(owner)
    for key, value in vars(part).items():
        old = mine.get(key)
        if isinstance(old, np.ndarray) and isinstance(value, np.ndarray):
            new = loop.result(old, value, n)
            if isinstance(new, np.ndarray):
                setattr(owner, key, new)


def _rows(part: str, n: int) -> slice:
    return {
        "head": slice(0, n - 1),  # stops one short: the last sample left out
        "rest": slice(1, n),  # starts one late: the first sample left out
        "last": slice(n - 1, n),  # overwritten: only the last sample is kept
    }[part]


def _is_object(value: Any) -> bool:
    return hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value)


def combine(
    full: object, part: object, n: int, rows: slice | None, scale: float | None, used: int
) -> object:
    """The result of a loop that saw only some samples: sums from ``part``;
    per-sample arrays from ``part`` at ``rows`` and zero elsewhere (or whole
    from ``full`` when ``rows`` is None: each row is still written). ``scale``
    None: ``part`` divided by its own batch size, rescaled to ``n``."""
    factor = used / n if scale is None else scale
    if isinstance(full, Mapping) and isinstance(part, Mapping):
        return {k: combine(full[k], part.get(k), n, rows, scale, used) for k in full}
    if isinstance(full, tuple | list) and isinstance(part, tuple | list):
        if len(full) != len(part):
            return None
        items = [combine(f, p, n, rows, scale, used) for f, p in zip(full, part, strict=True)]
        return type(full)(items) if isinstance(full, tuple) else items
    if not isinstance(full, np.ndarray) or not isinstance(part, np.ndarray):
        return part
    # per sample: its rows follow the batch (a sum over the samples keeps its
    # shape on part of the batch, even where a dimension happens to equal N)
    if full.ndim >= 1 and full.shape[0] == n and part.shape[:1] != full.shape[:1]:
        if rows is None:
            return full
        out = np.zeros_like(full, dtype=np.result_type(full, part))
        if part.shape != out[rows].shape:
            return None
        out[rows] = part * factor
        return out
    return part * factor


def sliced(value: Any, n: int, rows: slice) -> Any:
    """``value`` with every array whose first axis has length ``n`` cut to
    ``rows``, in nested tuples, lists, dicts and objects' attributes."""
    if isinstance(value, np.ndarray):
        return value[rows].copy() if value.ndim >= 1 and value.shape[0] == n else value
    if isinstance(value, tuple | list):
        items = [sliced(v, n, rows) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: sliced(v, n, rows) for k, v in value.items()}
    if hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        other = copy.copy(value)
        for key, item in vars(value).items():
            if isinstance(item, np.ndarray):
                setattr(other, key, sliced(item, n, rows))
        return other
    return value


def _arrays(value: Any) -> Iterator[np.ndarray]:
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        for item in vars(value).values():
            yield from _arrays(item)
