"""The data that crosses between the trusted grader and a student's sandbox.

Never pickle: a message is a JSON header plus raw array buffers. Values are
None, bool, int, float (NaN and infinities included), str, lists, tuples,
dicts with str keys, and plain numeric ndarrays. Anything else is sent as
``{"$unsupported": type name}`` and can only ever be reported.

Requests (trusted to student) may also hold two tokens whose names the
trusted side chose: ``Given`` (a function or class of the assignment, or a
numpy function, by dotted name) and ``Instance`` (an object of a given
class as its attributes). The student's side maps them to its own copies.
Replies never hold tokens: the trusted side reads them with ``Bound.tokens``
off, so it never resolves a name, builds an object or calls a function the
student's process named. A reply's size, number of arrays and nesting are
bounded (``Bound``, fixed from the request) before anything is allocated.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from grader.gradcheck.validate import Opaque

MAX_MESSAGE = 512 * 1024 * 1024  # a request, which the trusted side built
MAX_DEPTH = 16  # of a value; a message's envelope adds a few levels
ENVELOPE = 4
MAX_HEADER = 1024 * 1024  # a reply's JSON header
MAX_CONTAINERS = 20_000  # lists, tuples and dicts in a reply
MAX_NDIM = 32
MAX_NAME = 200  # characters of a type name sent as unsupported
CHUNK = 1 << 20  # bytes read into an array at a time
FLOOR_ELEMENTS = 4096  # an array any reply may hold, however small the request
DTYPES = {
    d.str: d
    for t in (
        *(np.bool_, np.int8, np.int16, np.int32, np.int64),
        *(np.uint8, np.uint16, np.uint32, np.uint64, np.float16, np.float32, np.float64),
    )
    for d in (np.dtype(t), np.dtype(t).newbyteorder())
}


class WireError(Exception):
    """A message that is not well-formed data (too big, too deep, bad type)."""


class ReplyRefused(Exception):
    """A reply its sender found larger than the call allows (see ``fitting``)."""


class Unsupported(Opaque):
    """A value the other side could not send as data."""


@dataclass(frozen=True)
class Given:
    """A function or class of the assignment (``"layer_class.sigmoid_gd"``)
    or of numpy (``"numpy.tanh"``), named by the trusted side."""

    name: str


@dataclass(frozen=True)
class Instance:
    """An object of a given class, as its attributes (``vars``)."""

    cls: str
    state: dict[str, Any]


Token = Given | Instance
Convert = Callable[[Any], "Token | None"]
Shape = tuple[int, ...]


class Writer(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def flush(self) -> Any: ...


class Reader(Protocol):
    def read(self, size: int, /) -> bytes | bytearray: ...


@dataclass(frozen=True)
class Bound:
    """What one message may hold, fixed before it is read: a reply to a
    request is bounded by ``Bound.expecting`` the request's array shapes."""

    array_elements: int
    total_elements: int
    arrays: int
    header_bytes: int = MAX_HEADER
    containers: int = MAX_CONTAINERS
    tokens: bool = False

    @classmethod
    def expecting(cls, shapes: Sequence[Shape]) -> Bound:
        """A reply to a request holding arrays of these shapes: each array no
        larger than the request's largest array or the product of its two
        largest dimensions (an outer product or a matrix product of what was
        given), at most twice as many arrays as were given (gradients and
        changed state) and as many elements in all."""
        sizes = [math.prod(s) for s in shapes]
        dims = sorted((d for s in shapes for d in s), reverse=True)[:2]
        largest = max([FLOOR_ELEMENTS, *sizes, math.prod(dims) if len(dims) == 2 else 0])
        return cls(
            array_elements=largest,
            total_elements=2 * sum(sizes) + 2 * largest,
            arrays=2 * len(shapes) + 8,
        )

    def refusal(self, message: Message) -> str | None:
        """Why ``message`` exceeds this bound (None: it does not)."""
        if len(message.header) > self.header_bytes:
            return f"a reply of {len(message.header)} bytes of non-array data is too large"
        if len(message.shapes) > self.arrays:
            return f"a reply of {len(message.shapes)} arrays holds too many (at most {self.arrays})"
        for shape in message.shapes:
            if math.prod(shape) > self.array_elements:
                return (
                    f"an array of shape {shape} is larger than this call can need "
                    f"(at most {self.array_elements} elements)"
                )
        total = sum(math.prod(s) for s in message.shapes)
        if total > self.total_elements:
            return f"a reply of {total} array elements is too large (at most {self.total_elements})"
        return None


# what the student's side accepts from the trusted side
REQUESTS = Bound(
    array_elements=MAX_MESSAGE,
    total_elements=MAX_MESSAGE,
    arrays=100_000,
    header_bytes=MAX_MESSAGE,
    containers=MAX_MESSAGE,
    tokens=True,
)


@dataclass(frozen=True)
class Message:
    """A value encoded for the wire."""

    header: bytes
    buffers: tuple[bytes, ...]
    shapes: tuple[Shape, ...]
    plain: bool  # everything in it was data (nothing sent as unsupported)
    value: Any = field(default=None, compare=False)

    def key(self) -> str:
        """A fingerprint of the encoding, by which a traced call is matched:
        sha256 of the header (every shape, dtype and plain value), and of each
        array in full up to 64 KiB, beyond that of its first and last 16 KiB
        and 2,048 of its 8-byte words spread evenly over it. It tells an
        honest student's copy of a loop that went another way (other random
        draws, an edited given function) from the grader's, where everything
        downstream differs. It is not a security boundary: a hostile process
        can answer any request with anything, traced or not, and every reply
        is validated as data either way."""
        digest = hashlib.sha256(self.header)
        for buffer in self.buffers:
            digest.update(struct.pack("<Q", len(buffer)))
            digest.update(_sample(buffer))
        return digest.hexdigest()

    def bound(self) -> Bound:
        """The bound of a reply to this message."""
        return Bound.expecting(self.shapes)


FULL_KEY_BYTES, KEY_EDGE_BYTES, KEY_WORDS = 64 * 1024, 16 * 1024, 2048


def _sample(buffer: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    if len(buffer) <= FULL_KEY_BYTES:
        return buffer
    view = memoryview(buffer)
    words = np.frombuffer(buffer, dtype=np.uint64, count=len(buffer) // 8)
    spread = words[:: max(1, len(words) // KEY_WORDS)].tobytes()
    return bytes(view[:KEY_EDGE_BYTES]) + bytes(view[-KEY_EDGE_BYTES:]) + spread


_PLAIN = frozenset({type(None), bool, str, int})
_FLOATS = frozenset({float, np.float64, np.float32, np.float16})


def encode(value: Any, convert: Convert | None = None) -> Message:
    """``convert`` turns the trusted side's given functions and objects into
    tokens (None: not data). Exact types only: a subclass is never data."""
    buffers: list[bytes] = []
    shapes: list[Shape] = []
    plain = True

    def unsupported(name: str) -> dict[str, str]:
        nonlocal plain
        plain = False
        return {"$unsupported": name[:MAX_NAME]}

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return unsupported("structure nested too deeply")
        kind = type(v)
        if kind is np.ndarray:
            if v.dtype.str not in DTYPES or v.ndim > MAX_NDIM:
                return unsupported(f"numpy array of dtype {v.dtype}")
            buffers.append(np.ascontiguousarray(v).tobytes())
            shapes.append(tuple(v.shape))
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
                return unsupported("dict with non-string keys")
            return {"$dict": {k: walk(item, depth + 1) for k, item in v.items()}}
        if kind is Given:
            return {"$given": v.name}
        if kind is Instance:
            return {"$object": v.cls, "state": walk(dict(v.state), depth + 1)}
        if isinstance(v, str):
            return str.__str__(v)
        if isinstance(v, np.integer | np.bool_) and kind.__module__ == "numpy":
            return v.item()
        token = convert(v) if convert is not None else None
        if type(token) in (Given, Instance):
            return walk(token, depth)
        return unsupported(_type_name(v))

    header = json.dumps(walk(value, 0), allow_nan=False).encode()
    return Message(header, tuple(buffers), tuple(shapes), plain, value)


def key(value: Any, convert: Convert | None = None) -> tuple[str, bool]:
    """(sha256 of the value's encoding, whether all of it is data)."""
    message = encode(value, convert)
    return message.key(), message.plain


def fitting(value: Any, bound: Bound, error: Callable[[BaseException], Any]) -> Message:
    """``value`` encoded as data only (no tokens: whatever is not data goes as
    unsupported); or, if it exceeds ``bound`` (so the trusted side would
    refuse it unread), ``error`` of a ``ReplyRefused`` saying why."""
    message = encode(value)
    why = bound.refusal(message)
    return message if why is None else encode(error(ReplyRefused(why)))


def send(stream: Writer, value: Any, convert: Convert | None = None, flush: bool = True) -> Message:
    """Write one framed message (a value, or a ``Message`` already encoded):
    header length, buffer count, header, then each buffer with its length;
    then flush the stream unless told not to (a stream of many messages)."""
    message = value if type(value) is Message else encode(value, convert)
    total = len(message.header) + sum(len(b) for b in message.buffers)
    if total > MAX_MESSAGE:
        raise WireError(f"message of {total} bytes exceeds the limit of {MAX_MESSAGE}")
    stream.write(struct.pack("<QI", len(message.header), len(message.buffers)))
    stream.write(message.header)
    for buffer in message.buffers:
        stream.write(struct.pack("<Q", len(buffer)))
        stream.write(buffer)
    if flush:
        stream.flush()
    return message


@dataclass(frozen=True)
class _Slot:
    """Where an array goes, known from the header before any buffer is read."""

    dtype: np.dtype[Any]
    shape: Shape

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def receive(stream: Reader, bound: Bound) -> Any:
    """Read one framed message within ``bound``: the header's size, its
    containers and depth, and every array's dtype and size are checked
    before an array is allocated; each array is then read straight into
    its own fresh, writable ndarray."""
    header_size, count = struct.unpack("<QI", _exact(stream, 12))
    if header_size > bound.header_bytes:
        raise WireError(f"a message header of {header_size} bytes exceeds {bound.header_bytes}")
    if count > bound.arrays:
        raise WireError(f"a message of {count} arrays exceeds the {bound.arrays} this call allows")
    header = bytes(_exact(stream, header_size))
    if header.count(b"[") + header.count(b"{") > bound.containers:
        raise WireError("a message with too many lists and dicts")
    try:
        tree = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"malformed message: {str(exc)[:100]}") from None
    slots: dict[int, _Slot] = {}
    _check(tree, 0, bound, slots)
    if sorted(slots) != list(range(count)):
        raise WireError("array buffers and the header do not match")
    total = sum(math.prod(s.shape) for s in slots.values())
    if total > bound.total_elements:
        raise WireError(f"a message of {total} array elements exceeds {bound.total_elements}")
    arrays = []
    for index in range(count):
        (size,) = struct.unpack("<Q", _exact(stream, 8))
        slot = slots[index]
        if size != slot.nbytes:
            raise WireError("array buffer has the wrong size")
        array = np.empty(slot.shape, slot.dtype)
        _fill(stream, memoryview(array.reshape(-1).view(np.uint8)), size)  # type: ignore[arg-type]
        arrays.append(array)
    return _build(tree, arrays)


def _check(v: Any, depth: int, bound: Bound, slots: dict[int, _Slot]) -> None:
    """Validate a parsed header; record each array's slot. Allocates nothing."""
    if depth > MAX_DEPTH + ENVELOPE:
        raise WireError("message nested too deeply")
    kind = type(v)
    if kind is list:
        for item in v:
            _check(item, depth + 1, bound, slots)
        return
    if kind in _PLAIN or kind is float:
        return
    if kind is not dict:
        raise WireError("malformed value")
    tag = next(iter(v), None)
    if tag == "$nd" and set(v) == {"$nd", "dtype", "shape"}:
        _slot(v, bound, slots)
    elif tag in ("$tuple", "$dict") and len(v) == 1:
        items: Any = v[tag]
        if tag == "$tuple" and type(items) is list:
            children = items
        elif tag == "$dict" and type(items) is dict:
            children = list(items.values())
        else:
            raise WireError(f"malformed message: {tag} of the wrong kind")
        for item in children:
            _check(item, depth + 1, bound, slots)
    elif tag == "$float" and len(v) == 1:
        if v[tag] not in ("nan", "inf", "-inf"):
            raise WireError("malformed float")
    elif tag == "$unsupported" and len(v) == 1:
        if type(v[tag]) is not str:
            raise WireError("malformed value")
    elif tag in ("$given", "$object"):
        if not bound.tokens:
            raise WireError(f"a reply may hold only data, not a name ({tag})")
        if type(v[tag]) is not str:
            raise WireError("malformed value")
        if tag == "$object":
            state = v.get("state")
            if set(v) != {"$object", "state"} or type(state) is not dict or "$dict" not in state:
                raise WireError("malformed object state")
            _check(state, depth + 1, bound, slots)
        elif len(v) != 1:
            raise WireError("malformed value")
    else:
        raise WireError("unknown value tag")


def _slot(v: dict[str, Any], bound: Bound, slots: dict[int, _Slot]) -> None:
    dtype = DTYPES.get(v["dtype"]) if type(v["dtype"]) is str else None
    if dtype is None:
        raise WireError(f"arrays of dtype {str(v['dtype'])[:40]} are not data")
    shape, index = v["shape"], v["$nd"]
    if type(shape) is not list or len(shape) > MAX_NDIM or any(type(n) is not int for n in shape):
        raise WireError("malformed array shape")
    if any(n < 0 for n in shape):
        raise WireError("negative array dimension")
    elements = math.prod(shape)
    if elements > bound.array_elements:
        raise WireError(
            f"an array of {elements} elements is larger than this call can need "
            f"(at most {bound.array_elements})"
        )
    if type(index) is not int or not 0 <= index < bound.arrays:
        raise WireError("array buffer out of range")
    if index in slots:
        raise WireError("two values name one array buffer")
    slots[index] = _Slot(dtype, tuple(shape))


def _build(v: Any, arrays: list[np.ndarray]) -> Any:
    """The value of a header already checked by ``_check``."""
    kind = type(v)
    if kind is list:
        return [_build(item, arrays) for item in v]
    if kind is not dict:
        return v
    tag = next(iter(v))
    if tag == "$nd":
        return arrays[v["$nd"]]
    if tag == "$tuple":
        return tuple(_build(item, arrays) for item in v[tag])
    if tag == "$dict":
        return {k: _build(item, arrays) for k, item in v[tag].items()}
    if tag == "$float":
        return float(v[tag])
    if tag == "$unsupported":
        return Unsupported(v[tag])
    if tag == "$given":
        return Given(v[tag])
    return Instance(v[tag], _build(v["state"], arrays))


def shapes(value: Any, depth: int = 0) -> list[Shape]:
    """The shapes of every array in a received value (its tokens' states
    included): the student's side bounds its reply by them, as the trusted
    side does by the request it sent."""
    if depth > MAX_DEPTH + ENVELOPE:
        return []
    kind = type(value)
    if kind is np.ndarray:
        return [tuple(value.shape)]
    items: Any = ()
    if kind in (list, tuple):
        items = value
    elif kind is dict:
        items = value.values()
    elif kind is Instance:
        items = value.state.values()
    return [s for item in items for s in shapes(item, depth + 1)]


def request(
    target: str, args: Any, kwargs: Any, owner: Instance | None = None, readonly: bool = False
) -> dict[str, Any]:
    """A call for the student's process; built the same way on both sides,
    because a traced call is matched by the hash of its encoding."""
    message: dict[str, Any] = {"target": target, "args": list(args), "kwargs": dict(kwargs or {})}
    if owner is not None:
        message["self"] = owner
    if readonly:
        message["readonly"] = True
    return message


def _type_name(v: Any) -> str:
    kind = type(v)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else (f"{kind.__module__}.{kind.__qualname__}")
    )
    return str(name)[:MAX_NAME]


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


def _fill(stream: Reader, target: memoryview, size: int) -> None:
    """Read ``size`` bytes into ``target``, at most ``CHUNK`` at a time."""
    done = 0
    while done < size:
        chunk = stream.read(min(CHUNK, size - done))
        if not chunk:
            raise EOFError("the other side closed the channel")
        target[done : done + len(chunk)] = chunk
        done += len(chunk)
