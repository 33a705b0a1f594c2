"""Every deliberately wrong backward is caught and named; every correct one,
however it is written, passes."""

from __future__ import annotations

import json

import pytest

from examples.checker.catalogue import entries, run
from grader import Status

ENTRIES = entries()
WRONG = [e for e in ENTRIES if e.expected is not None]
RIGHT = [e for e in ENTRIES if e.expected is None]


@pytest.mark.parametrize("entry", WRONG, ids=[e.name for e in WRONG])
def test_mistake_is_caught_and_named(entry):
    outcome = run(entry)
    assert not outcome.result.passed
    assert outcome.code == entry.expected, outcome.result.message


@pytest.mark.parametrize("entry", RIGHT, ids=[e.name for e in RIGHT])
def test_correct_variant_passes(entry):
    outcome = run(entry)
    assert outcome.result.status is Status.PASSED, outcome.result.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_verdicts_hold_for_other_seeds(seed):
    surprises = [e.name for e in ENTRIES if not run(e, seed).as_expected]
    assert surprises == []


def test_catalogue_covers_every_named_mistake():
    codes = {e.expected for e in WRONG}
    required = {
        "transposed",
        "sign_flip",
        "missing_1_over_n",
        "extra_1_over_n",
        "missing_factor_2",
        "extra_factor_2",
        "reg_missing",
        "reg_doubled",
        "tanh_of_preactivation",
        "sigmoid_half_preactivation",
        "sigmoid_applied_twice",
        "relu_mask_on_dout",
        "relu_mask_inverted",
        "bias_wrong_axis",
        "bias_not_summed",
        "dout_ignored",
        "softmax_no_onehot",
        "modified_input",
        "not_attempted",
        "unrecognised",
        "overwrite_not_accumulate",
        "loop_off_by_one",
    }
    assert required <= codes


def test_messages_are_one_sentence_naming_the_gradient():
    for entry in WRONG:
        message = run(entry).result.message
        assert "\n" not in message
        assert len(message) < 300, message


def test_transposed_message_names_the_formulas():
    entry = next(e for e in WRONG if e.name == "linear_dw_transposed")
    assert run(entry).result.message == (
        "dw has the right values but transposed: you computed dout.T @ x instead of x.T @ dout"
    )


def test_a_transpose_reshaped_to_fit_is_named():
    entry = next(e for e in WRONG if e.name == "linear_dw_reshaped_to_fit")
    assert run(entry).result.message.startswith(
        "dw holds the transposed values reshaped to fit: reshape keeps the elements' order"
    )


def test_exception_points_at_the_students_line():
    entry = next(e for e in WRONG if e.name == "linear_shape_error")
    message = run(entry).result.message
    assert "wrong.py" in message and "dout @ w" in message
    assert "grader" not in message.replace("grader/", "")


def test_every_record_serializes_to_strict_json():
    for entry in ENTRIES:
        json.dumps(run(entry).result.to_dict(error_maps=True), allow_nan=False)
