"""Student submissions of the layers assignment, written for this benchmark:
each case rewrites one whole function of the `correct` example the way a
student of the class might (their own parameter and variable names, loops,
einsum, helpers, np.where, float32-minded code) with one mistake in it, or
none (expect "passed"). `forbid` lists names the rewritten function does not
have (parameters and locals), which a message must not use.
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from diagnosis_corpus import rewriter

case = rewriter("layers", "ca_lay_")


CASES = [
    # ---------------------------------------------------------------- layers.py
    case(
        "linear_grad_cache_dw_transposed",
        "layers",
        "linear_backward",
        '''
        def linear_backward(grad, cache):
            """Task 1.1: backward of out = x @ w + b."""
            inp, weights, bias = cache
            return grad @ weights.T, grad.T @ inp, grad.sum(0)
        ''',
        {"1.1": "transposed"},
        ("dout", "x", "w", "dx", "dw", "db"),
    ),
    case(
        "linear_loop_stops_early",
        "layers",
        "linear_backward",
        '''
        def linear_backward(upstream, cache):
            """Task 1.1, one sample at a time like in lecture."""
            x_in, W, bias = cache
            grad_x = np.zeros_like(x_in)
            grad_W = np.zeros_like(W)
            grad_b = np.zeros_like(bias)
            for i in range(x_in.shape[0] - 1):
                grad_x[i] = upstream[i] @ W.T
                grad_W += np.outer(x_in[i], upstream[i])
                grad_b += upstream[i]
            return grad_x, grad_W, grad_b
        ''',
        {"1.1": "loop_off_by_one"},
        ("dout", "x", "w", "dx", "dw", "db"),
    ),
    case(
        "linear_loop_overwrites",
        "layers",
        "linear_backward",
        """
        def linear_backward(dY, cache):
            X, W, b = cache
            dX = dY @ W.T
            dW = np.zeros(W.shape)
            dB = np.zeros(b.shape)
            for n in range(X.shape[0]):
                dW = np.outer(X[n], dY[n])
                dB += dY[n]
            return dX, dW, dB
        """,
        {"1.1": "overwrite_not_accumulate"},
        ("dout", "x", "w", "dx", "dw", "db"),
    ),
    case(
        "relu_da_a_mask_on_da",
        "layers",
        "relu_backward",
        """
        def relu_backward(da, a):
            return da * (da > 0)
        """,
        {"1.2": "relu_mask_on_dout"},
        ("dout", "x", "dx", "cache"),
    ),
    case(
        "leaky_where_no_slope",
        "layers",
        "leaky_relu_backward",
        '''
        def leaky_relu_backward(g, cache):
            """Task 1.3."""
            z, a = cache
            return np.where(z > 0, g, 0.0)
        ''',
        {"1.3": "leaky_relu_missing_slope"},
        ("dout", "x", "alpha", "dx"),
    ),
    case(
        "sigmoid_expit_of_output",
        "layers",
        "sigmoid_backward",
        """
        def sigmoid_backward(grad_out, sig):
            from scipy.special import expit

            s = expit(sig)
            return grad_out * s * (1.0 - s)
        """,
        {"1.4": "sigmoid_applied_twice"},
        ("dout", "cache", "dx"),
    ),
    case(
        "sigmoid_sign_flipped",
        "layers",
        "sigmoid_backward",
        """
        def sigmoid_backward(upstream, out):
            local = out * (out - 1)
            return upstream * local
        """,
        {"1.4": "sign_flip"},
        ("dout", "cache", "dx", "s"),
    ),
    case(
        "tanh_helper_no_square",
        "layers",
        "tanh_backward",
        """
        def _dtanh(t):
            # derivative of tanh from its output
            return 1 - t


        def tanh_backward(delta, out):
            return delta * _dtanh(out)
        """,
        {"1.5": "tanh_missing_square"},
        ("dout", "cache", "dx"),
    ),
    # ---------------------------------------------------------------- losses.py
    case(
        "softmax_divide_then_onehot",
        "losses",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(c):
            P, labels = c
            m = len(labels)
            grad = P / m
            grad[np.arange(m), labels] -= 1
            return grad
        """,
        {"1.6": "softmax_onehot_after_mean"},
        ("probs", "y", "dscores", "cache"),
    ),
    case(
        "softmax_loop_divides_twice",
        "losses",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(cache):
            p, labels = cache
            batch = len(labels)
            grad = np.zeros_like(p)
            for i in range(batch):
                grad[i] = p[i] / batch
                grad[i, labels[i]] -= 1 / batch
            return grad / batch  # average over the batch
        """,
        {"1.6": "extra_1_over_n"},
        ("probs", "y", "dscores"),
    ),
    case(
        "sumsq_no_factor_2",
        "losses",
        "sum_squares_loss_backward",
        """
        def sum_squares_loss_backward(cache):
            yhat, target = cache
            return yhat - target
        """,
        {"1.7": "missing_factor_2"},
        ("pred", "y", "dpred"),
    ),
    case(
        "sumsq_sign_flipped",
        "losses",
        "sum_squares_loss_backward",
        """
        def sum_squares_loss_backward(cache):
            yhat, target = cache
            err = target - yhat
            return 2 * err
        """,
        {"1.7": "sign_flip", "1.15": "cascade"},
        ("pred", "y", "dpred"),
    ),
    case(
        "mse_divides_by_rows",
        "losses",
        "mse_loss_backward",
        """
        def mse_loss_backward(cache):
            yhat, t = cache
            diff = yhat - t
            return 2 * diff / diff.shape[0]
        """,
        {"1.8": "constant_factor"},
        ("pred", "y", "dpred"),
    ),
    case(
        "bce_logit_gradient",
        "losses",
        "bce_loss_backward",
        """
        def bce_loss_backward(cache):
            probs, target = cache
            return (probs - target) / len(probs)
        """,
        {"1.9": "bce_logit_gradient"},
        ("p", "y", "dp"),
    ),
    case(
        "l2_derivative_keeps_2",
        "losses",
        "l2_backward",
        """
        def l2_backward(cache):
            weights, lam = cache
            return 2 * lam * weights
        """,
        {"1.10": "extra_factor_2"},
        ("w", "reg", "dw"),
    ),
    # ----------------------------------------------------------- layer_class.py
    case(
        "sigmoid_gd_applies_sigmoid",
        "layer_class",
        "sigmoid_gd",
        """
        def sigmoid_gd(out):
            s = sigmoid(out)
            return s * (1 - s)
        """,
        {"1.11": "sigmoid_applied_twice", "1.13": "cascade", "1.14": "cascade"},
        ("y",),
    ),
    case(
        "tanh_gd_applies_tanh",
        "layer_class",
        "tanh_gd",
        """
        def tanh_gd(Y):
            return 1 - np.tanh(Y) ** 2
        """,
        {"1.12": "tanh_applied_twice", "1.13": "cascade", "1.14": "cascade"},
        ("y",),
    ),
    case(
        "layer_db_without_gd",
        "layer_class",
        "Layer.backprop",
        """
        def backprop(self, dEdY):
            g = self.gd(self.Y)
            local = dEdY * g
            dEdX = local @ self.W
            dEdW = np.einsum("no,ni->oi", local, self.X)
            dEdb = dEdY.sum(axis=0)
            return dEdX, dEdW, dEdb
        """,
        {"1.13": "missing_derivative", "1.14": "cascade"},
        ("deltas",),
    ),
    case(
        "layer_returns_db_before_dw",
        "layer_class",
        "Layer.backprop",
        """
        def backprop(self, grad_out):
            dA = grad_out * self.gd(self.Y)
            return dA @ self.W, dA.sum(axis=0), dA.T @ self.X
        """,
        {"1.13": "return_order", "1.14": "cascade"},
        ("deltas", "dEdY"),
    ),
    case(
        "network_hands_down_layer_input",
        "layer_class",
        "Network.backprop",
        """
        def backprop(self, err):
            out = []
            for lyr in reversed(self.layers):
                dX, dW, db = lyr.backprop(err)
                out.append((dW, db))
                err = lyr.X
            return out[::-1]
        """,
        {"1.14": "forward_value_handed_down"},
        ("dEdY", "grads", "deltas"),
    ),
    case(
        "network_index_loop_misses_layer_0",
        "layer_class",
        "Network.backprop",
        """
        def backprop(self, dEdY):
            grads = [None] * len(self.layers)
            delta = dEdY
            for i in range(len(self.layers) - 1, 0, -1):
                delta, gW, gb = self.layers[i].backprop(delta)
                grads[i] = (gW, gb)
            return grads
        """,
        {"1.14": "layer_skipped"},
        ("dEdW", "dEdb"),
    ),
    case(
        "network_pairs_b_then_w",
        "layer_class",
        "Network.backprop",
        """
        def backprop(self, dEdY):
            result = []
            g = dEdY
            for L in self.layers[::-1]:
                g, gw, gb = L.backprop(g)
                result = [(gb, gw)] + result
            return result
        """,
        {"1.14": "return_order"},
        ("grads",),
    ),
    # ------------------------------------------------------------ regression.py
    case(
        "regression_no_relu_mask",
        "regression",
        "two_layer_regression_backward",
        """
        def two_layer_regression_backward(g, cache):
            inp, pre, act, W2 = cache
            dW2 = act.T @ g
            dact = g @ W2.T
            dW1 = inp.T @ dact
            return dW1, dW2
        """,
        {"1.15": "relu_no_mask"},
        ("dy_pred", "x", "h", "h_relu", "w2", "grad_h", "grad_w1", "grad_w2"),
    ),
    case(
        "regression_returns_w2_first",
        "regression",
        "two_layer_regression_backward",
        """
        def two_layer_regression_backward(dy, cache):
            x, h, a, w2 = cache
            dw2 = a.T @ dy
            dh = (dy @ w2.T) * (h > 0)
            dw1 = x.T @ dh
            return dw2, dw1
        """,
        {"1.15": "return_order"},
        ("dy_pred", "h_relu", "grad_h", "grad_w1", "grad_w2"),
    ),
    case(
        "regression_mask_from_gradient",
        "regression",
        "two_layer_regression_backward",
        """
        def two_layer_regression_backward(dy_pred, cache):
            x, h, h_relu, w2 = cache
            d_relu = dy_pred.dot(w2.T)
            d_h = np.where(d_relu > 0, d_relu, 0)
            return x.T.dot(d_h), h_relu.T.dot(dy_pred)
        """,
        {"1.15": "relu_mask_on_dout"},
        ("grad_h", "grad_h_relu", "grad_w1", "grad_w2"),
    ),
    # ------------------------------------------- right code written differently
    case(
        "right_linear_tensordot",
        "layers",
        "linear_backward",
        """
        def linear_backward(upstream, cache):
            inputs, weights, _ = cache
            return (
                np.tensordot(upstream, weights, axes=([1], [1])),
                np.tensordot(inputs, upstream, axes=([0], [0])),
                np.add.reduce(upstream, axis=0),
            )
        """,
        {"1.1": "passed"},
    ),
    case(
        "right_relu_heaviside",
        "layers",
        "relu_backward",
        """
        def relu_backward(grad, z):
            return grad * np.heaviside(z, 0.0)
        """,
        {"1.2": "passed"},
    ),
    case(
        "right_sigmoid_float32_minded",
        "layers",
        "sigmoid_backward",
        """
        def sigmoid_backward(dout, cache):
            s = np.asarray(cache)
            one = s.dtype.type(1)
            return (dout * s * (one - s)).astype(s.dtype, copy=False)
        """,
        {"1.4": "passed"},
    ),
    case(
        "right_network_recursive_helper",
        "layer_class",
        "Network.backprop",
        """
        def backprop(self, dEdY):
            def walk(i, upstream):
                if i < 0:
                    return []
                down, dW, db = self.layers[i].backprop(upstream)
                return walk(i - 1, down) + [(dW, db)]

            return walk(len(self.layers) - 1, dEdY)
        """,
        {"1.14": "passed"},
    ),
    case(
        "right_regression_mask_from_h_relu",
        "regression",
        "two_layer_regression_backward",
        """
        def two_layer_regression_backward(dy_pred, cache):
            x, _, h_relu, w2 = cache
            active = (h_relu > 0).astype(dy_pred.dtype)
            dh = (dy_pred @ w2.T) * active
            return x.T @ dh, h_relu.T @ dy_pred
        """,
        {"1.15": "passed"},
    ),
]
