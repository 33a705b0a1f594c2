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
import struct
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

MAX_MESSAGE = 512 * 1024 * 1024
MAX_DEPTH = 16
DTYPE_KINDS = "biuf"


class WireError(Exception):
    """A message that is not well-formed data (too big, too deep, bad type)."""


class Unsupported:
    """A value the other side could not send as data."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<unsupported value of type {self.type_name}>"


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
    def read(self, size: int, /) -> bytes: ...


def encode(value: Any, convert: Convert | None = None) -> tuple[bytes, list[bytes]]:
    """(header, buffers). ``convert`` turns the caller's own functions and
    objects into a Ref or a State (or None: not data)."""
    buffers: list[bytes] = []

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return {"$unsupported": "structure nested too deeply"}
        if v is None or isinstance(v, bool | str):
            return v
        if isinstance(v, int) and type(v) is int:
            return v
        if type(v) in (float, np.float64, np.float32, np.float16):
            f = float(v)
            return f if np.isfinite(f) else {"$float": repr(f)}
        if isinstance(v, np.integer | np.bool_) and type(v).__module__ == "numpy":
            return v.item()
        if type(v) is np.ndarray:
            if v.dtype.kind not in DTYPE_KINDS or v.dtype.hasobject:
                return {"$unsupported": f"numpy array of dtype {v.dtype}"}
            buffers.append(np.ascontiguousarray(v).tobytes())
            return {"$nd": len(buffers) - 1, "dtype": v.dtype.str, "shape": list(v.shape)}
        if type(v) in (list, tuple):
            items = [walk(item, depth + 1) for item in v]
            return items if type(v) is list else {"$tuple": items}
        if type(v) is dict:
            if not all(type(k) is str for k in v):
                return {"$unsupported": "dict with non-string keys"}
            return {"$dict": {k: walk(item, depth + 1) for k, item in v.items()}}
        if isinstance(v, Ref):
            return {"$" + v.kind: v.name}
        if isinstance(v, State):
            return {"$obj": v.cls, "state": walk(dict(v.attributes), depth + 1)}
        converted = convert(v) if convert is not None else None
        if isinstance(converted, Ref | State):
            return walk(converted, depth + 1)
        return {"$unsupported": _type_name(v)}

    header = json.dumps(walk(value, 0), allow_nan=False).encode()
    return header, buffers


def decode(header: bytes, buffers: list[bytes]) -> Any:
    """The value of a message, as plain data (arrays are fresh, writable)."""

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH + 2:
            raise WireError("message nested too deeply")
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, list):
            return [walk(item, depth + 1) for item in v]
        if not isinstance(v, dict) or len(v) not in (1, 2, 3):
            raise WireError("malformed value")
        if "$nd" in v:
            return _array(v, buffers)
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
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"malformed message: {exc}") from None


def _array(v: dict[str, Any], buffers: list[bytes]) -> np.ndarray:
    dtype = np.dtype(str(v["dtype"]))
    if dtype.kind not in DTYPE_KINDS or dtype.hasobject:
        raise WireError(f"arrays of dtype {dtype} are not data")
    shape = tuple(int(n) for n in v["shape"])
    if any(n < 0 for n in shape):
        raise WireError("negative array dimension")
    data = buffers[int(v["$nd"])]
    if len(data) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError("array buffer has the wrong size")
    array: np.ndarray = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return array


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


def _exact(stream: Reader, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
