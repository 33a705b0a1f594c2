"""What crosses between the grader and a student's process: plain data only,
validated on arrival, with deadlines on the pipes."""

from __future__ import annotations

import io
import json
import os
import struct
import time

import numpy as np
import pytest

from grader.sandbox import state, wire
from grader.sandbox.channel import Channel, Expired


def roundtrip(value, convert=None, bound=wire.REQUESTS):
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    wire.send(channel, value, convert)
    try:
        return wire.receive(channel, bound)
    finally:
        channel.close()


def in_memory(value, bound):
    """Send and receive through memory (no pipe buffer to fill)."""
    stream = io.BytesIO()
    wire.send(stream, value)
    stream.seek(0)
    return wire.receive(stream, bound)


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
    # a reply that names the same buffer twice (one buffer, many arrays) is refused
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    a = {"$nd": 0, "dtype": "<f8", "shape": [2]}
    os.write(w, frame([a, a], [np.ones(2).tobytes()]))
    with pytest.raises(wire.WireError, match="one array buffer"):
        wire.receive(channel, wire.REQUESTS)
    channel.close()
    first, second = roundtrip([np.ones(2), np.ones(2)])
    first[0] = 5.0
    assert second[0] == 1.0 and first.flags.writeable


@pytest.mark.parametrize(
    ("header", "buffers", "text"),
    [
        ([{"$nd": 3, "dtype": "<f8", "shape": [1]}], [b"\0" * 8], "do not match"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [1]}], [b"\0" * 8, b""], "do not match"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [1.5]}], [b"\0" * 8], "malformed array shape"),
        ([{"$nd": 0, "dtype": "<c16", "shape": [1]}], [b"\0" * 16], "not data"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [2]}], [b"\0" * 8], "wrong size"),
        ([{"$nd": 0, "dtype": "|O", "shape": [1]}], [b"\0" * 8], "not data"),
        ([{"$nd": 0, "dtype": "<f8", "shape": [-1]}], [b""], "negative"),
        ({"$float": "1e999"}, [], "malformed float"),
        ({"$what": 1}, [], "unknown value tag"),
        ({"$dict": [1, 2]}, [], "wrong kind"),
        ([[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]], [], "nested too deeply"),
        ({"$tuple": [], "x": 1}, [], "unknown value tag"),
        ({"$object": "m.C", "state": [1]}, [], "malformed object state"),
    ],
)
def test_malformed_messages_are_refused(header, buffers, text):
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    channel.deadline = time.monotonic() + 5
    os.write(w, frame(header, buffers))
    with pytest.raises(wire.WireError, match=text):
        wire.receive(channel, wire.REQUESTS)
    channel.close()


def test_half_a_message_runs_into_the_deadline():
    r, w = os.pipe()
    channel = Channel(r, w, check=lambda: None)
    os.write(w, struct.pack("<QI", 100, 0) + b"{")
    channel.deadline = time.monotonic() + 0.2
    with pytest.raises(Expired):
        wire.receive(channel, wire.REQUESTS)
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


def test_requests_carry_names_the_trusted_side_chose_and_replies_carry_none():
    layer = wire.Instance("layer_class.Layer", {"W": np.ones((2, 3)), "gd": wire.Given("m.f")})
    back = roundtrip([wire.Given("numpy.tanh"), layer])
    assert back[0] == wire.Given("numpy.tanh")
    assert back[1].cls == "layer_class.Layer" and back[1].state["gd"] == wire.Given("m.f")
    assert np.array_equal(back[1].state["W"], np.ones((2, 3)))
    for token in (wire.Given("numpy.tanh"), layer):
        with pytest.raises(wire.WireError, match="only data"):
            roundtrip({"value": token}, bound=wire.Bound.expecting([(2, 3)]))


def test_a_reply_is_bounded_by_the_arrays_of_its_request():
    bound = wire.Message(b"", (), ((3, 5), (5, 7), (7,)), True).bound()
    assert bound.array_elements == max(wire.FLOOR_ELEMENTS, 7 * 7)
    big = wire.Message(b"", (), ((1000, 64), (64, 10)), True).bound()
    assert big.array_elements == 1000 * 64  # the largest array it was given
    assert big.total_elements == 2 * (64_000 + 640) + 2 * 64_000
    in_memory({"value": np.zeros(big.array_elements)}, big)
    with pytest.raises(wire.WireError, match="larger than this call can need"):
        in_memory({"value": np.zeros(big.array_elements + 1)}, big)
    with pytest.raises(wire.WireError, match="array elements exceeds"):
        in_memory([np.zeros(big.array_elements)] * 5, big)


def test_the_sender_turns_a_reply_beyond_the_bound_into_an_error():
    bound = wire.Bound.expecting([(3, 4)])
    message = wire.fitting({"value": np.zeros(10**6)}, bound, lambda exc: {"error": str(exc)})
    assert message.shapes == () and b"larger than this call can need" in message.header
    fine = wire.fitting({"value": np.zeros((3, 4))}, bound, lambda exc: {"error": str(exc)})
    assert fine.shapes == ((3, 4),)


def test_replies_hold_data_only_even_when_a_converter_is_at_hand():
    def convert(value):
        return wire.Given("layers.np.lib._datasource.DataSource")

    # fitting never converts: the student's side sends no names back
    message = wire.fitting({"value": print}, wire.Bound.expecting(()), lambda exc: {})
    assert b"$given" not in message.header and not message.plain
    assert b"$given" in wire.encode({"value": print}, convert).header


class Obj:
    """Stands for an object of a given class on either side."""

    def __init__(self, **attributes):
        vars(self).update(attributes)


def is_obj(value):
    return type(value) is Obj


def crossed(changes):
    """Changes as the trusted side receives them."""
    return in_memory([c.to_data() for c in changes], wire.Bound.expecting([(100,)]))


def test_a_method_reports_array_changes_and_the_trusted_side_applies_them():
    student = Obj(W=np.zeros((2, 3)), b=np.zeros(3), layers=[Obj(X=np.ones(2))], lr=0.1)
    before = state.snapshot(student, is_obj)
    student.W[0, 0] = 1.0  # in place
    student.b = np.full(3, 2.0)  # rebound, same shape and dtype
    student.layers[0].X = student.layers[0].X * 3
    student.extra = "helper"  # not declared state: stays on the student's side
    changes = state.changes(before, student, is_obj)
    assert [(c.path, c.inplace) for c in changes] == [
        (("W",), True),
        (("b",), False),
        (("layers", 0, "X"), False),
    ]
    trusted = Obj(W=np.zeros((2, 3)), b=np.zeros(3), layers=[Obj(X=np.ones(2))], lr=0.1)
    W = trusted.W
    state.check(trusted, crossed(changes), is_obj, state.owner).commit()
    assert trusted.W is W and W[0, 0] == 1.0
    assert np.array_equal(trusted.b, np.full(3, 2.0)) and trusted.layers[0].X[0] == 3.0
    assert not hasattr(trusted, "extra")


@pytest.mark.parametrize(
    ("swap", "words"),
    [
        (lambda s: setattr(s, "g", np.sin), "replaced by a function"),
        (lambda s: setattr(s, "lr", 0.5), "replaced by a value of type float"),
        (lambda s: setattr(s, "W", np.zeros((3, 2))), "must keep shape"),
        (lambda s: setattr(s, "W", np.zeros((2, 3), np.float32)), "dtype float32"),
        (lambda s: s.layers.append(Obj()), "resized"),
        (lambda s: delattr(s, "b"), "removed"),
        (lambda s: setattr(s, "layers", [Obj(X=np.ones(2))]), "replaced by a value of type list"),
    ],
)
def test_any_other_change_refuses_the_whole_reply(swap, words):
    def fresh():
        return Obj(W=np.zeros((2, 3)), b=np.zeros(3), g=np.tanh, lr=0.1, layers=[])

    student = fresh()
    before = state.snapshot(student, is_obj)
    student.b[0] = 5.0  # a fine change, refused along with the rest
    swap(student)
    trusted = fresh()
    old = dict(vars(trusted))
    with pytest.raises(state.Refused, match=words):
        state.check(trusted, crossed(state.changes(before, student, is_obj)), is_obj, state.owner)
    assert vars(trusted) == old and trusted.b[0] == 0.0


@pytest.mark.parametrize(
    "change",
    [
        {"path": ["W"], "value": None, "inplace": False, "what": ""},  # a non-array, unexplained
        {"path": ["nowhere"], "value": np.zeros(1), "inplace": False, "what": ""},
        {"path": ["g"], "value": np.zeros(1), "inplace": False, "what": ""},  # onto a function
        {"path": [["W"]], "value": np.zeros((2, 3)), "inplace": True, "what": ""},
        {"path": ["W"], "value": np.zeros((2, 3)), "inplace": 1, "what": ""},
        {"path": ["W"], "value": [0.0], "inplace": True, "what": ""},
        {"path": ["W"], "value": np.zeros((2, 3))},
        [["W"], np.zeros((2, 3))],
    ],
)
def test_forged_change_records_are_refused(change):
    trusted = Obj(W=np.zeros((2, 3)), g=np.tanh)
    with pytest.raises(state.Refused):
        state.check(trusted, [change], is_obj, state.owner)


def test_arguments_change_only_in_place_and_only_where_writable():
    args = (np.zeros(3), [np.ones(2)])
    before = state.snapshot([args, {}], is_obj)
    args[1][0][1] = 7.0
    changes = state.changes(before, [args, {}], is_obj, inplace_only=True)
    assert [(c.path, c.inplace) for c in changes] == [((0, 1, 0), True)]
    assert state.argument(changes[0].path) == "argument 2[0]"
    given = (np.zeros(3), [np.ones(2)])
    state.check([given, {}], crossed(changes), is_obj, state.argument, True).commit()
    assert given[1][0][1] == 7.0
    rebound = {"path": [0, 0], "value": np.ones(3), "inplace": False, "what": ""}
    with pytest.raises(state.Refused, match="only changed in place"):
        state.check([given, {}], [rebound], is_obj, state.argument, True)
    given[0].flags.writeable = False
    rebound["inplace"] = True
    with pytest.raises(state.Refused, match="read-only"):
        state.check([given, {}], [rebound], is_obj, state.argument, True)
