"""Deliberately wrong backward functions, one per classic mistake, written the
way students write them. Each names the diagnosis the checker must give."""

from __future__ import annotations

import numpy as np

from .forwards import sigmoid_forward_keep_x
from .registry import mistake
from .right import linear_vectorized

# --- linear -----------------------------------------------------------------


@mistake("linear", "overwrite_not_accumulate", reference=linear_vectorized)
def linear_loop_overwrites_dw(dout, cache):
    x, w, b = cache
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(x.shape[0]):
        dw = np.outer(x[i], dout[i])  # = where += belongs: only the last sample is kept
        db += dout[i]
    return dout @ w.T, dw, db


@mistake("linear", "loop_off_by_one", reference=linear_vectorized)
def linear_loop_stops_one_short(dout, cache):
    x, w, b = cache
    dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    for i in range(x.shape[0] - 1):
        dx[i] = w @ dout[i]
        dw += np.outer(x[i], dout[i])
        db += dout[i]
    return dx, dw, db


@mistake("linear", "loop_off_by_one", reference=linear_vectorized)
def linear_loop_starts_one_late(dout, cache):
    x, w, b = cache
    dw = sum(np.outer(x[i], dout[i]) for i in range(1, x.shape[0]))
    return dout @ w.T, dw, dout.sum(axis=0)


@mistake("linear", "transposed")
def linear_dw_transposed(dout, cache):
    x, w, b = cache
    return dout @ w.T, dout.T @ x, dout.sum(axis=0)


@mistake("linear", "transposed")
def linear_dw_reshaped_to_fit(dout, cache):
    x, w, b = cache
    # dout.T @ x had the shape of w.T, so it was made to fit
    return dout @ w.T, (dout.T @ x).reshape(w.shape), dout.sum(axis=0)


@mistake("linear", "transposed")
def linear_dx_transposed(dout, cache):
    x, w, b = cache
    return w @ dout.T, x.T @ dout, dout.sum(axis=0)


@mistake("linear", "sign_flip")
def linear_dx_sign(dout, cache):
    x, w, b = cache
    return -(dout @ w.T), x.T @ dout, dout.sum(axis=0)


@mistake("linear", "extra_1_over_n")
def linear_dw_divided_by_n(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    return dout @ w.T, x.T @ dout / n, dout.sum(axis=0)


@mistake("linear", "extra_factor_2")
def linear_dw_doubled(dout, cache):
    x, w, b = cache
    return dout @ w.T, 2 * x.T @ dout, dout.sum(axis=0)


@mistake("linear", "bias_wrong_axis")
def linear_db_wrong_axis(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=1)


@mistake("linear", "bias_not_summed")
def linear_db_not_summed(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout


@mistake("linear", "bias_shape")
def linear_db_keepdims(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.sum(dout, axis=0, keepdims=True)


@mistake("linear", "bias_summed_all")
def linear_db_summed_everything(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.sum(dout)


@mistake("linear", "dout_ignored")
def linear_ignores_dout(dout, cache):
    x, w, b = cache
    ones = np.ones((x.shape[0], w.shape[1]))
    return ones @ w.T, x.T @ ones, ones.sum(axis=0)


@mistake("linear", "modified_input")
def linear_modifies_x(dout, cache):
    x, w, b = cache
    dw = x.T @ dout
    x *= 0  # "free memory" by zeroing the cached input
    return dout @ w.T, dw, dout.sum(axis=0)


@mistake("linear", "not_attempted")
def linear_blank(dout, cache):
    raise NotImplementedError("Task 1.1: implement linear_backward")


@mistake("linear", "not_attempted")
def linear_returns_none(dout, cache):
    dx = dw = db = None
    return dx, dw, db


@mistake("linear", "exception")
def linear_shape_error(dout, cache):
    x, w, b = cache
    return dout @ w, x.T @ dout, dout.sum(axis=0)


@mistake("linear", "wrong_return")
def linear_returns_two(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout


@mistake("linear", "type")
def linear_returns_matrix(dout, cache):
    x, w, b = cache
    return np.asmatrix(dout @ w.T), x.T @ dout, dout.sum(axis=0)


class AlwaysEqual:
    """An object that claims to equal everything."""

    shape = (3, 5)
    dtype = np.dtype(np.float64)

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@mistake("linear", "type")
def linear_returns_liar(dout, cache):
    x, w, b = cache
    return AlwaysEqual(), x.T @ dout, dout.sum(axis=0)


class Lying(np.ndarray):
    """An ndarray subclass whose comparisons always say 'equal'."""

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__


@mistake("linear", "type")
def linear_returns_lying_subclass(dout, cache):
    x, w, b = cache
    return np.zeros((3, 5)).view(Lying), x.T @ dout, dout.sum(axis=0)


@mistake("linear", "non_finite")
def linear_returns_nan(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dx[0, 0] = np.nan
    return dx, x.T @ dout, dout.sum(axis=0)


@mistake("linear", "dtype")
def linear_returns_float32(dout, cache):
    x, w, b = cache
    return (dout @ w.T).astype(np.float32), x.T @ dout, dout.sum(axis=0)


_calls = {"n": 0}


@mistake("linear", "nondeterministic")
def linear_noisy(dout, cache):
    x, w, b = cache
    _calls["n"] += 1
    return dout @ w.T, x.T @ dout + 1e-3 * _calls["n"], dout.sum(axis=0)


# --- activations ----------------------------------------------------------------


@mistake("relu", "relu_mask_on_dout")
def relu_mask_dout(dout, cache):
    (x,) = cache
    dx = dout.copy()
    dx[dout < 0] = 0
    return dx


@mistake("relu", "relu_mask_inverted")
def relu_mask_inverted(dout, cache):
    (x,) = cache
    dx = dout.copy()
    dx[x > 0] = 0
    return dx


@mistake("relu", "relu_no_mask")
def relu_no_mask(dout, cache):
    (x,) = cache
    return dout.copy()


@mistake("relu", "dout_ignored")
def relu_returns_mask(dout, cache):
    (x,) = cache
    return (x > 0).astype(float)


@mistake("relu", "modified_input")
def relu_masks_dout_in_place(dout, cache):
    (x,) = cache
    dout[x <= 0] = 0
    return dout


@mistake("leaky_relu", "leaky_relu_missing_slope")
def leaky_relu_like_relu(dout, cache):
    x, alpha = cache
    return dout * (x > 0)


@mistake("leaky_relu", "leaky_relu_slopes_swapped")
def leaky_relu_swapped(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, alpha, 1.0)


@mistake("sigmoid", "sigmoid_of_preactivation", forward=sigmoid_forward_keep_x)
def sigmoid_from_x(dout, cache):
    x, out = cache
    return dout * x * (1 - x)


@mistake("sigmoid", "sigmoid_half_preactivation", forward=sigmoid_forward_keep_x)
def sigmoid_half_x(dout, cache):
    x, out = cache
    return dout * out * (1 - x)


@mistake("sigmoid", "sigmoid_applied_twice")
def sigmoid_twice(dout, cache):
    (out,) = cache
    s = 1 / (1 + np.exp(-out))
    return dout * s * (1 - s)


@mistake("sigmoid", "sign_flip")
def sigmoid_sign(dout, cache):
    (out,) = cache
    return dout * out * (out - 1)


@mistake("tanh", "tanh_of_preactivation")
def tanh_from_x(dout, cache):
    x, out = cache
    return dout * (1 - x**2)


@mistake("tanh", "tanh_applied_twice")
def tanh_twice(dout, cache):
    x, out = cache
    return dout * (1 - np.tanh(out) ** 2)


@mistake("tanh", "tanh_missing_square")
def tanh_no_square(dout, cache):
    x, out = cache
    return dout * (1 - out)


# --- losses -------------------------------------------------------------------


@mistake("softmax_cross_entropy", "softmax_no_onehot")
def softmax_forgets_onehot(cache):
    probs, y = cache
    return probs / probs.shape[0]


@mistake("softmax_cross_entropy", "missing_1_over_n")
def softmax_missing_n(cache):
    probs, y = cache
    dscores = probs.copy()
    dscores[np.arange(len(y)), y] -= 1
    return dscores


@mistake("softmax_cross_entropy", "extra_1_over_n")
def softmax_n_twice(cache):
    probs, y = cache
    n = len(y)
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    return dscores / n / n


@mistake("softmax_cross_entropy", "sign_flip")
def softmax_sign(cache):
    probs, y = cache
    onehot = np.eye(probs.shape[1])[y]
    return (onehot - probs) / len(y)


@mistake("softmax_cross_entropy", "modified_input")
def softmax_in_place_on_cache(cache):
    # seed 000 writes `dscores = probs; dscores[range(N), y] -= 1`, changing probs
    probs, y = cache
    dscores = probs
    dscores[np.arange(len(y)), y] -= 1
    dscores /= len(y)
    return dscores


@mistake("sum_of_squares", "missing_factor_2")
def sse_missing_two(cache):
    pred, y = cache
    return pred - y


@mistake("sum_of_squares", "sign_flip")
def sse_sign(cache):
    pred, y = cache
    return 2.0 * (y - pred)


@mistake("mse", "missing_1_over_n")
def mse_missing_n(cache):
    pred, y = cache
    return 2.0 * (pred - y)


@mistake("mse", "missing_factor_2")
def mse_missing_two(cache):
    pred, y = cache
    return (pred - y) / pred.shape[0]


@mistake("binary_cross_entropy", "bce_logit_gradient")
def bce_logit_gradient(cache):
    p, y = cache
    return (p - y) / p.shape[0]


@mistake("binary_cross_entropy", "missing_1_over_n")
def bce_missing_n(cache):
    p, y = cache
    return (p - y) / (p * (1 - p))


@mistake("l2", "missing_factor_2")
def l2_half(cache):
    w, reg = cache
    return 0.5 * reg * w


@mistake("l2", "extra_factor_2")
def l2_double(cache):
    w, reg = cache
    return 2 * reg * w
