"""What crosses between the grader and a student's process: plain data only,
validated on arrival, with deadlines on the pipes."""

from __future__ import annotations

import json
import os
import struct
import time

import numpy as np
import pytest

from grader.sandbox import wire
from grader.sandbox.channel import Channel, Expired


def roundtrip(value, convert=None):
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    wire.send(channel, value, convert)
    try:
        return wire.receive(channel)
    finally:
        channel.close()


def frame(header: dict, buffers: list[bytes]) -> bytes:
    text = json.dumps(header).encode()
    out = struct.pack("<QI", len(text), len(buffers)) + text
    for b in buffers:
        out += struct.pack("<Q", len(b)) + b
    return out


def test_plain_data_crosses_intact():
    value = {
        "a": [1, 2.5, None, True, "text", float("nan"), float("inf")],
        "t": (np.arange(6.0).reshape(2, 3), np.int64(3), np.float32(0.5)),
        "empty": np.zeros((0, 4)),
        "ints": np.arange(5, dtype=np.int32),
    }
    back = roundtrip(value)
    assert back["a"][:5] == [1, 2.5, None, True, "text"]
    assert np.isnan(back["a"][5]) and back["a"][6] == float("inf")
    assert isinstance(back["t"], tuple) and back["t"][1] == 3 and back["t"][2] == 0.5
    assert np.array_equal(back["t"][0], value["t"][0]) and back["t"][0].flags.writeable
    assert back["empty"].shape == (0, 4) and back["ints"].dtype == np.int32


def test_anything_else_arrives_only_as_unsupported():
    class Lying(np.ndarray):
        def __eq__(self, other):
            return True

    class Always:
        def __eq__(self, other):
            return True

    back = roundtrip([np.zeros(2).view(Lying), Always(), np.array([object()]), {1: 2}])
    assert all(isinstance(item, wire.Unsupported) for item in back)


def test_arrays_of_one_message_never_share_memory():
    # a reply that names the same buffer twice gets two independent arrays
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    a = {"$nd": 0, "dtype": "<f8", "shape": [2]}
    os.write(w, frame([a, a], [np.ones(2).tobytes()]))
    first, second = wire.receive(channel)
    first[0] = 5.0
    assert second[0] == 1.0
    channel.close()


@pytest.mark.parametrize(
    ("header", "buffers", "text"),
    [
        ([{"$nd": 3, "dtype": "<f8", "shape": [1]}], [b"\0" * 8], "out of range"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [2]}], [b"\0" * 8], "wrong size"),
        ([{"$nd": 0, "dtype": "|O", "shape": [1]}], [b"\0" * 8], "not data"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [-1]}], [b""], "negative"),
        ({"$float": "1e999"}, [], "malformed float"),
        ({"$what": 1}, [], "unknown value tag"),
        ({"$dict": [1, 2]}, [], "malformed message"),
    ],
)
def test_malformed_messages_are_refused(header, buffers, text):
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    os.write(w, frame(header, buffers))
    with pytest.raises(wire.WireError, match=text):
        wire.receive(channel)
    channel.close()


def test_half_a_message_runs_into_the_deadline():
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    os.write(w, struct.pack("<QI", 100, 0) + b"{")
    channel.deadline = time.monotonic() + 0.2
    with pytest.raises(Expired):
        wire.receive(channel)
    channel.close()


def test_keys_tell_apart_requests_that_differ_in_one_bit():
    x = np.linspace(-1, 1, 1000)
    request = wire.request("m.f", (x, {"k": 2}), {})
    key, plain = wire.key(request)
    assert plain and key == wire.key(wire.request("m.f", (x.copy(), {"k": 2}), {}))[0]
    y = x.copy()
    y[500] = -y[500]
    assert wire.key(wire.request("m.f", (y, {"k": 2}), {}))[0] != key
    assert wire.key(wire.request("m.f", (x, {"k": 2}), {}, readonly=True))[0] != key
    assert not wire.key(wire.request("m.f", (object(),), {}))[1]


def test_mutations_are_found_bit_for_bit():
    args = (np.zeros(3), [np.ones(2)])
    given = wire.arrays(args)
    before = wire.snapshot(given)
    args[1][0][1] = 7.0
    assert [path for path, _ in wire.mutations(given, before)] == [[1, 0]]
