"""Correct backward functions written in different ways: loops, einsum,
other stable forms, in-place work on their own temporaries. All must pass."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

from .forwards import sigmoid_forward_keep_x, softmax_loss_forward_keep_scores
from .registry import correct


@correct("linear")
def linear_vectorized(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


@correct("linear")
def linear_einsum(dout, cache):
    x, w, b = cache
    return np.einsum("nh,dh->nd", dout, w), np.einsum("nd,nh->dh", x, dout), dout.sum(0)


@correct("linear")
def linear_per_sample_loop(dout, cache):
    x, w, b = cache
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(x.shape[0]):
        dx[i] = w @ dout[i]
        dw += np.outer(x[i], dout[i])
        db += dout[i]
    return dx, dw, db


@correct("linear", dtype=np.float32)
def linear_float32(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


@correct("linear", scale=1e-6)
def linear_tiny_inputs(dout, cache):
    x, w, b = cache
    return np.dot(dout, w.T), np.dot(x.T, dout), np.sum(dout, axis=0)


@correct("linear", scale=1e4)
def linear_large_inputs(dout, cache):
    x, w, b = cache
    return np.dot(dout, w.T), np.dot(x.T, dout), np.sum(dout, axis=0)


@correct("relu")
def relu_where(dout, cache):
    (x,) = cache
    return np.where(x > 0, dout, 0.0)


@correct("relu")
def relu_in_place_on_copy(dout, cache):
    # seed 000's style: mask a temporary in place, never the input
    (x,) = cache
    dhidden = dout.copy()
    dhidden[x <= 0] = 0
    return dhidden


@correct("relu", at_kinks=True)
def relu_at_kinks(dout, cache):
    (x,) = cache
    return dout * (x > 0)


@correct("relu", at_kinks=True)
def relu_at_kinks_ge(dout, cache):
    (x,) = cache
    return dout * (x >= 0)


@correct("leaky_relu")
def leaky_relu_where(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, alpha * dout)


@correct("leaky_relu", at_kinks=True)
def leaky_relu_at_kinks(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


@correct("sigmoid")
def sigmoid_from_output(dout, cache):
    (out,) = cache
    return dout * out * (1 - out)


@correct("sigmoid", forward=sigmoid_forward_keep_x)
def sigmoid_recomputed(dout, cache):
    x, _ = cache
    s = np.exp(-np.logaddexp(0, -x))
    return dout * s * (1 - s)


@correct("sigmoid", dtype=np.float32)
def sigmoid_float32(dout, cache):
    (out,) = cache
    return dout * out * (1 - out)


@correct("tanh")
def tanh_from_output(dout, cache):
    x, out = cache
    return dout * (1 - out**2)


@correct("tanh")
def tanh_via_cosh(dout, cache):
    x, out = cache
    return dout / np.cosh(x) ** 2


@correct("softmax_cross_entropy")
def softmax_copy_then_subtract(cache):
    probs, y = cache
    dscores = probs.copy()
    dscores[np.arange(len(y)), y] -= 1
    dscores /= len(y)
    return dscores


@correct("softmax_cross_entropy")
def softmax_onehot(cache):
    probs, y = cache
    onehot = np.eye(probs.shape[1])[y]
    return (probs - onehot) / probs.shape[0]


@correct("softmax_cross_entropy")
def softmax_per_row_loop(cache):
    probs, y = cache
    n = len(y)
    dscores = np.empty_like(probs)
    for i in range(n):
        row = probs[i].copy()
        row[y[i]] -= 1.0
        dscores[i] = row / n
    return dscores


@correct("softmax_cross_entropy", scale=30.0)
def softmax_large_logits(cache):
    probs, y = cache
    return (probs - np.eye(probs.shape[1])[y]) / len(y)


@correct("softmax_cross_entropy", forward=softmax_loss_forward_keep_scores)
def softmax_via_logsumexp(cache):
    scores, y = cache
    probs = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
    probs[np.arange(len(y)), y] -= 1
    return probs / len(y)


@correct("softmax_cross_entropy", forward=softmax_loss_forward_keep_scores, scale=50.0)
def softmax_scipy_large_logits(cache):
    scores, y = cache
    return (softmax(scores, axis=1) - np.eye(scores.shape[1])[y]) / len(y)


@correct("sum_of_squares")
def sse_grad(cache):
    pred, y = cache
    return 2.0 * (pred - y)


@correct("mse")
def mse_grad(cache):
    pred, y = cache
    return 2.0 * (pred - y) / pred.shape[0]


@correct("binary_cross_entropy")
def bce_grad(cache):
    p, y = cache
    return -(y / p - (1 - y) / (1 - p)) / p.shape[0]


@correct("binary_cross_entropy")
def bce_combined_form(cache):
    p, y = cache
    return (p - y) / (p * (1 - p)) / len(p)


@correct("l2")
def l2_grad(cache):
    w, reg = cache
    return reg * w
