"""Only plain data crosses the sandbox's boundary, both ways (issue 10, item 5).

Hostile submissions of the layers assignment, graded in grading mode: some
write ordinary Python that reaches for the trusted side's objects, others
replace the student side's own sender (``grader.sandbox.wire.send``) to
write any reply at all. The trusted side must never resolve a name, build
an object or call a function that came back, must apply a method's state
changes only as arrays of the same shape and dtype, and must bound a
reply before it allocates it. Each hostile case here was not contained
before this boundary; the controls show what still crosses."""

from __future__ import annotations

import contextlib
import gc
import shutil
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.plugin.grading_student import StudentError, TrustedStudent
from grader.sandbox import wire
from grader.sandbox.confine import Limits
from grader.sandbox.process import Sandbox, SandboxDied
from grader.sandbox.state import Refused

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference" / "layers"
CORRECT = ROOT / "examples" / "submissions" / "layers" / "correct"

# A student module may replace the sender of its own side: every reply it
# writes is then ``HEADER`` (a JSON value, or its bytes) with ``BUFFERS`` after it.
HIJACK = """
import json as _json, struct as _struct, sys as _sys

def _send(stream, value, *args, **kwargs):
    header = HEADER if type(HEADER) is bytes else _json.dumps(HEADER).encode()
    stream.write(_struct.pack("<QI", len(header), len(BUFFERS)))
    stream.write(header)
    for buffer in BUFFERS:
        stream.write(_struct.pack("<Q", len(buffer)))
        stream.write(buffer)
    stream.flush()

_sys.modules["grader.sandbox.wire"].send = _send
"""


@pytest.fixture
def folder() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="grader-boundary-"))
    root.chmod(0o711)
    shutil.copytree(CORRECT, root / "sub")
    yield root / "sub"
    shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def graded(folder: Path) -> Iterator[TrustedStudent]:
    sandbox = Sandbox(folder, limits=Limits(wall_seconds=30))
    try:
        yield TrustedStudent(REFERENCE, sandbox, folder)
    finally:
        sandbox.close()


def edit(folder: Path, module: str, old: str, new: str) -> None:
    path = folder / f"{module}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def hijack(folder: Path, header: str, buffers: str = "[]") -> None:
    """Every reply of this submission's process is the given raw message."""
    with open(folder / "layers.py", "a") as f:
        f.write(f"\nHEADER = {header}\nBUFFERS = {buffers}\n{HIJACK}")


def relu(student: TrustedStudent) -> object:
    x = np.array([[1.0, -2.0, 3.0]])
    return student.layers.relu_backward(np.ones_like(x), x)


def trained_network(student: TrustedStudent):
    K = student.layer_class
    net = K.Network([2, 3, 1], ["tanh", "sigmoid"], seed=0)
    _, dEdY = K.half_mse(net.forward(K.XOR_X), K.OR_T)
    return net, dEdY


# --- names, classes and functions in replies ----------------------------------


def test_a_reply_naming_a_class_builds_nothing(folder):
    # numpy's DataSource deletes its _destpath when collected: built from a
    # reply, it would delete a folder of the student's choosing, as root
    victim = Path(tempfile.mkdtemp(prefix="grader-victim-"))
    for tag, name in [("$obj", "layers.np.lib._datasource.DataSource"), ("$object", "layers.np")]:
        state = {"$dict": {"_istmpdest": True, "_destpath": str(victim)}}
        target = folder.parent / tag.strip("$")
        shutil.copytree(CORRECT, target)
        hijack(target, repr({"$dict": {"value": {tag: name, "state": state}}}))
        with graded(target) as student, pytest.raises(SandboxDied, match="not data"):
            relu(student)
        gc.collect()
        assert victim.is_dir()
    victim.rmdir()


def test_a_reply_naming_a_function_resolves_nothing(folder):
    names = [("$fn", "layers.np.lib._datasource.shutil.rmtree"), ("$given", "numpy.save")]
    for tag, name in names:
        target = folder.parent / tag.strip("$")
        shutil.copytree(CORRECT, target)
        hijack(target, repr({"$dict": {"value": {tag: name}}}))
        with graded(target) as student, pytest.raises(SandboxDied, match="not data"):
            relu(student)


def test_objects_and_functions_a_task_returns_arrive_only_as_unsupported(folder):
    edit(
        folder,
        "layers",
        "    x = cache\n",
        "    from .layer_class import Layer\n"
        "    layer = Layer.__new__(Layer)\n"
        "    layer.W = dout\n"
        "    return layer, np.save, {1: dout}\n",
    )
    with graded(folder) as student:
        layer, save, table = relu(student)  # type: ignore[misc]
    for value in (layer, save, table):
        assert type(value) is wire.Unsupported
    assert layer.type_name.endswith("layer_class.Layer")


# --- a method's state changes -------------------------------------------------

SWAPS = {
    # a Network.backprop that swaps the trusted layer's activation function
    "activation": "        self.layers[0].g = identity\n        self.layers[0].gd = identity_gd\n",
    "wrong_shape": "        self.layers[0].W = np.zeros((1, 1))\n",
    "wrong_dtype": "        self.layers[0].W = self.layers[0].W.astype(np.float32)\n",
    "not_an_array": "        self.layers[1].b = [0.0]\n",
    "an_object": "        self.layers[0].X = Layer(1, 1)\n",
    "a_list_grown": "        self.layers.append(Layer(1, 1))\n",
    "an_attribute_removed": "        del self.layers[1].Y\n",
}


@pytest.mark.parametrize("change", sorted(SWAPS))
def test_a_method_changes_only_arrays_of_its_object_keeping_shape_and_dtype(folder, change):
    edit(folder, "layer_class", "        return grads\n", SWAPS[change] + "        return grads\n")
    with graded(folder) as student:
        net, dEdY = trained_network(student)
        before = [dict(vars(layer)) for layer in net.layers]
        with pytest.raises(Refused, match=r"only arrays may change|must keep shape"):
            net.backprop(dEdY)
        after = [dict(vars(layer)) for layer in net.layers]
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        assert old.keys() == new.keys()
        assert all(new[k] is old[k] for k in old)  # nothing of the reply was applied


def test_a_traced_training_loop_is_held_to_the_same_rules(folder):
    edit(
        folder, "layer_class", "        grads = []\n", SWAPS["activation"] + "        grads = []\n"
    )
    with graded(folder) as student:
        K = student.layer_class
        with pytest.raises(Refused, match=r"self\.layers\[0\]\.g"):
            K.train_logic(K.OR_T, epochs=20)


def test_control_a_method_may_change_its_arrays(folder):
    # in place, and by rebinding to an array of the same shape and dtype:
    # the trusted object changes exactly as in one process
    edit(
        folder,
        "layer_class",
        "        grads = []\n",
        "        self.layers[0].b += 1.0\n"
        "        self.layers[1].W = np.ones_like(self.layers[1].W)\n"
        "        self.scratch = 'mine'\n"
        "        grads = []\n",
    )
    with graded(folder) as student:
        net, dEdY = trained_network(student)
        b0, W1 = net.layers[0].b, net.layers[1].W
        expected_b0 = b0 + 1.0
        net.backprop(dEdY)
    assert net.layers[0].b is b0 and np.array_equal(b0, expected_b0)
    assert net.layers[1].W is not W1 and np.array_equal(net.layers[1].W, np.ones_like(W1))
    assert not hasattr(net, "scratch")  # a new attribute stays on the student's side


# --- in-place changes to arguments ---------------------------------------------


def test_in_place_changes_to_arguments_keep_their_dtype_and_shape(folder):
    x32 = {"$nd": 0, "dtype": "<f4", "shape": [1, 3]}
    value = {"$nd": 1, "dtype": "<f8", "shape": [1, 3]}
    changes = [
        {"$dict": {"path": [0, 1], "value": x32, "inplace": True, "what": ""}},  # new form
        [[1], x32],  # the form of earlier versions
    ]
    for i, change in enumerate(changes):
        target = folder.parent / f"mutates{i}"
        shutil.copytree(CORRECT, target)
        header = {"$dict": {"value": value, "mutated": [change]}}
        hijack(target, repr(header), "[bytes(12), bytes(24)]")
        with graded(target) as student:
            x = np.array([[1.0, -2.0, 3.0]])
            with pytest.raises(Refused, match=r"shape|malformed"):
                student.layers.relu_backward(np.ones_like(x), x)
        assert np.array_equal(x, [[1.0, -2.0, 3.0]])


def test_control_an_in_place_change_of_an_argument_is_seen_as_in_one_process(folder):
    edit(folder, "layers", "    x = cache\n", "    x = cache\n    x[0, 0] = 7.0\n")
    with graded(folder) as student:
        x = np.array([[1.0, -2.0, 3.0]])
        student.layers.relu_backward(np.ones_like(x), x)
    assert x[0, 0] == 7.0  # what the checker's modified-input probe looks for


# --- size and nesting ---------------------------------------------------------


def test_a_reply_larger_than_the_call_needs_is_refused_unread(folder):
    # 64 MB declared and sent for a call on three numbers: refused from the
    # header, before the trusted side allocates or reads the array
    size = 8 * 1024 * 1024
    hijack(
        folder,
        repr({"$dict": {"value": {"$nd": 0, "dtype": "<f8", "shape": [size]}}}),
        f"[bytes({8 * size})]",
    )
    with graded(folder) as student:
        student.sandbox.start()
        tracemalloc.start()
        try:
            with pytest.raises(SandboxDied, match="larger than this call can need"):
                relu(student)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_an_honest_reply_too_large_is_the_students_error(folder):
    edit(folder, "layers", "    x = cache\n", "    return np.zeros(3_000_000)\n    x = cache\n")
    with graded(folder) as student:
        with pytest.raises(StudentError, match="larger than this call can need"):
            relu(student)
        assert student.sandbox.died is None  # the process goes on with the next call


def test_a_deeply_nested_reply_is_refused(folder):
    # deeper than the JSON parser's recursion limit
    hijack(folder, "b'{\"$dict\": {\"value\": ' + b'[' * 200_000 + b'1' + b']' * 200_000 + b'}}'")
    with graded(folder) as student, pytest.raises(SandboxDied, match="not data"):
        relu(student)


def test_a_reply_of_many_containers_is_refused(folder):
    hijack(folder, "{'$dict': {'value': [[] for _ in range(200_000)]}}")
    with graded(folder) as student, pytest.raises(SandboxDied, match="too many lists"):
        relu(student)


def test_a_reply_with_parts_no_call_has_is_refused(folder):
    hijack(folder, "{'$dict': {'value': 1.0, 'self': 2.0}}")
    with graded(folder) as student, pytest.raises(Refused, match="unknown parts"):
        relu(student)


def test_a_loop_that_succeeds_without_gradients_earns_nothing(tmp_path):
    """A "backward" that solves for the loop's weights in place (its cache holds
    them) and returns zeros makes the given regression converge: within the
    data rules, so the given loop's first calls are judged against the
    reference even when it succeeds."""
    import json

    from grader.batch.grade import Course, Options, run

    submission = tmp_path / "solver"
    shutil.copytree(ROOT / "examples" / "submissions" / "layers" / "correct", submission)
    source = (submission / "regression.py").read_text()
    start = source.index("def two_layer_regression_backward(")
    end = source.index("\ndef ", start + 1)
    solver = (
        "def two_layer_regression_backward(dy_pred, cache):\n"
        "    x, h, h_relu, w2 = cache\n"
        "    target = h_relu @ w2 - dy_pred / 2\n"
        "    w2[...] = np.linalg.lstsq(h_relu, target, rcond=None)[0]\n"
        "    return np.zeros((x.shape[1], h.shape[1])), np.zeros_like(w2)\n\n"
    )
    (submission / "regression.py").write_text(source[:start] + solver + source[end:])
    run([submission], Course(ROOT, "layers"), tmp_path / "out", Options(), log=str)
    data = json.loads((tmp_path / "out" / "solver" / "results.json").read_text())
    training = next(t for t in data["tests"] if "regression_training" in t["name"])
    assert training["score"] == 0
    assert "reached its goal, but your two_layer_regression_backward" in training["output"]
