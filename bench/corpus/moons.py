"""Moons (seed 002) submissions written in students' own styles: each rewrites one
whole function of the `correct` example (net.backward, Task 3.1;
deep.activation_prime, Task 3.2; deep.backward, Task 3.3) with one mistake, or
with none (expect "passed").
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diagnosis_corpus import Case

# ---- the functions of the `correct` example, as they are there -------------

NET_BACKWARD = '''def backward(
    model: Model,
    probs: np.ndarray,
    cache: tuple[np.ndarray, np.ndarray],
    y: np.ndarray,
    reg_lambda: float = REG_LAMBDA,
) -> Model:
    """Gradient of ``objective`` (summed cross-entropy + L2 on W1, W2).

    Task 3.1 (6 points).
    probs: (N, C) from forward, cache: (X (N, 2), a1 (N, h)), y: (N,) labels.
    Returns {"W1": (2, h), "b1": (1, h), "W2": (h, C), "b2": (1, C)}.
    Leave probs unchanged (copy it before subtracting 1 from the true classes).
    """
    X, a1 = cache
    num_examples = len(X)
    # backpropagation, as in the seed, but on a copy of probs
    delta3 = probs.copy()
    delta3[range(num_examples), y] -= 1
    dW2 = (a1.T).dot(delta3)
    db2 = np.sum(delta3, axis=0, keepdims=True)
    delta2 = delta3.dot(model["W2"].T) * (1 - np.power(a1, 2))
    dW1 = np.dot(X.T, delta2)
    db1 = np.sum(delta2, axis=0, keepdims=True)
    # add regularization terms (b1 and b2 don't have regularization terms)
    dW2 += reg_lambda * model["W2"]
    dW1 += reg_lambda * model["W1"]
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}'''

ACTIVATION_PRIME = '''def activation_prime(a: np.ndarray, activation: str) -> np.ndarray:
    """Derivative of the activation at z, written with its output a = f(z).

    Task 3.2 (3 points).
    a: (N, n) hidden activations; activation: "tanh", "sigmoid" or "relu".
    Returns f'(z), (N, n) (ReLU: 0 where a == 0).
    """
    if activation == "tanh":
        return 1 - np.power(a, 2)
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    raise ValueError(f"unknown activation {activation!r}")'''

DEEP_BACKWARD = '''def backward(
    params: Params,
    probs: np.ndarray,
    cache: list[np.ndarray],
    y: np.ndarray,
    activation: str = "tanh",
    reg_lambda: float = 0.01,
) -> Params:
    """Gradient of ``objective`` for any depth.

    Task 3.3 (6 points).
    probs: (N, n_out) from forward, cache: [X, a1, ..., a_{L-1}], y: (N,) labels.
    Returns one gradient per parameter: Wi (n_{i-1}, n_i), bi (1, n_i).
    Leave probs unchanged.
    """
    num_examples = len(y)
    delta = probs.copy()
    delta[range(num_examples), y] -= 1
    grads = {}
    for i in range(num_layers(params), 0, -1):
        a_prev = cache[i - 1]  # the input of layer i
        grads[f"W{i}"] = a_prev.T.dot(delta) + reg_lambda * params[f"W{i}"]
        grads[f"b{i}"] = np.sum(delta, axis=0, keepdims=True)
        if i > 1:
            delta = delta.dot(params[f"W{i}"].T) * activation_prime(a_prev, activation)
    return grads'''

# names of the reference / correct example that a rewritten net.backward may lack
NET_LOCALS = ("a1", "delta3", "delta2", "dW1", "dW2", "db1", "db2", "num_examples")
# the handout's keys are W1, b1, ...: a name dW1 is no name of the student's
DEEP_GRADS = ("dW1", "db1", "dW2", "db2", "dW3", "db3")
DEEP_LOCALS = ("a_prev", "delta", "grads", "num_examples", *DEEP_GRADS)


CASES = [
    # ---- Task 3.1: net.backward ---------------------------------------------
    Case(
        "moons",
        "net_dict_ctor_w2_transposed",
        "net",
        NET_BACKWARD,
        """def backward(model, p, cache, labels, reg_lambda=REG_LAMBDA):
    inputs, hidden = cache
    n = inputs.shape[0]
    err = p.copy()
    err[np.arange(n), labels] -= 1
    err_hidden = err.dot(model["W2"].T) * (1 - hidden**2)
    return dict(
        W1=inputs.T.dot(err_hidden) + reg_lambda * model["W1"],
        b1=err_hidden.sum(axis=0, keepdims=True),
        W2=err.T.dot(hidden) + reg_lambda * model["W2"],
        b2=err.sum(axis=0, keepdims=True),
    )""",
        {"3.1": "transposed"},
        ("probs", "y", "X", *NET_LOCALS),
    ),
    Case(
        "moons",
        "net_einsum_no_tanh_prime",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, h = cache
    d_scores = probs.copy()
    d_scores[np.arange(len(y)), y] -= 1
    d_h = np.einsum("nc,hc->nh", d_scores, model["W2"])
    grads = {
        "W2": np.einsum("nh,nc->hc", h, d_scores) + reg_lambda * model["W2"],
        "b2": d_scores.sum(axis=0, keepdims=True),
        "W1": np.einsum("nd,nh->dh", X, d_h) + reg_lambda * model["W1"],
        "b1": d_h.sum(axis=0, keepdims=True),
    }
    return grads""",
        {"3.1": "missing_derivative"},
        NET_LOCALS,
    ),
    Case(
        "moons",
        "net_onehot_whole_columns",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    x, a = cache
    dz2 = np.array(probs, copy=True)
    dz2[:, y] -= 1
    dz1 = dz2 @ model["W2"].T * (1.0 - a * a)
    grads = {"W1": x.T @ dz1, "b1": dz1.sum(0, keepdims=True),
             "W2": a.T @ dz2, "b2": dz2.sum(0, keepdims=True)}
    for w in ("W1", "W2"):
        grads[w] += reg_lambda * model[w]
    return grads""",
        {"3.1": "softmax_onehot_columns"},
        ("X", *NET_LOCALS),
    ),
    Case(
        "moons",
        "net_helper_mean_cross_entropy",
        "net",
        NET_BACKWARD,
        '''def softmax_grad(p, labels):
    """d(cross-entropy)/d(scores)"""
    onehot = np.zeros_like(p)
    onehot[np.arange(len(labels)), labels] = 1
    return (p - onehot) / len(labels)


def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    d2 = softmax_grad(probs, y)
    d1 = d2.dot(model["W2"].T) * (1 - a1 ** 2)
    dW1 = X.T.dot(d1) + reg_lambda * model["W1"]
    dW2 = a1.T.dot(d2) + reg_lambda * model["W2"]
    return {"W1": dW1, "b1": d1.sum(axis=0, keepdims=True),
            "W2": dW2, "b2": d2.sum(axis=0, keepdims=True)}''',
        {"3.1": "extra_1_over_n"},
        ("delta3", "delta2", "db1", "db2", "num_examples"),
    ),
    Case(
        "moons",
        "net_reg_loop_every_key",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1
    grads = {}
    grads["W2"] = a1.T @ delta
    grads["b2"] = delta.sum(axis=0, keepdims=True)
    delta = (delta @ model["W2"].T) * (1 - a1**2)
    grads["W1"] = X.T @ delta
    grads["b1"] = delta.sum(axis=0, keepdims=True)
    for key in grads:
        grads[key] += reg_lambda * model[key]  # L2 penalty
    return grads""",
        {"3.1": "reg_on_bias"},
        ("delta3", "delta2", "dW1", "dW2", "db1", "db2", "num_examples"),
    ),
    Case(
        "moons",
        "net_returns_dW_keys",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    g_out = probs.copy()
    g_out[range(len(y)), y] -= 1
    g_hid = g_out.dot(model["W2"].T) * (1 - a1 ** 2)
    return {
        "dW1": X.T.dot(g_hid) + reg_lambda * model["W1"],
        "db1": g_hid.sum(axis=0, keepdims=True),
        "dW2": a1.T.dot(g_out) + reg_lambda * model["W2"],
        "db2": g_out.sum(axis=0, keepdims=True),
    }""",
        {"3.1": "wrong_return"},
        ("delta3", "delta2", "dW1", "dW2", "db1", "db2", "num_examples"),
    ),
    Case(
        "moons",
        "net_sample_loop_overwrites_W1",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    W1, W2 = model["W1"], model["W2"]
    gW1, gb1 = np.zeros_like(W1), np.zeros_like(model["b1"])
    gW2, gb2 = np.zeros_like(W2), np.zeros_like(model["b2"])
    for n in range(len(X)):
        err = probs[n].copy()
        err[y[n]] -= 1
        err_h = (W2 @ err) * (1 - a1[n] ** 2)
        gW2 += np.outer(a1[n], err)
        gb2 += err
        gW1 = np.outer(X[n], err_h)
        gb1 += err_h
    return {"W1": gW1 + reg_lambda * W1, "b1": gb1, "W2": gW2 + reg_lambda * W2, "b2": gb2}""",
        {"3.1": "overwrite_not_accumulate"},
        NET_LOCALS,
    ),
    Case(
        "moons",
        "net_sample_loop_one_short",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    grads = {k: np.zeros_like(v) for k, v in model.items()}
    for i in range(len(X) - 1):
        d_out = probs[i] - np.eye(probs.shape[1])[y[i]]
        d_hid = model["W2"].dot(d_out) * (1 - a1[i] ** 2)
        grads["W2"] += np.outer(a1[i], d_out)
        grads["b2"] += d_out
        grads["W1"] += np.outer(X[i], d_hid)
        grads["b1"] += d_hid
    grads["W1"] += reg_lambda * model["W1"]
    grads["W2"] += reg_lambda * model["W2"]
    return grads""",
        {"3.1": "loop_off_by_one"},
        NET_LOCALS,
    ),
    Case(
        "moons",
        "net_output_bias_wrong_axis",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    N = X.shape[0]
    d2 = probs.copy()
    d2[np.arange(N), y] -= 1
    d1 = np.dot(d2, model["W2"].T) * (1 - np.square(a1))
    return dict(
        W1=np.dot(X.T, d1) + reg_lambda * model["W1"],
        b1=np.sum(d1, axis=0, keepdims=True),
        W2=np.dot(a1.T, d2) + reg_lambda * model["W2"],
        b2=np.sum(d2, axis=1, keepdims=True),
    )""",
        {"3.1": "bias_wrong_axis"},
        NET_LOCALS,
    ),
    Case(
        "moons",
        "net_target_minus_probs",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    T = np.eye(probs.shape[1])[y]
    err = T - probs  # error = target - output
    err_h = err @ model["W2"].T * (1 - a1 ** 2)
    dW2 = a1.T @ err + reg_lambda * model["W2"]
    dW1 = X.T @ err_h + reg_lambda * model["W1"]
    return {"W1": dW1, "b1": err_h.sum(axis=0, keepdims=True),
            "W2": dW2, "b2": err.sum(axis=0, keepdims=True)}""",
        {"3.1": "sign_flip"},
        ("delta3", "delta2", "db1", "db2", "num_examples"),
    ),
    Case(
        "moons",
        "net_probs_handed_down",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    d_out = probs.copy()
    d_out[np.arange(len(y)), y] -= 1
    d_hidden = probs.dot(model["W2"].T) * (1 - a1 ** 2)
    grads = dict()
    grads["W1"] = X.T.dot(d_hidden) + reg_lambda * model["W1"]
    grads["b1"] = d_hidden.sum(axis=0, keepdims=True)
    grads["W2"] = a1.T.dot(d_out) + reg_lambda * model["W2"]
    grads["b2"] = d_out.sum(axis=0, keepdims=True)
    return grads""",
        {"3.1": "forward_value_handed_down"},
        NET_LOCALS,
    ),
    # ---- Task 3.2: deep.activation_prime (and its cascade into 3.3) ---------
    Case(
        "moons",
        "deep_prime_sech_squared",
        "deep",
        ACTIVATION_PRIME,
        """def activation_prime(a, activation):
    derivs = {
        "tanh": lambda out: 1.0 / np.cosh(out) ** 2,  # tanh' = sech^2
        "sigmoid": lambda out: out * (1.0 - out),
        "relu": lambda out: np.where(out > 0, 1.0, 0.0),
    }
    if activation not in derivs:
        raise ValueError(activation)
    return derivs[activation](a)""",
        {"3.2": "tanh_applied_twice", "3.3": "cascade"},
    ),
    Case(
        "moons",
        "deep_prime_sigmoid_sign",
        "deep",
        ACTIVATION_PRIME,
        """def activation_prime(a, activation):
    if activation == "relu":
        return np.where(a > 0, 1.0, 0.0)
    elif activation == "tanh":
        return 1.0 - a * a
    elif activation == "sigmoid":
        return a * (a - 1.0)
    raise ValueError("unknown activation: " + activation)""",
        {"3.2": "sign_flip", "3.3": "cascade"},
    ),
    # ---- Task 3.3: deep.backward --------------------------------------------
    Case(
        "moons",
        "deep_dW_transposed",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    L = num_layers(params)
    g = probs - np.eye(probs.shape[1])[y]
    out = {}
    for layer in range(L, 0, -1):
        W = params["W" + str(layer)]
        inp = cache[layer - 1]
        out["W" + str(layer)] = g.T @ inp + reg_lambda * W
        out["b" + str(layer)] = g.sum(axis=0, keepdims=True)
        if layer > 1:
            g = (g @ W.T) * activation_prime(inp, activation)
    return out""",
        {"3.3": "transposed"},
        DEEP_LOCALS,
    ),
    Case(
        "moons",
        "deep_relu_mask_from_upstream",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    n_layers = len(params) // 2
    dz = probs.copy()
    dz[np.arange(len(y)), y] -= 1
    grads = {}
    for l in reversed(range(1, n_layers + 1)):
        a_in = cache[l - 1]
        grads[f"W{l}"] = a_in.T @ dz + reg_lambda * params[f"W{l}"]
        grads[f"b{l}"] = dz.sum(axis=0, keepdims=True)
        if l == 1:
            break
        da = dz @ params[f"W{l}"].T
        if activation == "relu":
            dz = np.where(da > 0, da, 0.0)
        else:
            dz = da * activation_prime(a_in, activation)
    return grads""",
        {"3.3": "relu_mask_on_dout"},
        ("a_prev", "delta", "num_examples", *DEEP_GRADS),
    ),
    Case(
        "moons",
        "deep_while_loop_skips_first_layer",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    i = num_layers(params)
    d = probs.copy()
    d[range(len(y)), y] -= 1
    grads = {}
    while i > 1:
        grads["W%d" % i] = cache[i - 1].T.dot(d) + reg_lambda * params["W%d" % i]
        grads["b%d" % i] = d.sum(axis=0, keepdims=True)
        d = d.dot(params["W%d" % i].T) * activation_prime(cache[i - 1], activation)
        i -= 1
    return grads""",
        {"3.3": "layer_skipped"},
        ("a_prev", "delta", "num_examples", *DEEP_GRADS),
    ),
    Case(
        "moons",
        "deep_helper_no_keepdims",
        "deep",
        DEEP_BACKWARD,
        '''def _layer_grads(d, a_in, W, lam):
    """gradients of one affine layer"""
    return a_in.T @ d + lam * W, d.sum(axis=0)


def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    L = num_layers(params)
    d = probs.copy()
    d[np.arange(len(y)), y] -= 1
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"], grads[f"b{k}"] = _layer_grads(d, cache[k - 1], params[f"W{k}"], reg_lambda)
        if k > 1:
            d = d @ params[f"W{k}"].T * activation_prime(cache[k - 1], activation)
    return grads''',
        {"3.3": "bias_shape"},
        ("a_prev", "delta", "num_examples", *DEEP_GRADS),
    ),
    Case(
        "moons",
        "deep_reg_halved",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    grads = {}
    delta = probs - np.eye(probs.shape[1])[y]
    layers = list(range(1, num_layers(params) + 1))
    for k in layers[::-1]:
        a_prev = cache[k - 1]
        W = params["W" + str(k)]
        # d/dW of reg_lambda/2 * |W|^2
        grads["W" + str(k)] = np.dot(a_prev.T, delta) + reg_lambda / 2 * W
        grads["b" + str(k)] = np.sum(delta, axis=0, keepdims=True)
        delta = np.dot(delta, W.T) * activation_prime(a_prev, activation)
    return grads""",
        {"3.3": "reg_halved"},
        ("num_examples", *DEEP_GRADS),
    ),
    Case(
        "moons",
        "deep_probs_changed_in_place",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    n = probs.shape[0]
    probs[np.arange(n), y] -= 1  # now probs is dL/dscores
    err = probs
    grads = {}
    for i in reversed(range(1, num_layers(params) + 1)):
        x_in = cache[i - 1]
        grads[f"W{i}"] = x_in.T.dot(err) + reg_lambda * params[f"W{i}"]
        grads[f"b{i}"] = err.sum(axis=0, keepdims=True)
        if i > 1:
            err = err.dot(params[f"W{i}"].T) * activation_prime(x_in, activation)
    return grads""",
        {"3.3": "modified_input"},
        DEEP_LOCALS,
    ),
    # ---- right code written differently: must pass ---------------------------
    Case(
        "moons",
        "net_right_sample_loop_add_at",
        "net",
        NET_BACKWARD,
        """def backward(model, probs, cache, y, reg_lambda=REG_LAMBDA):
    X, a1 = cache
    d_scores = probs.copy()
    np.add.at(d_scores, (np.arange(len(y)), y), -1.0)
    grads = {name: np.zeros_like(value) for name, value in model.items()}
    for n in range(len(X)):
        d_hidden = model["W2"] @ d_scores[n] * (1.0 - a1[n] * a1[n])
        grads["W2"] += np.outer(a1[n], d_scores[n])
        grads["b2"] += d_scores[n]
        grads["W1"] += np.outer(X[n], d_hidden)
        grads["b1"] += d_hidden
    for name in ("W1", "W2"):
        grads[name] += reg_lambda * model[name]
    return grads""",
        {"3.1": "passed"},
    ),
    Case(
        "moons",
        "deep_right_relu_from_preactivation",
        "deep",
        DEEP_BACKWARD,
        """def backward(params, probs, cache, y, activation="tanh", reg_lambda=0.01):
    L = num_layers(params)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1.0
    delta = probs - onehot
    grads = {}
    for i in reversed(range(1, L + 1)):
        a_in = cache[i - 1]
        grads[f"W{i}"] = np.einsum("nj,nk->jk", a_in, delta) + reg_lambda * params[f"W{i}"]
        grads[f"b{i}"] = delta.sum(axis=0)[None, :]
        if i > 1:
            upstream = delta @ params[f"W{i}"].T
            if activation == "relu":
                z = cache[i - 2] @ params[f"W{i - 1}"] + params[f"b{i - 1}"]
                delta = np.where(z > 0, upstream, 0.0)
            else:
                delta = upstream * activation_prime(a_in, activation)
    return grads""",
        {"3.3": "passed"},
    ),
    Case(
        "moons",
        "deep_right_prime_dtype_preserving",
        "deep",
        ACTIVATION_PRIME,
        """def activation_prime(a, activation):
    a = np.asarray(a)
    one = np.ones((), dtype=a.dtype)
    if activation == "tanh":
        return one - a * a
    if activation == "sigmoid":
        return a - a ** 2
    if activation == "relu":
        return np.greater(a, 0).astype(a.dtype)
    raise ValueError("activation must be tanh, sigmoid or relu, not %r" % (activation,))""",
        {"3.2": "passed", "3.3": "passed"},
    ),
]
