"""Every diagnosis code the checker can give, and the few words shown for
each where a whole sentence does not fit (the class summary, the gradebook).

A code is a ``str`` enumeration, so it compares and serialises as its value
("transposed"); a ``Diagnosis`` refuses any code that is not listed here.
"""

from __future__ import annotations

from enum import Enum


class Code(str, Enum):
    """What kind of mistake a diagnosis names."""

    # the gradient is c times the right one, or its transpose
    TRANSPOSED = "transposed"
    SIGN_FLIP = "sign_flip"
    MISSING_1_OVER_N = "missing_1_over_n"
    EXTRA_1_OVER_N = "extra_1_over_n"
    SIGN_FLIP_MISSING_1_OVER_N = "sign_flip_missing_1_over_n"
    SIGN_FLIP_EXTRA_1_OVER_N = "sign_flip_extra_1_over_n"
    MISSING_FACTOR_2 = "missing_factor_2"
    EXTRA_FACTOR_2 = "extra_factor_2"
    CONSTANT_FACTOR = "constant_factor"
    ZERO = "zero"
    # regularization
    REG_MISSING = "reg_missing"
    REG_DOUBLED = "reg_doubled"
    REG_HALVED = "reg_halved"
    REG_SCALED = "reg_scaled"
    # activations
    TANH_OF_PREACTIVATION = "tanh_of_preactivation"
    TANH_APPLIED_TWICE = "tanh_applied_twice"
    TANH_MISSING_SQUARE = "tanh_missing_square"
    SIGMOID_OF_PREACTIVATION = "sigmoid_of_preactivation"
    SIGMOID_HALF_PREACTIVATION = "sigmoid_half_preactivation"
    SIGMOID_APPLIED_TWICE = "sigmoid_applied_twice"
    RELU_MASK_ON_DOUT = "relu_mask_on_dout"
    RELU_MASK_INVERTED = "relu_mask_inverted"
    RELU_NO_MASK = "relu_no_mask"
    LEAKY_RELU_MISSING_SLOPE = "leaky_relu_missing_slope"
    LEAKY_RELU_SLOPES_SWAPPED = "leaky_relu_slopes_swapped"
    # biases and shapes
    BIAS_WRONG_AXIS = "bias_wrong_axis"
    BIAS_NOT_SUMMED = "bias_not_summed"
    BIAS_SUMMED_ALL = "bias_summed_all"
    BIAS_SHAPE = "bias_shape"
    WRONG_SHAPE = "wrong_shape"
    # losses
    SOFTMAX_NO_ONEHOT = "softmax_no_onehot"
    SOFTMAX_ONEHOT_WRONG_CLASS = "softmax_onehot_wrong_class"
    BCE_LOGIT_GRADIENT = "bce_logit_gradient"
    # inside composite functions (named by mutants of the reference)
    MISSING_DERIVATIVE = "missing_derivative"
    FORWARD_VALUE_HANDED_DOWN = "forward_value_handed_down"
    WRONG_VARIABLE = "wrong_variable"
    MASK_WRONG_TENSOR = "mask_wrong_tensor"
    OVERWRITE_NOT_ACCUMULATE = "overwrite_not_accumulate"
    LOOP_OFF_BY_ONE = "loop_off_by_one"
    LAYER_SKIPPED = "layer_skipped"
    NOT_REVERSED = "not_reversed"
    RETURN_ORDER = "return_order"
    REG_ON_BIAS = "reg_on_bias"
    DROPPED_FACTOR = "dropped_factor"
    BROADCAST_SLIP = "broadcast_slip"
    SOFTMAX_ONEHOT_COLUMNS = "softmax_onehot_columns"
    SOFTMAX_ONEHOT_AFTER_MEAN = "softmax_onehot_after_mean"
    # another task's function, or given code
    CASCADE = "cascade"
    GIVEN_CODE_FAILED = "given_code_failed"
    # hygiene probes
    MODIFIED_INPUT = "modified_input"
    DOUT_IGNORED = "dout_ignored"
    NOT_LINEAR_IN_DOUT = "linear_in_dout"
    NONDETERMINISTIC = "nondeterministic"
    # what was returned
    NOT_ATTEMPTED = "not_attempted"
    EXCEPTION = "exception"
    WRONG_RETURN = "wrong_return"
    TYPE = "type"
    DTYPE = "dtype"
    NON_FINITE = "non_finite"
    INVALID = "invalid"
    # honestly unknown
    UNRECOGNISED = "unrecognised"

    @property
    def words(self) -> str:
        """A few words for tables: "gradient transposed", "missing 1/N"."""
        return WORDS[self]


WORDS: dict[Code, str] = {
    Code.TRANSPOSED: "gradient transposed",
    Code.SIGN_FLIP: "wrong sign",
    Code.MISSING_1_OVER_N: "missing 1/N",
    Code.EXTRA_1_OVER_N: "divided by N twice",
    Code.SIGN_FLIP_MISSING_1_OVER_N: "wrong sign and missing 1/N",
    Code.SIGN_FLIP_EXTRA_1_OVER_N: "wrong sign and divided by N twice",
    Code.MISSING_FACTOR_2: "missing factor 2",
    Code.EXTRA_FACTOR_2: "extra factor 2",
    Code.CONSTANT_FACTOR: "wrong constant factor",
    Code.ZERO: "gradient all zeros",
    Code.REG_MISSING: "regularization gradient missing",
    Code.REG_DOUBLED: "regularization gradient doubled",
    Code.REG_HALVED: "regularization gradient halved",
    Code.REG_SCALED: "regularization gradient scaled",
    Code.TANH_OF_PREACTIVATION: "tanh' from the pre-activation",
    Code.TANH_APPLIED_TWICE: "tanh applied twice",
    Code.TANH_MISSING_SQUARE: "tanh' without the square",
    Code.SIGMOID_OF_PREACTIVATION: "sigmoid' from the pre-activation",
    Code.SIGMOID_HALF_PREACTIVATION: "sigmoid' half from the pre-activation",
    Code.SIGMOID_APPLIED_TWICE: "sigmoid applied twice",
    Code.RELU_MASK_ON_DOUT: "ReLU mask taken from dout",
    Code.RELU_MASK_INVERTED: "ReLU mask inverted",
    Code.RELU_NO_MASK: "ReLU mask missing",
    Code.LEAKY_RELU_MISSING_SLOPE: "leaky ReLU slope missing",
    Code.LEAKY_RELU_SLOPES_SWAPPED: "leaky ReLU slopes swapped",
    Code.BIAS_WRONG_AXIS: "bias summed over the wrong axis",
    Code.BIAS_NOT_SUMMED: "bias not summed over the batch",
    Code.BIAS_SUMMED_ALL: "bias summed over every axis",
    Code.BIAS_SHAPE: "bias gradient of the wrong shape",
    Code.WRONG_SHAPE: "gradient of the wrong shape",
    Code.SOFTMAX_NO_ONEHOT: "one-hot not subtracted",
    Code.SOFTMAX_ONEHOT_WRONG_CLASS: "one-hot at the wrong class",
    Code.BCE_LOGIT_GRADIENT: "BCE gradient w.r.t. logits",
    Code.MISSING_DERIVATIVE: "activation derivative left out",
    Code.FORWARD_VALUE_HANDED_DOWN: "forward value passed instead of the gradient",
    Code.WRONG_VARIABLE: "wrong variable used",
    Code.MASK_WRONG_TENSOR: "mask taken from the wrong tensor",
    Code.OVERWRITE_NOT_ACCUMULATE: "overwritten instead of accumulated",
    Code.LOOP_OFF_BY_ONE: "loop one step short",
    Code.LAYER_SKIPPED: "a layer skipped",
    Code.NOT_REVERSED: "gradients not put back in layer order",
    Code.RETURN_ORDER: "return values in the wrong order",
    Code.REG_ON_BIAS: "biases regularized too",
    Code.DROPPED_FACTOR: "a factor left out",
    Code.BROADCAST_SLIP: "broadcasting slip",
    Code.SOFTMAX_ONEHOT_COLUMNS: "one-hot subtracted from whole columns",
    Code.SOFTMAX_ONEHOT_AFTER_MEAN: "one-hot subtracted after dividing by N",
    Code.CASCADE: "fails because another task is wrong",
    Code.GIVEN_CODE_FAILED: "given code failed on a returned value",
    Code.MODIFIED_INPUT: "input modified in place",
    Code.DOUT_IGNORED: "upstream gradient ignored",
    Code.NOT_LINEAR_IN_DOUT: "not linear in the upstream gradient",
    Code.NONDETERMINISTIC: "different answers on a second call",
    Code.NOT_ATTEMPTED: "not attempted",
    Code.EXCEPTION: "exception in student code",
    Code.WRONG_RETURN: "wrong return values",
    Code.TYPE: "returned the wrong type",
    Code.DTYPE: "returned the wrong dtype",
    Code.NON_FINITE: "NaN or infinite values",
    Code.INVALID: "unusable return value",
    Code.UNRECOGNISED: "unrecognised mistake",
}


def words_for(code: str) -> str:
    """The words for a code read back from JSON; an unknown one as itself."""
    try:
        return Code(code).words
    except ValueError:
        return code.replace("_", " ")
