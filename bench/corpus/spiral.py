"""Student submissions of the spiral assignment (seed 000), written for this benchmark:
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

case = rewriter("spiral", "ca_sp_")


CASES = [
    # ------------------------------------------------ softmax_loss_backward (2.1)
    case(
        "softmax_eye_no_mean",
        "net",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(cache):
            P, labels = cache
            Y = np.eye(P.shape[1])[labels]
            return P - Y
        """,
        {"2.1": "missing_1_over_n", "2.2": "cascade", "2.3": "cascade"},
        ("probs", "y", "num_examples", "n", "dscores"),
    ),
    case(
        "softmax_target_minus_probs",
        "net",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(cache):
            probs, y = cache
            n = len(y)
            target = np.zeros_like(probs)
            target[np.arange(n), y] = 1.0
            return (target - probs) / n
        """,
        {"2.1": "sign_flip", "2.2": "cascade", "2.3": "cascade"},
        ("dscores", "num_examples"),
    ),
    case(
        "softmax_loop_skips_last",
        "net",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(cache):
            probs, y = cache
            num_examples = probs.shape[0]
            dscores = probs.copy()
            for i in range(num_examples - 1):
                dscores[i, y[i]] -= 1
            return dscores / num_examples
        """,
        {"2.1": "loop_off_by_one", "2.3": "cascade"},
    ),
    # ------------------------------------------------------ scores_backward (2.2)
    case(
        "scores_where_on_dh",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, h, W2 = cache
            grads = {}
            grads["W2"] = h.T @ dscores
            grads["b2"] = dscores.sum(axis=0, keepdims=True)
            dh = dscores @ W2.T
            dh = np.where(dh > 0, dh, 0.0)
            grads["W"] = X.T @ dh
            grads["b"] = dh.sum(axis=0, keepdims=True)
            return grads
        """,
        {"2.2": "relu_mask_on_dout", "2.3": "cascade"},
        ("hidden", "dhidden", "dW", "db", "dW2", "db2"),
    ),
    case(
        "scores_forgets_relu",
        "net",
        "scores_backward",
        """
        def scores_backward(dout, cache):
            inputs, hid, W2 = cache
            dW2 = hid.T.dot(dout)
            db2 = dout.sum(0, keepdims=True)
            dhid = dout.dot(W2.T)
            dW = inputs.T.dot(dhid)
            db = dhid.sum(0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "relu_no_mask", "2.3": "cascade"},
        ("dscores", "X", "hidden", "dhidden"),
    ),
    case(
        "scores_einsum_db2_axis1",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            dW2 = np.einsum("nh,nk->hk", hidden, dscores)
            db2 = np.sum(dscores, axis=1, keepdims=True)
            dhidden = np.einsum("nk,hk->nh", dscores, W2) * (hidden > 0)
            dW = np.einsum("nd,nh->dh", X, dhidden)
            db = np.sum(dhidden, axis=0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "bias_wrong_axis", "2.3": "cascade"},
    ),
    case(
        "scores_layers_numbered_from_top",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            # layer 1 is the output layer, layer 2 the hidden one
            dW1 = hidden.T @ dscores
            db1 = dscores.sum(axis=0, keepdims=True)
            dhidden = (dscores @ W2.T) * (hidden > 0)
            dW_2 = X.T @ dhidden
            db_2 = dhidden.sum(axis=0, keepdims=True)
            return {"W": dW1, "b": db1, "W2": dW_2, "b2": db_2}
        """,
        {"2.2": "return_order", "2.3": "cascade"},
        ("dW", "db", "dW2", "db2"),
    ),
    case(
        "scores_relu_of_hidden_handed_down",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            dW2 = np.dot(hidden.T, dscores)
            db2 = np.sum(dscores, axis=0, keepdims=True)
            dhidden = np.dot(dscores, W2.T)
            dhidden = np.where(hidden > 0, hidden, 0)  # relu backward
            dW = np.dot(X.T, dhidden)
            db = np.sum(dhidden, axis=0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "forward_value_handed_down", "2.3": "cascade"},
    ),
    case(
        "scores_sample_loop_overwrites_dW",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            N = X.shape[0]
            dW2 = hidden.T @ dscores
            db2 = dscores.sum(axis=0, keepdims=True)
            dW = np.zeros((X.shape[1], hidden.shape[1]))
            db = np.zeros((1, hidden.shape[1]))
            for i in range(N):
                dh_i = (dscores[i] @ W2.T) * (hidden[i] > 0)
                dW = np.outer(X[i], dh_i)
                db += dh_i
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "overwrite_not_accumulate", "2.3": "cascade"},
        ("dhidden",),
    ),
    case(
        "scores_sample_loop_stops_early",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            n = len(X)
            dW2 = np.zeros_like(W2)
            for i in range(n - 1):
                dW2 += np.outer(hidden[i], dscores[i])
            db2 = dscores.sum(axis=0, keepdims=True)
            dh = dscores @ W2.T * (hidden > 0)
            return {"W": X.T @ dh, "b": dh.sum(axis=0, keepdims=True), "W2": dW2, "b2": db2}
        """,
        {"2.2": "loop_off_by_one", "2.3": "cascade"},
        ("dhidden", "dW", "db"),
    ),
    case(
        "scores_bias_is_delta",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, H, W2 = cache
            d_out = dscores
            g = {}
            g["W2"] = H.T @ d_out
            g["b2"] = d_out.sum(axis=0, keepdims=True)
            d_h = (d_out @ W2.T) * (H > 0)
            g["W"] = X.T @ d_h
            g["b"] = d_h
            return g
        """,
        {"2.2": "bias_not_summed", "2.3": "cascade"},
        ("hidden", "dhidden", "db"),
    ),
    case(
        "scores_db_before_mask",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            dW2 = hidden.T @ dscores
            db2 = dscores.sum(axis=0, keepdims=True)
            dhidden = dscores @ W2.T
            dpre = dhidden * (hidden > 0)
            dW = X.T @ dpre
            db = dhidden.sum(axis=0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "relu_no_mask", "2.3": "cascade"},
    ),
    case(
        "scores_mask_built_in_cache",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            dW2 = hidden.T @ dscores
            db2 = dscores.sum(axis=0, keepdims=True)
            dhidden = dscores @ W2.T
            hidden[hidden > 0] = 1  # relu derivative
            dhidden *= hidden
            dW = X.T @ dhidden
            db = dhidden.sum(axis=0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "modified_input"},
    ),
    case(
        "scores_dW2_transposed",
        "net",
        "scores_backward",
        """
        def scores_backward(grad_scores, cache):
            X, hidden, W2 = cache
            dW2 = np.dot(grad_scores.T, hidden)
            db2 = grad_scores.sum(axis=0, keepdims=True)
            dhidden = np.dot(grad_scores, W2.T)
            dhidden[hidden <= 0] = 0
            dW = np.dot(X.T, dhidden)
            db = dhidden.sum(axis=0, keepdims=True)
            return {"W": dW, "b": db, "W2": dW2, "b2": db2}
        """,
        {"2.2": "transposed", "2.3": "cascade"},
        ("dscores",),
    ),
    # ---------------------------------------------------------- l2_backward (2.3)
    case(
        "l2_every_param",
        "net",
        "l2_backward",
        """
        def l2_backward(params, reg):
            return {k: reg * v for k, v in params.items()}
        """,
        {"2.3": "reg_on_bias"},
        ("dW", "dW2"),
    ),
    case(
        "l2_keeps_factor_2",
        "net",
        "l2_backward",
        """
        def l2_backward(params, reg):
            grads = {}
            for name in ("W", "W2"):
                grads[name] = 2 * reg * params[name]  # d/dw of w**2 is 2w
            return grads
        """,
        {"2.3": "extra_factor_2"},
        ("dW", "dW2"),
    ),
    case(
        "l2_keys_crossed",
        "net",
        "l2_backward",
        """
        def l2_backward(params, reg):
            W, W2 = params["W"], params["W2"]
            return {"W": reg * W2, "W2": reg * W}
        """,
        {"2.3": "return_order"},
        ("dW", "dW2"),
    ),
    case(
        "l2_weight_decay_sign",
        "net",
        "l2_backward",
        """
        def l2_backward(params, reg):
            # weight decay pulls the weights towards 0
            decay_W = -reg * params["W"]
            decay_W2 = -reg * params["W2"]
            return {"W": decay_W, "W2": decay_W2}
        """,
        {"2.3": "sign_flip"},
        ("dW", "dW2"),
    ),
    # ------------------------------------------- right code written differently
    case(
        "right_softmax_subtract_at",
        "net",
        "softmax_loss_backward",
        """
        def softmax_loss_backward(cache):
            probs, labels = cache
            m = probs.shape[0]
            grad = np.array(probs, dtype=probs.dtype, copy=True)
            np.subtract.at(grad, (np.arange(m), labels), 1)
            grad *= probs.dtype.type(1.0 / m)
            return grad
        """,
        {"2.1": "passed", "2.2": "passed", "2.3": "passed"},
    ),
    case(
        "right_scores_helper_where",
        "net",
        "scores_backward",
        """
        def _relu_back(upstream, activated):
            return np.where(activated > 0, upstream, 0.0)


        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            dW2 = np.einsum("nh,nk->hk", hidden, dscores)
            db2 = dscores.sum(axis=0).reshape(1, -1)
            dpre = _relu_back(dscores @ W2.T, hidden)
            return {"W2": dW2, "b2": db2, "W": X.T @ dpre, "b": dpre.sum(axis=0)[None, :]}
        """,
        {"2.2": "passed", "2.3": "passed"},
    ),
    case(
        "right_scores_dtype_mask",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            mask = (hidden > 0).astype(dscores.dtype)
            dh = (dscores @ W2.T) * mask
            return {
                "W": X.T @ dh,
                "b": dh.sum(axis=0, keepdims=True),
                "W2": hidden.T @ dscores,
                "b2": dscores.sum(axis=0, keepdims=True),
            }
        """,
        {"2.2": "passed", "2.3": "passed"},
    ),
    case(
        "right_scores_sample_loop",
        "net",
        "scores_backward",
        """
        def scores_backward(dscores, cache):
            X, hidden, W2 = cache
            grads = {
                "W": np.zeros((X.shape[1], hidden.shape[1])),
                "b": np.zeros((1, hidden.shape[1])),
                "W2": np.zeros_like(W2),
                "b2": np.zeros((1, dscores.shape[1])),
            }
            for x_i, h_i, d_i in zip(X, hidden, dscores):
                grads["W2"] += np.outer(h_i, d_i)
                grads["b2"] += d_i
                dh_i = (W2 @ d_i) * (h_i > 0)
                grads["W"] += np.outer(x_i, dh_i)
                grads["b"] += dh_i
            return grads
        """,
        {"2.2": "passed", "2.3": "passed"},
    ),
    case(
        "right_l2_loop",
        "net",
        "l2_backward",
        """
        def l2_backward(params, reg):
            out = {}
            for key in params:
                if key.startswith("W"):
                    out[key] = np.multiply(params[key], reg)
            return out
        """,
        {"2.3": "passed"},
    ),
]
