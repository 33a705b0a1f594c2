"""The pytest plugin end to end, with pytester."""

from __future__ import annotations

import json

import pytest
from handouts import TESTS, TRANSPOSED, words


def test_scoreboard_names_status_points_and_diagnosis(homework):
    result = homework.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    assert result.parseoutcomes()["unattempted"] == 1
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= FAILURES =*",
            "*_ test_linear _*",
            "dw has the right values but transposed*",
            "*_ test_crash _*",
            "your code raised ValueError*",
            "*= backprop-grader: demo =*",
            "Task*Name*Points*Status",
            "1.1*linear_backward*0/3*failed",
            "1.2*relu_backward*0/2*not attempted",
            "1.3*tanh_backward*2/2*passed",
            "1.4*crashing_helper*0/1*error",
            "1.5*hidden check*1/1*passed",
            "Total*3/9",
        ]
    )


def test_failure_shows_diagnosis_and_worst_element_not_arrays(homework):
    result = homework.runpytest("-k", "linear")
    assert words(result.stdout.str()).count(TRANSPOSED) == 1
    assert "array(" not in result.stdout.str()
    internals = ("gradcheck/api.py", "gradcheck/engine.py", "plugin/checker.py")
    for internal in internals:
        assert internal not in result.stdout.str()


def test_student_exception_shows_the_students_frame(homework):
    result = homework.runpytest("-k", "crash")
    out = result.stdout.str()
    assert "homework.py" in out and "x.reshape(7, 7)" in out
    assert "grader/plugin/hooks.py" not in out


def test_gradescope_json(homework):
    result = homework.runpytest("--grader-json=results.json")
    result.assert_outcomes(passed=2, failed=2)
    data = json.loads((homework.path / "results.json").read_text())
    assert data["score"] == 3 and data["max_score"] == 9
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(data)
    first = data["tests"][0]
    assert set(first) == {
        "name",
        "number",
        "score",
        "max_score",
        "status",
        "output",
        "tags",
        "visibility",
        "extra_data",
    }
    assert first["number"] == "1.1.1" and first["status"] == "failed"
    assert "transposed" in first["tags"]
    # our own readers use the documented extra_data, never a tag's position
    assert first["extra_data"]["task"] == "1.1"
    assert first["extra_data"]["status"] == "failed"
    assert first["extra_data"]["diagnosis"]["code"] == "transposed"
    assert "transposed" in first["extra_data"]["diagnosis"]["message"]
    relu = next(t for t in data["tests"] if t["extra_data"]["task"] == "1.2")
    assert relu["extra_data"]["status"] == "not attempted"
    hidden = next(t for t in data["tests"] if t["extra_data"]["task"] == "1.5")
    assert hidden["visibility"] == "after_due_date"


def test_k_selects_and_scores_only_what_ran(homework):
    result = homework.runpytest("-k", "tanh")
    result.assert_outcomes(passed=1, deselected=4)
    result.stdout.fnmatch_lines(["1.3*tanh_backward*2/2*passed*", "This run covered 1 of 5 tasks*"])
    assert "Total" not in result.stdout.str()


def test_grader_tasks_option_selects_tasks(homework):
    result = homework.runpytest("--grader-tasks=1.1,1.3")
    result.assert_outcomes(passed=1, failed=1, deselected=3)


def test_x_and_last_failed(homework):
    homework.runpytest("-x").assert_outcomes(failed=1)
    homework.runpytest()
    again = homework.runpytest("--lf")
    again.assert_outcomes(failed=2)
    assert again.parseoutcomes()["unattempted"] == 1
    again.stdout.fnmatch_lines(["This run covered 3 of 5 tasks (--lf): no total score.*"])


def test_xdist_gives_the_same_scores_and_one_report(homework):
    serial = homework.runpytest("--grader-json=serial.json")
    parallel = homework.runpytest_subprocess("-n", "2", "--grader-json=parallel.json")
    parallel.assert_outcomes(passed=2, failed=2)
    one = json.loads((homework.path / "serial.json").read_text())
    two = json.loads((homework.path / "parallel.json").read_text())
    assert serial.ret == parallel.ret
    assert [(t["name"], t["score"]) for t in one["tests"]] == [
        (t["name"], t["score"]) for t in two["tests"]
    ]
    assert parallel.stdout.str().count("backprop-grader: demo") == 1


def test_inert_without_markers_or_fixtures(pytester):
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()  # pytest itself lists the plugin among "plugins:"; nothing more
    assert "backprop-grader:" not in out and "= backprop-grader" not in out
    written = sorted(p.name for p in pytester.path.iterdir() if not p.name.startswith("."))
    assert written == ["test_plain.py"]


def test_markers_registered_and_strict_markers_friendly(homework):
    homework.runpytest("--markers").stdout.fnmatch_lines(
        ["@pytest.mark.task(id, points=1, name=None, hidden=False): *"]
    )
    homework.runpytest("--strict-markers").assert_outcomes(passed=2, failed=2)


def test_options_share_one_help_text_with_ini_keys(pytester):
    out = pytester.runpytest("--help").stdout.str()
    assert "backprop-grader:" in out
    for name in ("submission", "report", "json", "seed", "assignment", "tasks", "name"):
        assert f"--grader-{name}" in out
        assert f"grader_{name} " in out or f"grader_{name}:" in out or f"grader_{name}\n" in out


def test_header_reports_seed_tolerances_and_submission(homework):
    result = homework.runpytest("--grader-seed=7", f"--grader-submission={homework.path}")
    result.stdout.fnmatch_lines(["backprop-grader: seed 7, rtol 1e-05, atol 1e-07*"])
    unwrapped = "".join(result.stdout.str().split())  # a long path is broken across lines
    assert f"backprop-grader:grading{homework.path}rootdir" in unwrapped
    inside = homework.runpytest("--grader-submission=homework.py")
    inside.stdout.fnmatch_lines(["backprop-grader: grading homework.py"])


def test_bad_seed_and_missing_submission_are_one_line_errors(homework):
    bad = homework.runpytest("--grader-seed=abc")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--grader-seed must be a whole number, got 'abc'*"])
    missing = homework.runpytest("--grader-submission=nowhere")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*the submission *nowhere does not exist*"])


def test_missing_function_is_named(pytester):
    pytester.makepyfile(homework="def other():\n    pass\n", test_homework=TESTS)
    result = pytester.runpytest("-k", "tanh")
    result.stdout.fnmatch_lines(["*homework.py has no function or class named tanh_forward*"])


def test_seed_changes_inputs_but_not_verdicts(homework):
    for seed in ("1", "2"):
        homework.runpytest(f"--grader-seed={seed}").assert_outcomes(passed=2, failed=2)


NETWORK = """
import numpy as np
import pytest
from grader import LayerCheck


def affine_forward(x, w):
    return x @ w, (x, w)


def affine_backward(dout, cache, bug=False):
    x, w = cache
    return dout @ w.T, (dout.T @ x).T * (2.0 if bug else 1.0)


@pytest.mark.parametrize("bug", [None, 0, 1])
@pytest.mark.task("2.1", points=1, name="network")
def test_network(checker, bug):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    params = {"w0": rng.standard_normal((4, 5)), "w1": rng.standard_normal((5, 2))}

    def loss(p):
        return float(np.sum(np.tanh(x @ p["w0"]) @ p["w1"]))

    def gradient(p):
        h = np.tanh(x @ p["w0"])
        dh, dw1 = affine_backward(np.ones((3, 2)), (h, p["w1"]), bug == 1)
        dz = dh * (1 - h**2)
        _, dw0 = affine_backward(dz, (x, p["w0"]), bug == 0)
        return {"dw0": dw0, "dw1": dw1}

    def layers():
        h = np.tanh(x @ params["w0"])
        return [
            LayerCheck(f"layer {i}", affine_forward,
                       lambda d, c, i=i: affine_backward(d, c, bug == i), {"x": inp, "w": w})
            for i, inp, w in ((1, h, params["w1"]), (0, x, params["w0"]))
        ]

    checker.function(loss, gradient, params, layers=layers, name="network backward")
"""


def test_a_failing_network_names_the_first_wrong_layer(pytester):
    pytester.makepyfile(test_net=NETWORK)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*network backward is wrong, and the first layer whose backward is wrong is layer 0: "
            "dw is twice the right value*",
            "*network backward is wrong, and the first layer whose backward is wrong is layer 1: "
            "dw is twice the right value*",
        ],
        consecutive=False,
    )
