"""What a call into the student's code may change, on both sides of the sandbox.

A method's object crosses as its declared state: the attributes the trusted
object holds (``wire.Instance``). After the call, the student's side reports
each change to that state, and each in-place change to the call's array
arguments, as a ``Change`` (``changes``). The trusted side applies them
(``apply``) only where its own object or argument holds an ndarray and the
change is an ndarray of the same shape and dtype. Any other change (a
function, class or number swapped, an array of another shape or dtype, a
list grown, an attribute removed) refuses the whole reply (``Refused``) and
nothing of it is applied. Attributes the student's code adds are its own:
they are not declared state and never cross.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.gradcheck.tracebacks import RaisedElsewhere

MAX_DEPTH = 16
MAX_WHAT = 200

Key = str | int
Path = tuple[Key, ...]
IsGiven = Callable[[Any], bool]  # whether an object's attributes are state to walk into


class Refused(RaisedElsewhere):
    """A reply the trusted side will not apply; ``str()`` says what and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"RefusedReply: {reason}")


@dataclass(frozen=True)
class Change:
    """One change a call made: ``value`` is the new array (``inplace``: written
    into the old one), or None when what changed is not an array (``what``
    says how, for the refusal)."""

    path: Path
    value: np.ndarray | None
    inplace: bool
    what: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "value": self.value,
            "inplace": self.inplace,
            "what": self.what,
        }

    @classmethod
    def from_data(cls, data: Any) -> Change:
        """A change as it came back; anything malformed is refused."""
        if type(data) is not dict or set(data) != {"path", "value", "inplace", "what"}:
            raise Refused("a malformed change record")
        path, value, inplace, what = data["path"], data["value"], data["inplace"], data["what"]
        if type(path) is not list or not all(type(k) in (str, int) for k in path):
            raise Refused("a change at a malformed path")
        if type(value) not in (np.ndarray, type(None)) or type(inplace) is not bool:
            raise Refused(f"a change at {label(tuple(path), '')} that is not an array")
        what = " ".join(what.split())[:MAX_WHAT] if type(what) is str else "changed"
        return cls(tuple(path), value, inplace, what)


def label(path: Path, root: str) -> str:
    """``self.layers[0].W`` for ("layers", 0, "W")."""
    text = root
    for key in path:
        text += f"[{key}]" if type(key) is int else f".{key}"
    return text


def nodes(root: Any, given: IsGiven, path: Path = (), depth: int = 0) -> Iterator[tuple[Path, Any]]:
    """Every value of ``root``'s state with its path: through lists, tuples,
    dicts with str keys, and the attributes of given objects."""
    yield path, root
    if depth >= MAX_DEPTH:
        return
    for key, item in _children(root, given):
        yield from nodes(item, given, (*path, key), depth + 1)


def _children(value: Any, given: IsGiven) -> list[tuple[Key, Any]]:
    kind = type(value)
    if kind is np.ndarray or kind is float or kind is int:
        return []  # the leaves of almost every walk: no need to ask ``given``
    if kind in (list, tuple):
        return list(enumerate(value))
    if kind is dict:
        return [(k, v) for k, v in value.items() if type(k) is str]
    if given(value):
        return list(vars(value).items())
    return []


def _child(value: Any, key: Key, given: IsGiven) -> tuple[bool, Any]:
    kind = type(value)
    if kind in (list, tuple) and type(key) is int:
        return (0 <= key < len(value), value[key] if 0 <= key < len(value) else None)
    if kind is dict and type(key) is str:
        return key in value, value.get(key)
    if type(key) is str and given(value):
        attributes = vars(value)
        return key in attributes, attributes.get(key)
    return False, None


def _lookup(root: Any, path: Path, given: IsGiven) -> tuple[bool, Any, Any]:
    """(found, parent, value) at ``path``."""
    parent, value = None, root
    for key in path:
        found, child = _child(value, key, given)
        if not found:
            return False, None, None
        parent, value = value, child
    return True, parent, value


# --- the student's side: what did the call change? ---------------------------

_Print = tuple[tuple[int, ...], str, bytes]


def _print(array: np.ndarray) -> _Print:
    return array.shape, array.dtype.str, array.tobytes()


@dataclass(frozen=True)
class Snapshot:
    """The state before a call: each node's identity, and each array's contents."""

    entries: tuple[tuple[Path, Any, _Print | None, int], ...]


def snapshot(root: Any, given: IsGiven) -> Snapshot:
    entries = []
    for path, value in nodes(root, given):
        data = _print(value) if type(value) is np.ndarray else None
        size = len(value) if type(value) in (list, tuple, dict) else -1
        entries.append((path, value, data, size))
    return Snapshot(tuple(entries))


def changes(
    before: Snapshot, root: Any, given: IsGiven, inplace_only: bool = False
) -> list[Change]:
    """What the call changed in ``root``'s declared state. ``inplace_only``
    (a call's arguments): rebinding a name there is invisible to the caller."""
    found_changes: list[Change] = []
    replaced: list[Path] = []
    for path, old, data, size in before.entries:
        if any(path[: len(p)] == p for p in replaced):
            continue  # inside something already reported as replaced
        found, _, value = _lookup(root, path, given)
        if not found:
            if not inplace_only:
                found_changes.append(Change(path, None, False, "removed"))
                replaced.append(path)
            continue
        if value is not old:
            if inplace_only:
                continue
            if type(value) is np.ndarray and data is not None:
                if _print(value) != data:
                    found_changes.append(Change(path, value, False))
            elif not _same_data(value, old):
                found_changes.append(Change(path, None, False, f"replaced by {_kind(value)}"))
            replaced.append(path)
        elif data is not None and _print(value) != data:
            found_changes.append(Change(path, value, True))
        elif size >= 0 and len(value) != size and not inplace_only:
            found_changes.append(Change(path, None, False, "resized"))
    return found_changes


def _same_data(a: Any, b: Any) -> bool:
    plain = (type(None), bool, int, float, str)
    return type(a) is type(b) and type(a) in plain and (a == b or (a != a and b != b))


def _kind(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return "a function"
    if isinstance(value, type):
        return "a class"
    if type(value) is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a value of type {type(value).__name__}"[:MAX_WHAT]


# --- the trusted side: apply what came back, or refuse all of it -------------


@dataclass(frozen=True)
class Plan:
    """Changes checked against the trusted objects, ready to apply."""

    steps: tuple[tuple[Change, Any, np.ndarray], ...]

    def commit(self) -> None:
        for change, parent, old in self.steps:
            assert change.value is not None
            if change.inplace:
                np.copyto(old, change.value)
            elif type(parent) in (list, dict):
                parent[change.path[-1]] = change.value
            else:
                setattr(parent, str(change.path[-1]), change.value)


def check(
    root: Any,
    data: Any,
    given: IsGiven,
    name: Callable[[Path], str],
    inplace_only: bool = False,
    reshape: bool = False,
) -> Plan:
    """The changes ``data`` reports to ``root`` (a trusted object, or a
    call's arguments with ``inplace_only``), each checked: it must land on
    an ndarray ``root`` holds, as an ndarray of the same shape and dtype
    (with ``reshape``, an array put in its place may have any: the given
    code's own ``self.X = X``). Raises ``Refused`` for the first that does
    not. ``name`` shows a path."""
    if type(data) is not list:
        raise Refused("a malformed list of changes")
    steps: list[tuple[Change, Any, np.ndarray]] = []
    for item in data:
        change = Change.from_data(item)
        where = name(change.path)
        if change.value is None:
            raise Refused(
                f"{where} was {change.what or 'changed'}: only arrays may change, "
                "keeping their shape and dtype"
            )
        found, parent, old = _lookup(root, change.path, given)
        if not found or type(old) is not np.ndarray:
            kind = "does not exist" if not found else "is not an array"
            raise Refused(f"it changed {where}, which {kind}: only arrays may change")
        resized = change.value.shape != old.shape or change.value.dtype != old.dtype
        if resized and (change.inplace or not reshape):
            raise Refused(
                f"{where} became an array of shape {change.value.shape} and dtype "
                f"{change.value.dtype}; it must keep shape {old.shape} and dtype {old.dtype}"
            )
        if change.inplace and not old.flags.writeable:
            raise Refused(f"{where} is read-only")
        if not change.inplace and (inplace_only or type(parent) is tuple):
            raise Refused(f"{where} cannot be replaced, only changed in place")
        steps.append((change, parent, old))
    return Plan(tuple(steps))


def argument(path: Path) -> str:
    """How a path into ``[args, kwargs]`` reads: ``argument 2[3]``."""
    if len(path) < 2:
        return "its arguments"
    head = f"argument {path[1] + 1}" if path[0] == 0 and type(path[1]) is int else f"{path[1]}="
    return label(path[2:], head)


def owner(path: Path) -> str:
    """How a path into a method's object reads: ``self.layers[0].W``."""
    return label(path, "self")


# --- the student's side: one call ---------------------------------------------


def freeze(arguments: Any, given: IsGiven) -> None:
    """Make the arguments' arrays read-only, as the trusted caller's were."""
    for _, value in nodes(arguments, given):
        if type(value) is np.ndarray:
            value.flags.writeable = False


def readonly(arguments: Any, given: IsGiven) -> bool:
    """Whether any array among the arguments is read-only."""
    return any(
        type(value) is np.ndarray and not value.flags.writeable
        for _, value in nodes(arguments, given)
    )


class Watch:
    """One call on the student's side: the state before it, and the reply
    after it (its value, and what it changed of its object and arguments)."""

    def __init__(self, obj: Any, args: Any, kwargs: Any, given: IsGiven) -> None:
        self.obj, self.arguments, self.given = obj, [args, kwargs], given
        self.before = snapshot(self.arguments, given)
        self.before_obj = snapshot(obj, given) if obj is not None else None

    def reply(self, value: Any) -> dict[str, Any]:
        mutated = changes(self.before, self.arguments, self.given, inplace_only=True)
        reply: dict[str, Any] = {"value": value, "mutated": [c.to_data() for c in mutated]}
        if self.before_obj is not None:
            changed = changes(self.before_obj, self.obj, self.given)
            reply["state"] = [c.to_data() for c in changed]
        return reply
