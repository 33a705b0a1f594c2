"""Grading mode's trusted training loops: matched runs (the student's copy
prints its calls while the trusted side runs the reference) and traced runs
(one request for a whole loop, and a few calls checked after it) give
exactly the answers of call-by-call grading, fall back to it on any
difference, and a student's method changes the trusted objects as it would
in one process."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.plugin import verified
from grader.plugin.grading_student import StudentError, TrustedStudent
from grader.sandbox import wire
from grader.sandbox.confine import Limits
from grader.sandbox.process import Sandbox

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference" / "layers"
CORRECT = ROOT / "examples" / "submissions" / "layers" / "correct"


class Graded:
    """A layers submission in grading mode, counting requests sent to it."""

    def __init__(self, folder: Path, wall_seconds: float = 30.0) -> None:
        self.sandbox = Sandbox(folder, limits=Limits(wall_seconds=wall_seconds))
        self.student = TrustedStudent(REFERENCE, self.sandbox, folder)
        self.sent: list[str] = []
        send = self.sandbox.send

        def counting(request, convert=None):
            value = request.value if isinstance(request, wire.Message) else request
            if "preload" in value or "stop" in value:  # not a call
                return send(request, convert)
            kind = " (matched)" if "match" in value else " (traced)" if "trace" in value else ""
            self.sent.append(value["target"] + kind)
            return send(request, convert)

        self.sandbox.send = counting  # type: ignore[method-assign]

    def traced(self) -> None:
        """Streamed replies from now on, no matched runs."""
        self.student._unmatched.update({"regression.train_regression", "layer_class.train_logic"})
        self.student._unmatched.update(
            {"losses.sum_squares_loss", "layer_class.Network.train_step"}
        )

    def direct(self) -> None:
        """Grade call by call from now on, as without traces."""
        self.student._untraced.update({"regression.train_regression", "layer_class.train_logic"})
        self.student._untraced.update({"losses.sum_squares_loss", "layer_class.Network.train_step"})


@pytest.fixture
def submission() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="grader-replay-"))
    root.chmod(0o711)
    shutil.copytree(CORRECT, root / "sub")
    yield root / "sub"
    shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def graded(folder: Path, **kwargs: float) -> Iterator[Graded]:
    g = Graded(folder, **kwargs)
    try:
        yield g
    finally:
        g.sandbox.close()


def edit(folder: Path, module: str, old: str, new: str) -> None:
    path = folder / f"{module}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


TASKS = {"losses.sum_squares_loss_backward", "regression.two_layer_regression_backward"}
CHECKED = verified.FIRST + verified.SAMPLED


def traced_then_checked(sent: list[str], first: str = "matched") -> bool:
    """One matched (or traced) run, then only the direct task calls of its check."""
    return (
        sent[0] == f"regression.train_regression ({first})"
        and len(sent) <= 1 + CHECKED
        and set(sent[1:]) <= TASKS
    )


def parted_then_traced(sent: list[str]) -> bool:
    """A matched run that parted, then a traced run and its check."""
    return sent[0] == "regression.train_regression (matched)" and traced_then_checked(
        sent[1:], "traced"
    )


@pytest.mark.parametrize("kind", ["matched", "traced"])
def test_a_traced_loop_gives_the_call_by_call_answers_in_one_round_trip(submission, kind):
    with graded(submission) as g:
        if kind == "traced":
            g.traced()
        w1, w2, traced = g.student.regression.train_regression(D_in=20, H=8, steps=30)
        assert traced_then_checked(g.sent, kind)
        # 60 unit calls: the first two and 12 drawn from the rest, one task call each
        assert len(g.sent) == 1 + CHECKED
        g.direct()
        g.sent.clear()
        v1, v2, direct = g.student.regression.train_regression(D_in=20, H=8, steps=30)
        assert len(g.sent) == 60  # the loss's and the network's backward, every step
        assert traced == direct
        assert np.array_equal(w1, v1) and np.array_equal(w2, v2)


def test_a_students_method_updates_the_trusted_objects_in_place(submission):
    with graded(submission) as g:
        g.direct()
        net, losses = g.student.layer_class.train_logic(g.student.layer_class.OR_T, epochs=60)
        # the training step holds the network's layers across backprop: their
        # weight updates must land on the layers the network keeps using
        assert losses[-1] < losses[0] / 10
        assert g.sent.count("layer_class.Network.backprop") == 60


def test_a_changed_given_loop_falls_back_to_call_by_call(submission):
    edit(submission, "regression", "w1 -= learning_rate * dw1", "w1 -= 2 * learning_rate * dw1")
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    assert losses == expected


def fresh_copy(folder: Path) -> Path:
    """Another copy of the correct submission, next to ``folder``."""
    target = folder.parent / "again"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(CORRECT, target)
    return target


def test_a_loop_that_hangs_only_in_the_students_copy_is_restarted_and_graded(submission):
    edit(
        submission,
        "regression",
        "    losses = []\n",
        "    losses = []\n    while True:\n        pass\n",
    )
    with graded(submission, wall_seconds=1.0) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=5)
        assert len(losses) == 5 and losses[-1] < losses[0]
        assert g.sandbox.died is None


def test_an_error_in_a_traced_call_is_the_students_error(submission):
    edit(
        submission,
        "regression",
        "    x, h, h_relu, w2 = cache\n",
        "    x, h, h_relu, w2 = cache\n    raise ValueError('no gradient today')\n",
    )
    with graded(submission) as g:
        with pytest.raises(StudentError, match="no gradient today"):
            g.student.regression.train_regression(D_in=20, H=8, steps=5)
        # the matched run parts at the call that raised; the streamed error is
        # not used: the call is made again directly, where the grader sees
        # which code raised it; then the whole loop runs again call by call,
        # so that the error comes from the same step as in one process with
        # every task call of the run seen
        assert g.sent[:3] == [
            "regression.train_regression (matched)",
            "regression.train_regression (traced)",
            "regression.two_layer_regression_backward",
        ]
        assert g.sent[-1] == "regression.two_layer_regression_backward"
        assert "regression.train_regression (traced)" not in g.sent[3:]


def test_random_draws_in_the_students_copy_do_not_leak_into_the_answers(submission):
    # the student's copy of the loop draws its own data: its requests differ
    # from the grader's, so none of its replies is used
    edit(
        submission,
        "regression",
        "    x, y = make_regression_data(N, D_in, D_out, seed)\n",
        "    x, y = make_regression_data(N, D_in, D_out, seed + 1)\n",
    )
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=10)
        assert len(g.sent) > 10
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=10)
    assert losses == expected


def test_a_students_copy_that_runs_longer_is_cut_off_and_the_answers_stand(submission):
    # the student's copy ignores `steps` and keeps training: the grader takes the
    # replies it needs and restarts the process that is still streaming
    edit(
        submission,
        "regression",
        "    for _ in range(steps):\n",
        "    for _ in range(10 * steps):\n",
    )
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=10)
        assert parted_then_traced(g.sent)
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=10)
    assert losses == expected


def test_a_process_that_dies_halfway_through_a_trace_is_restarted(submission):
    edit(
        submission,
        "regression",
        "    x, h, h_relu, w2 = cache\n",
        "    x, h, h_relu, w2 = cache\n"
        "    import os, sys\n"
        "    calls = sys.modules[__name__].__dict__.setdefault('CALLS', [])\n"
        "    calls.append(1)\n"
        "    caller = sys._getframe(1)\n"
        "    while caller is not None and caller.f_code.co_name != 'train_regression':\n"
        "        caller = caller.f_back\n"
        "    if len(calls) == 15 and caller is not None:  # its 15th call, in its own loop\n"
        "        os._exit(3)\n",
    )
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=20)
        # the matched run parts where the process died; a new one (with a
        # fresh work folder and a count of its own) runs the traced run: the
        # steps it delivered before that process died too (at most 14: replies
        # still in its buffer die with it) were taken from it, the rest called
        # one by one in a third process, then the check of the trace, there too
        assert g.sent[:2] == [
            "regression.train_regression (matched)",
            "regression.train_regression (traced)",
        ]
        assert g.sent[2:].count("regression.two_layer_regression_backward") >= 6
        assert set(g.sent[2:]) <= TASKS
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=20)
    assert losses == expected


@pytest.mark.parametrize("kind", ["matched", "traced"])
def test_a_traced_network_training_takes_whole_steps_and_matches_call_by_call(submission, kind):
    with graded(submission) as g:
        if kind == "traced":
            g.traced()
        K = g.student.layer_class
        net, traced = K.train_logic(K.OR_T, epochs=60)
        # train_step is given code that reaches backprop: one unit per step; a
        # streamed reply assigns the layers' X and Y of a new shape as the given code does
        assert g.sent[0] == f"layer_class.train_logic ({kind})"
        assert "layer_class.Network.train_step" not in g.sent
        got = [layer.W.copy() for layer in net.layers]
    with graded(fresh_copy(submission)) as g:
        g.direct()
        K = g.student.layer_class
        net, direct = K.train_logic(K.OR_T, epochs=60)
    assert traced == direct
    assert all(np.array_equal(a, layer.W) for a, layer in zip(got, net.layers, strict=True))


LIAR = (
    "import sys as _sys\n"
    "import numpy as _np\n"
    "_recorder = _sys.modules.get('grader.sandbox.trace_recorder')\n"
    "if _recorder is not None:\n"
    "    _emit = _recorder.Recorder.emit\n"
    "    _count = []\n"
    "    def _lying(self, target, printed, bound, reply):\n"
    "        if target.endswith('two_layer_regression_backward') and 'value' in reply:\n"
    "            _count.append(1)\n"
    "            if LIE(len(_count)):\n"
    "                reply = dict(reply, value=[_np.zeros_like(v) for v in reply['value']])\n"
    "        return _emit(self, target, printed, bound, reply)\n"
    "    _recorder.Recorder.emit = _lying\n"
)


@pytest.mark.parametrize(
    "lie",
    # after the first step: 12 calls drawn from the other 58 miss all 29 lies
    # with probability C(29, 12) / C(58, 12) = 6e-5
    ["lambda n: True", "lambda n: n == 1", "lambda n: n >= 2"],
    ids=["every-step", "first-step", "after-the-first-step"],
)
def test_false_streamed_replies_are_caught_and_the_loop_runs_again_call_by_call(submission, lie):
    """A process that streams zero gradients it never computed (the trusted
    loop then stands still, or jumps) does not get them used: the loop's
    answers are those of call-by-call grading."""
    path = submission / "regression.py"
    path.write_text(path.read_text() + f"\nLIE = {lie}\n" + LIAR)
    with graded(submission) as g:
        g.traced()
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=30)
        assert g.sent[0] == "regression.train_regression (traced)"
        # the check found a false reply, then all 30 steps again, both calls each
        assert (
            g.sent[-60:]
            == [
                "losses.sum_squares_loss_backward",
                "regression.two_layer_regression_backward",
            ]
            * 30
        )
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    assert losses == expected


def test_a_module_first_imported_during_a_trace_keeps_the_original_functions(submission):
    """The OR training is traced after the student's process imported
    losses.py but before regression.py; that import, made while the units
    (losses.sum_squares_loss among them) were wrapped, must not leave a
    wrapper in regression.py that hides the next trace's units."""
    with graded(submission) as g:
        g.student.losses.sum_squares_loss(np.ones((3, 2)), np.zeros((3, 2)))
        K = g.student.layer_class
        K.train_logic(K.OR_T, epochs=20)
        g.sent.clear()
        g.student.regression.train_regression(D_in=20, H=8, steps=30)
        assert traced_then_checked(g.sent)


def test_the_students_process_takes_arrays_from_its_heap_not_a_fresh_mapping_each(submission):
    """A training step's activations (here 240 KB) allocated and freed again
    and again: mapped afresh each time they cost a page fault per 4 KB, which
    made a student's loop run 1.7x slower in its process than in pytest's."""
    edit(
        submission,
        "layer_class",
        "    return y * (1 - y)\n",
        "    import resource\n"
        "    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(200):\n"
        "        np.ones((300, 100)) * 2.0\n"
        "    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before\n"
        "    raise RuntimeError(f'page faults: {faults}')\n",
    )
    with graded(submission) as g, pytest.raises(StudentError, match="page faults") as raised:
        g.student.layer_class.sigmoid_gd(np.full((2, 3), 0.5))
    faults = int(str(raised.value.detail).rsplit(" ", 1)[-1])
    assert faults < 200  # a mapping per array: 400 arrays of 59 pages, 23,600 faults


def test_a_module_that_fails_to_import_ahead_still_fails_on_the_call_that_needs_it(submission):
    """The submission's modules are imported ahead of the first call (while
    the trusted side imports its own); one that raises there is reported by
    the call that needs it, with its line, as without the preload."""
    path = submission / "losses.py"
    path.write_text(path.read_text() + '\nraise ValueError("broken at import")\n')
    with graded(submission) as g:
        assert g.sent == []  # the preload is not a call
        with pytest.raises(Exception, match="broken at import"):
            g.student.losses.sum_squares_loss_backward((np.ones((2, 3)), np.zeros((2, 3))))
        # another module still answers
        x = np.array([[1.0, -2.0]])
        assert np.array_equal(g.student.layers.relu_backward(np.ones((1, 2)), x), [[1.0, 0.0]])


def test_a_wrong_gradient_parts_the_matched_run_and_is_graded_as_in_one_process(submission):
    edit(submission, "regression", "return grad_w1, grad_w2\n", "return -grad_w1, grad_w2\n")
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=30)
        # parted at once; the traced run's check finds the wrong task, and the
        # loop runs call by call
        assert g.sent[:2] == [
            "regression.train_regression (matched)",
            "regression.train_regression (traced)",
        ]
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, right = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    assert losses == expected != right


RIGHT_ONLY_IN_A_RUN = (
    "import sys as _sys\n"
    "import numpy as _np\n"
    "_right = two_layer_regression_backward\n"
    "def two_layer_regression_backward(dy_pred, cache):\n"
    "    frame = _sys._getframe(1)\n"
    "    while frame is not None and frame.f_code.co_name != 'train_regression':\n"
    "        frame = frame.f_back\n"
    "    dw1, dw2 = _right(dy_pred, cache)\n"
    "    if frame is None:  # called on its own: what the grader judges\n"
    "        return _np.zeros_like(dw1), _np.zeros_like(dw2)\n"
    "    return dw1, dw2\n"
)


def test_a_run_that_prints_right_but_answers_wrong_when_asked_is_not_used(submission):
    """A process whose copy of the loop trains right (its prints match the
    reference's) but whose backward answers the grader's own calls wrongly
    does not get the trusted run's answers: the calls drawn from the run are
    judged, and the loop's answers are those of call-by-call grading."""
    path = submission / "regression.py"
    path.write_text(path.read_text() + "\n" + RIGHT_ONLY_IN_A_RUN)
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=30)
        assert g.sent[0] == "regression.train_regression (matched)"
        assert "regression.train_regression (traced)" in g.sent
        g.direct()
        g.sent.clear()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=30)
    assert losses == expected
    assert losses[-1] == losses[0]  # zero gradients: the network never moves


GARBLED = (
    "import sys as _sys\n"
    "_recorder = _sys.modules.get('grader.sandbox.trace_recorder')\n"
    "if _recorder is not None:\n"
    "    _wire = _sys.modules['grader.sandbox.wire']\n"
    "    def _garbled(self):\n"
    "        _wire.send(self.out, {'prints': GARBLE})\n"
    "        self.targets, self.sizes, self.parts = [], [], []\n"
    "    _recorder.Prints.send = _garbled\n"
)


@pytest.mark.parametrize(
    "garble",
    [
        "'not a batch'",
        "[['regression.two_layer_regression_backward'], [5], [1.0, 2.0]]",
        "[['x'], [2], __import__('numpy').zeros(3)]",
        "[['x' * 1000], [0], __import__('numpy').zeros(0)]",
    ],
    ids=["not-a-batch", "numbers-as-a-list", "sizes-and-numbers-disagree", "a-long-name"],
)
def test_a_garbled_stream_of_prints_is_refused_and_graded_as_in_one_process(submission, garble):
    path = submission / "regression.py"
    path.write_text(path.read_text() + f"\nGARBLE = {garble}\n" + GARBLED)
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=10)
        assert g.sent[0] == "regression.train_regression (matched)"
        assert g.sent[1] == "regression.train_regression (traced)"
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=10)
    assert losses == expected


def test_a_short_loop_is_called_directly_until_a_long_one_comes(submission):
    """A run of at most 14 unit calls is judged whole, so a matched run of it
    saves nothing: the next call of that driver goes call by call, until one
    makes more calls than that; the one after it is matched again."""
    with graded(submission) as g:
        train = g.student.regression.train_regression
        first = train(D_in=20, H=8, steps=3)  # 6 unit calls
        assert g.sent[0] == "regression.train_regression (matched)"
        g.sent.clear()
        again = train(D_in=20, H=8, steps=3)
        # (the loss inside it is given code that reaches a task: a driver of
        # its own, matched once, then short too)
        assert [s for s in g.sent if s in TASKS] == list(sorted(TASKS)) * 3
        assert "regression.train_regression (matched)" not in g.sent
        g.sent.clear()
        train(D_in=20, H=8, steps=30)  # long: call by call this time, all 60
        assert set(g.sent) <= TASKS and len(g.sent) == 60
        g.sent.clear()
        train(D_in=20, H=8, steps=30)
        assert traced_then_checked(g.sent)
    assert first[2] == again[2]


ENDLESS = (
    "import sys as _sys\n"
    "_recorder = _sys.modules.get('grader.sandbox.trace_recorder')\n"
    "if _recorder is not None:\n"
    "    _wire = _sys.modules['grader.sandbox.wire']\n"
    "    _np = _sys.modules['numpy']\n"
    "    def _endless(self):\n"
    "        while True:  # never looks at the grader's stop\n"
    "            _wire.send(self.out, {'prints': [[TARGET], [1], _np.zeros(1)]})\n"
    "    _recorder.Prints.send = _endless\n"
)


@pytest.mark.parametrize(
    "target", ["'regression.two_layer_regression_backward'", "'something.else'"]
)
def test_a_process_that_streams_prints_forever_is_stopped_and_graded_as_in_one_process(
    submission, target
):
    path = submission / "regression.py"
    path.write_text(path.read_text() + f"\nTARGET = {target}\n" + ENDLESS)
    with graded(submission) as g:
        _, _, losses = g.student.regression.train_regression(D_in=20, H=8, steps=10)
        assert g.sent[:2] == [
            "regression.train_regression (matched)",
            "regression.train_regression (traced)",
        ]
    with graded(fresh_copy(submission)) as g:
        g.direct()
        _, _, expected = g.student.regression.train_regression(D_in=20, H=8, steps=10)
    assert losses == expected
