"""The data that crosses between the trusted grader and a student's sandbox.

Never pickle: a message is a JSON header plus raw array buffers. Values are
None, bool, int, float (NaN and infinities included), str, lists, tuples,
dicts with str keys, and plain numeric ndarrays. A function or class of the
submission crosses by name (``{"$fn": "layers.relu_forward"}``), an object
by its class name and the plain data of its attributes. Anything else is
sent as ``{"$unsupported": type name}`` and can only ever be reported.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from grader.gradcheck.validate import Opaque

MAX_MESSAGE = 512 * 1024 * 1024
MAX_DEPTH = 16
DTYPE_KINDS = "biuf"


class WireError(Exception):
    """A message that is not well-formed data (too big, too deep, bad type)."""


class Unsupported(Opaque):
    """A value the other side could not send as data."""


class Ref:
    """A function or class of the submission, by module and qualified name."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and (self.kind, self.name) == (other.kind, other.name)

    def __hash__(self) -> int:
        return hash((self.kind, self.name))

    def __repr__(self) -> str:
        return f"Ref({self.kind!r}, {self.name!r})"


class State:
    """An object as plain data: its class (a Ref) and its attributes."""

    def __init__(self, cls: str, attributes: dict[str, Any]) -> None:
        self.cls, self.attributes = cls, attributes

    def __repr__(self) -> str:
        return f"State({self.cls!r}, {sorted(self.attributes)})"


Convert = Callable[[Any], "Ref | State | None"]


class Writer(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def flush(self) -> Any: ...


class Reader(Protocol):
    def read(self, size: int, /) -> bytes | bytearray: ...


_PLAIN = frozenset({type(None), bool, str, int})
_FLOATS = frozenset({float, np.float64, np.float32, np.float16})


def encode(value: Any, convert: Convert | None = None) -> tuple[bytes, list[bytes]]:
    """(header, buffers). ``convert`` turns the caller's own functions and
    objects into a Ref or a State (or None: not data)."""
    buffers: list[bytes] = []

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return {"$unsupported": "structure nested too deeply"}
        kind = type(v)  # exact types first: a subclass is never taken for data
        if kind is np.ndarray:
            if v.dtype.kind not in DTYPE_KINDS or v.dtype.hasobject:
                return {"$unsupported": f"numpy array of dtype {v.dtype}"}
            buffers.append(np.ascontiguousarray(v).tobytes())
            return {"$nd": len(buffers) - 1, "dtype": v.dtype.str, "shape": list(v.shape)}
        if kind in _PLAIN:
            return v
        if kind in _FLOATS:
            f = float(v)
            return f if math.isfinite(f) else {"$float": repr(f)}
        if kind is list:
            return [walk(item, depth + 1) for item in v]
        if kind is tuple:
            return {"$tuple": [walk(item, depth + 1) for item in v]}
        if kind is dict:
            if not all(type(k) is str for k in v):
                return {"$unsupported": "dict with non-string keys"}
            return {"$dict": {k: walk(item, depth + 1) for k, item in v.items()}}
        if kind is Ref:
            return {"$" + v.kind: v.name}
        if kind is State:
            return {"$obj": v.cls, "state": walk(dict(v.attributes), depth + 1)}
        if isinstance(v, str):
            return str.__str__(v)
        if isinstance(v, np.integer | np.bool_) and kind.__module__ == "numpy":
            return v.item()
        converted = convert(v) if convert is not None else None
        if isinstance(converted, Ref | State):
            return walk(converted, depth + 1)
        return {"$unsupported": _type_name(v)}

    header = json.dumps(walk(value, 0), allow_nan=False).encode()
    return header, buffers


def decode(header: bytes | bytearray, buffers: Sequence[bytes | bytearray]) -> Any:
    """The value of a message, as plain data (arrays are fresh, writable, and
    never share memory with each other)."""
    used: set[int] = set()

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH + 2:
            raise WireError("message nested too deeply")
        kind = type(v)  # what json.loads makes: exact types only
        if kind is dict:
            return tagged(v, depth)
        if kind is list:
            return [walk(item, depth + 1) for item in v]
        if kind in _PLAIN or kind is float:
            return v
        raise WireError("malformed value")

    def tagged(v: dict[str, Any], depth: int) -> Any:
        if len(v) not in (1, 2, 3):
            raise WireError("malformed value")
        if "$nd" in v:
            return _array(v, buffers, used)
        if "$tuple" in v:
            return tuple(walk(item, depth + 1) for item in v["$tuple"])
        if "$dict" in v:
            return {str(k): walk(item, depth + 1) for k, item in v["$dict"].items()}
        if "$float" in v:
            text = str(v["$float"])
            if text not in ("nan", "inf", "-inf"):
                raise WireError("malformed float")
            return float(text)
        if "$fn" in v:
            return Ref("fn", str(v["$fn"]))
        if "$obj" in v:
            state = walk(v.get("state", {"$dict": {}}), depth + 1)
            if not isinstance(state, dict):
                raise WireError("malformed object state")
            return State(str(v["$obj"]), state)
        if "$unsupported" in v:
            return Unsupported(str(v["$unsupported"]))
        raise WireError("unknown value tag")

    try:
        return walk(json.loads(header), 0)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise WireError(f"malformed message: {exc}") from None


def _array(v: dict[str, Any], buffers: Sequence[bytes | bytearray], used: set[int]) -> np.ndarray:
    dtype = np.dtype(str(v["dtype"]))
    if dtype.kind not in DTYPE_KINDS or dtype.hasobject:
        raise WireError(f"arrays of dtype {dtype} are not data")
    shape = tuple(int(n) for n in v["shape"])
    if any(n < 0 for n in shape):
        raise WireError("negative array dimension")
    index = int(v["$nd"])
    if not 0 <= index < len(buffers):
        raise WireError("array buffer out of range")
    data = buffers[index]
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise WireError("array buffer has the wrong size")
    array: np.ndarray = np.frombuffer(data, dtype=dtype).reshape(shape)
    # a bytearray buffer read for this message is ours: use it in place, once
    fresh = array.flags.writeable and index not in used
    used.add(index)
    return array if fresh else array.copy()


def _type_name(v: Any) -> str:
    kind = type(v)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else (f"{kind.__module__}.{kind.__qualname__}")
    )


def request(
    target: str, args: Any, kwargs: Any, owner: Any = None, readonly: bool = False
) -> dict[str, Any]:
    """A call for the student's process; built the same way on both sides,
    because a traced call is matched by the hash of its encoding."""
    message: dict[str, Any] = {"target": target, "args": list(args), "kwargs": dict(kwargs or {})}
    if owner is not None:
        message["self"] = owner
    if readonly:
        message["readonly"] = True
    return message


def key(value: Any, convert: Convert | None = None) -> tuple[str, bool]:
    """(sha256 of the value's encoding, whether all of it is data)."""
    header, buffers = encode(value, convert)
    digest = hashlib.sha256(header)
    for buffer in buffers:
        digest.update(struct.pack("<Q", len(buffer)))
        digest.update(buffer)
    return digest.hexdigest(), b'"$unsupported"' not in header


Path = tuple[Any, ...]


def arrays(value: Any, path: Path = (), depth: int = 0) -> list[tuple[Path, np.ndarray]]:
    """Every ndarray inside lists, tuples, dicts and object states, with the
    path that leads to it."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, np.ndarray):
        return [(path, value)]
    found: list[tuple[Path, np.ndarray]] = []
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += arrays(item, (*path, i), depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            found += arrays(item, (*path, key), depth + 1)
    elif isinstance(value, State):
        for key, item in value.attributes.items():
            found += arrays(item, (*path, key), depth + 1)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for key, item in vars(value).items():
            found += arrays(item, (*path, key), depth + 1)
    return found


def snapshot(given: list[tuple[Path, np.ndarray]]) -> list[tuple[tuple[int, ...], bytes]]:
    """The arguments' arrays before a call, to see afterwards what it changed."""
    return [(array.shape, array.tobytes()) for _, array in given]


def mutations(
    given: list[tuple[Path, np.ndarray]], before: list[tuple[tuple[int, ...], bytes]]
) -> list[list[Any]]:
    """[path, array] of each argument array the call changed in place (bit for bit)."""
    return [
        [list(path), array]
        for (path, array), (shape, data) in zip(given, before, strict=True)
        if array.shape != shape or array.tobytes() != data
    ]


def send(stream: Writer, value: Any, convert: Convert | None = None) -> None:
    """Write one framed message: header length, buffer count, header, buffers."""
    header, buffers = encode(value, convert)
    total = len(header) + sum(len(b) for b in buffers)
    if total > MAX_MESSAGE:
        raise WireError(f"message of {total} bytes exceeds the limit of {MAX_MESSAGE}")
    stream.write(struct.pack("<QI", len(header), len(buffers)))
    stream.write(header)
    for buffer in buffers:
        stream.write(struct.pack("<Q", len(buffer)))
        stream.write(buffer)
    stream.flush()


def receive(stream: Reader) -> Any:
    """Read one framed message; refuses oversized or truncated ones."""
    head = _exact(stream, 12)
    header_size, count = struct.unpack("<QI", head)
    if header_size > MAX_MESSAGE or count > 100_000:
        raise WireError("message header too large")
    header = _exact(stream, header_size)
    buffers, total = [], header_size
    for _ in range(count):
        (size,) = struct.unpack("<Q", _exact(stream, 8))
        total += size
        if total > MAX_MESSAGE:
            raise WireError("message too large")
        buffers.append(_exact(stream, size))
    return decode(header, buffers)


def _exact(stream: Reader, size: int) -> bytes | bytearray:
    if size == 0:
        return bytearray()
    chunk = stream.read(size)
    if len(chunk) == size:
        return chunk
    chunks, left = [chunk], size - len(chunk)
    while left:
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunk = stream.read(left)
        chunks.append(chunk)
        left -= len(chunk)
    return bytearray().join(chunks)
