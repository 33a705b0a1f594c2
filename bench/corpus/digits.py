"""Digits (seed 001) submissions written in students' own styles: each rewrites one
whole function of the `correct` example (network.py: sigmoid_prime 4.1,
Network.backward 4.2, Network.backward_vectorized 4.3; mlp.py:
softmax_ce_backward 4.4, mse_backward 4.5, linear_backward 4.6,
activation_backward 4.7, MLP.backward 4.8) with one mistake, or with none
(expect "passed").
"""

# ruff: noqa: E501  (the `old` strings are exact copies of the example's lines)

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diagnosis_corpus import Case

# ---- the functions of the `correct` example, as they are there -------------

SIGMOID_PRIME = '''def sigmoid_prime(x: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at the pre-activation x.

    Task 4.1 (2 points).
    x: any shape. Returns sigmoid'(x), same shape.
    """
    s = sigmoid(x)
    return s * (1.0 - s)'''

NETWORK_BACKWARD = '''    def backward(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, float]:
        """Per-sample backpropagation, as in the seed: ``for x, y in zip(X_batch, y_batch)``,
        accumulate each sample's gradients, then divide by the batch size.

        Task 4.2 (5 points).
        X_batch: (N, 3), y_batch: (N, 1). Sets grads_W1 (3, 4), grads_b1 (4,),
        grads_W2 (4, 1), grads_b2 (1,) to the gradient of ``loss``; does not update
        the weights. Returns (batch_loss, batch_acc), both means over the batch; a
        sample counts as correct when (a2 > 0.5) equals y.
        """
        batch_size = 0
        batch_loss = 0.0
        batch_acc = 0.0
        self.grads_W2 = np.zeros_like(self.W2)
        self.grads_b2 = np.zeros_like(self.b2)
        self.grads_W1 = np.zeros_like(self.W1)
        self.grads_b1 = np.zeros_like(self.b1)
        for x, y in zip(X_batch, y_batch, strict=True):
            z1 = np.matmul(x, self.W1) + self.b1
            a1 = sigmoid(z1)
            z2 = np.matmul(a1, self.W2) + self.b2
            a2 = sigmoid(z2)
            loss = 0.5 * np.sum((a2 - y) ** 2)
            delta_L = (a2 - y) * sigmoid_prime(z2)
            delta_l = np.matmul(self.W2, delta_L) * sigmoid_prime(z1)
            self.grads_W2 += np.outer(a1, delta_L)
            self.grads_b2 += delta_L
            self.grads_W1 += np.outer(x, delta_l)
            self.grads_b1 += delta_l
            batch_size += 1
            batch_loss += loss
            batch_acc += 1 if y[0] == (1 if a2[0] > 0.5 else 0) else 0
        self.grads_W2 /= batch_size
        self.grads_b2 /= batch_size
        self.grads_W1 /= batch_size
        self.grads_b1 /= batch_size
        return batch_loss / batch_size, batch_acc / batch_size'''

BACKWARD_VECTORIZED = '''    def backward_vectorized(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, float]:
        """Same contract and results as ``backward``, with matrix operations over the
        whole batch instead of a Python loop.

        Task 4.3 (4 points).
        X_batch: (N, 3), y_batch: (N, 1). Sets grads_W1 (3, 4), grads_b1 (4,),
        grads_W2 (4, 1), grads_b2 (1,). Returns (batch_loss, batch_acc).
        """
        n = X_batch.shape[0]
        z1 = X_batch @ self.W1 + self.b1
        a1 = sigmoid(z1)
        z2 = a1 @ self.W2 + self.b2
        a2 = sigmoid(z2)
        delta_L = (a2 - y_batch) * sigmoid_prime(z2)
        delta_l = (delta_L @ self.W2.T) * sigmoid_prime(z1)
        self.grads_W2 = a1.T @ delta_L / n
        self.grads_b2 = delta_L.sum(axis=0) / n
        self.grads_W1 = X_batch.T @ delta_l / n
        self.grads_b1 = delta_l.sum(axis=0) / n
        batch_loss = 0.5 * np.sum((a2 - y_batch) ** 2) / n
        batch_acc = np.mean((a2 > 0.5) == y_batch)
        return batch_loss, batch_acc'''

LINEAR_BACKWARD = '''def linear_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of out = x @ W + b.

    Task 4.6 (3 points).
    dout: (N, H). cache: (x (N, D), W (D, H)). Returns dx (N, D), dW (D, H), db (H,).
    """
    x, W = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dW, db'''

ACTIVATION_BACKWARD = '''def activation_backward(da: np.ndarray, cache: tuple[str, np.ndarray]) -> np.ndarray:
    """Backward pass of a = f(z), written with the output a.

    Task 4.7 (3 points).
    da: upstream gradient, same shape as a. cache: (kind, a).
    Returns dz, same shape (ReLU: 0 where a == 0).
    """
    kind, a = cache
    if kind == "sigmoid":
        return da * a * (1 - a)
    if kind == "tanh":
        return da * (1 - a**2)
    if kind == "relu":
        return da * (a > 0)
    raise ValueError(f"unknown activation {kind!r}")'''

SOFTMAX_CE_BACKWARD = '''def softmax_ce_backward(cache: Cache) -> np.ndarray:
    """Gradient of the mean softmax cross-entropy with respect to the scores.

    Task 4.4 (3 points).
    cache: (probs (N, C), y (N,)). Returns dscores (N, C).
    """
    probs, y = cache
    N = probs.shape[0]
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return dscores'''

MSE_BACKWARD = '''def mse_backward(cache: Cache) -> np.ndarray:
    """Gradient of 0.5 * sum((scores - one_hot)**2) / N with respect to the scores.

    Task 4.5 (2 points).
    cache: (scores (N, C), one_hot (N, C)). Returns dscores (N, C).
    """
    scores, one_hot = cache
    return (scores - one_hot) / scores.shape[0]'''

MLP_BACKWARD = '''    def backward(
        self, dscores: np.ndarray, caches: list[Cache]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Backpropagate dscores through every layer, last to first.

        Task 4.8 (5 points).
        dscores: (N, n_classes); caches: from forward.
        Returns (dW, db): lists in layer order, shapes matching self.W and self.b.
        """
        dW = [None] * len(self.W)
        db = [None] * len(self.b)
        (lin_cache,) = caches[-1]
        dout, dW[-1], db[-1] = linear_backward(dscores, lin_cache)
        for i in range(len(caches) - 2, -1, -1):
            lin_cache, act_cache = caches[i]
            dz = activation_backward(dout, act_cache)
            dout, dW[i], db[i] = linear_backward(dz, lin_cache)
        return dW, db'''

# names of the reference / correct example that a rewritten function may lack
# (batch_loss, batch_acc, z1, a1, z2, a2 are the handout's own words, and dscores, dx, dW, db
# its return names: those may be used)
LOOP_LOCALS = ("delta_L", "delta_l", "batch_size")
MLP_LOCALS = ("dout", "dz", "lin_cache", "act_cache")


CASES = [
    # ---- Task 4.1: sigmoid_prime, and its cascade into 4.2 and 4.3 ---------
    Case(
        "digits",
        "sigmoid_prime_sign_flipped",
        "network",
        SIGMOID_PRIME,
        """def sigmoid_prime(x):
    sig = 1.0 / (1.0 + np.exp(-x))
    return sig * (sig - 1.0)""",
        {"4.1": "sign_flip", "4.2": "cascade", "4.3": "cascade"},
    ),
    # ---- Task 4.2: the per-sample loop ---------------------------------------
    Case(
        "digits",
        "loop_index_one_short",
        "network",
        NETWORK_BACKWARD,
        """    def backward(self, X, Y):
        N = len(X)
        gW1, gb1 = np.zeros_like(self.W1), np.zeros_like(self.b1)
        gW2, gb2 = np.zeros_like(self.W2), np.zeros_like(self.b2)
        total_loss = 0.0
        correct = 0
        for i in range(N - 1):
            x, t = X[i], Y[i]
            h = sigmoid(x @ self.W1 + self.b1)
            out = sigmoid(h @ self.W2 + self.b2)
            total_loss += 0.5 * np.sum((out - t) ** 2)
            correct += int((out[0] > 0.5) == t[0])
            d_out = (out - t) * out * (1 - out)
            d_h = (self.W2 @ d_out) * h * (1 - h)
            gW2 += np.outer(h, d_out)
            gb2 += d_out
            gW1 += np.outer(x, d_h)
            gb1 += d_h
        self.grads_W1, self.grads_b1 = gW1 / N, gb1 / N
        self.grads_W2, self.grads_b2 = gW2 / N, gb2 / N
        return total_loss / N, correct / N""",
        {"4.2": "loop_off_by_one"},
        ("X_batch", "y_batch", *LOOP_LOCALS),
    ),
    Case(
        "digits",
        "loop_enumerate_overwrites_hidden",
        "network",
        NETWORK_BACKWARD,
        """    def backward(self, X_batch, y_batch):
        for name in ("W1", "b1", "W2", "b2"):
            setattr(self, "grads_" + name, np.zeros_like(getattr(self, name)))
        loss_sum, hits = 0.0, 0
        for k, (x, y) in enumerate(zip(X_batch, y_batch)):
            z1 = x @ self.W1 + self.b1
            a1 = sigmoid(z1)
            z2 = a1 @ self.W2 + self.b2
            a2 = sigmoid(z2)
            d2 = (a2 - y) * sigmoid_prime(z2)
            d1 = (self.W2 @ d2) * sigmoid_prime(z1)
            self.grads_W2 += np.outer(a1, d2)
            self.grads_b2 += d2
            self.grads_W1 = np.outer(x, d1)
            self.grads_b1 = d1
            loss_sum += 0.5 * float(np.sum((a2 - y) ** 2))
            hits += int((a2[0] > 0.5) == bool(y[0]))
        m = k + 1
        self.grads_W1 /= m
        self.grads_b1 /= m
        self.grads_W2 /= m
        self.grads_b2 /= m
        return loss_sum / m, hits / m""",
        {"4.2": "overwrite_not_accumulate"},
        LOOP_LOCALS,
    ),
    Case(
        "digits",
        "loop_divides_by_n_twice",
        "network",
        NETWORK_BACKWARD,
        """    def backward(self, X_batch, y_batch):
        n = len(X_batch)
        self.grads_W1 = np.zeros_like(self.W1)
        self.grads_b1 = np.zeros_like(self.b1)
        self.grads_W2 = np.zeros_like(self.W2)
        self.grads_b2 = np.zeros_like(self.b2)
        batch_loss, batch_acc = 0.0, 0.0
        for x, y in zip(X_batch, y_batch):
            z1 = np.dot(x, self.W1) + self.b1
            a1 = sigmoid(z1)
            z2 = np.dot(a1, self.W2) + self.b2
            a2 = sigmoid(z2)
            delta_L = (a2 - y) * sigmoid_prime(z2)
            delta_l = np.dot(self.W2, delta_L) * sigmoid_prime(z1)
            # average over the batch as we go
            self.grads_W2 += np.outer(a1, delta_L) / n
            self.grads_b2 += delta_L / n
            self.grads_W1 += np.outer(x, delta_l) / n
            self.grads_b1 += delta_l / n
            batch_loss += 0.5 * np.sum((a2 - y) ** 2) / n
            batch_acc += float((a2[0] > 0.5) == y[0]) / n
        self.grads_W2 /= n
        self.grads_b2 /= n
        self.grads_W1 /= n
        self.grads_b1 /= n
        return batch_loss, batch_acc""",
        {"4.2": "extra_1_over_n"},
        ("batch_size",),
    ),
    Case(
        "digits",
        "loop_row_vectors_no_hidden_derivative",
        "network",
        NETWORK_BACKWARD,
        """    def backward(self, X_batch, y_batch):
        m = X_batch.shape[0]
        self.grads_W1 = np.zeros(self.W1.shape)
        self.grads_b1 = np.zeros(self.b1.shape)
        self.grads_W2 = np.zeros(self.W2.shape)
        self.grads_b2 = np.zeros(self.b2.shape)
        loss = acc = 0.0
        for i in range(m):
            x = X_batch[i : i + 1]  # (1, 3)
            t = y_batch[i : i + 1]  # (1, 1)
            z1 = x @ self.W1 + self.b1
            a1 = sigmoid(z1)
            z2 = a1 @ self.W2 + self.b2
            a2 = sigmoid(z2)
            d2 = (a2 - t) * sigmoid_prime(z2)  # (1, 1)
            d1 = d2 @ self.W2.T  # (1, 4)
            self.grads_W2 += a1.T @ d2
            self.grads_b2 += d2[0]
            self.grads_W1 += x.T @ d1
            self.grads_b1 += d1[0]
            loss += 0.5 * np.sum((a2 - t) ** 2)
            acc += float((a2[0, 0] > 0.5) == t[0, 0])
        for name in ("grads_W1", "grads_b1", "grads_W2", "grads_b2"):
            setattr(self, name, getattr(self, name) / m)
        return loss / m, acc / m""",
        {"4.2": "missing_derivative"},
        LOOP_LOCALS,
    ),
    # ---- Task 4.3: the vectorized twin ---------------------------------------
    Case(
        "digits",
        "vectorized_output_handed_down",
        "network",
        BACKWARD_VECTORIZED,
        """    def backward_vectorized(self, X_batch, y_batch):
        N = len(X_batch)
        z1 = X_batch.dot(self.W1) + self.b1
        a1 = sigmoid(z1)
        z2 = a1.dot(self.W2) + self.b2
        a2 = sigmoid(z2)
        err2 = (a2 - y_batch) * sigmoid_prime(z2)
        err1 = a2.dot(self.W2.T) * sigmoid_prime(z1)
        self.grads_W2 = a1.T.dot(err2) / N
        self.grads_b2 = err2.mean(axis=0)
        self.grads_W1 = X_batch.T.dot(err1) / N
        self.grads_b1 = err1.mean(axis=0)
        return 0.5 * np.sum((a2 - y_batch) ** 2) / N, np.mean((a2 > 0.5) == y_batch)""",
        {"4.3": "forward_value_handed_down"},
        LOOP_LOCALS,
    ),
    Case(
        "digits",
        "vectorized_hidden_bias_mean_over_units",
        "network",
        BACKWARD_VECTORIZED,
        """    def backward_vectorized(self, X_batch, y_batch):
        a1 = sigmoid(X_batch @ self.W1 + self.b1)
        a2 = sigmoid(a1 @ self.W2 + self.b2)
        g2 = (a2 - y_batch) * a2 * (1 - a2)
        g1 = (g2 @ self.W2.T) * a1 * (1 - a1)
        self.grads_W2 = np.mean(a1[:, :, None] * g2[:, None, :], axis=0)
        self.grads_b2 = np.mean(g2, axis=0)
        self.grads_W1 = np.mean(X_batch[:, :, None] * g1[:, None, :], axis=0)
        self.grads_b1 = np.mean(g1, axis=1)
        loss = 0.5 * np.mean(np.sum((a2 - y_batch) ** 2, axis=1))
        return loss, np.mean((a2 > 0.5) == y_batch)""",
        {"4.3": "bias_wrong_axis"},
        LOOP_LOCALS,
    ),
    Case(
        "digits",
        "vectorized_w2_transposed",
        "network",
        BACKWARD_VECTORIZED,
        """    def backward_vectorized(self, X, Y):
        n = X.shape[0]
        z1 = X @ self.W1 + self.b1
        a1 = sigmoid(z1)
        z2 = a1 @ self.W2 + self.b2
        a2 = sigmoid(z2)
        dz2 = (a2 - Y) * sigmoid_prime(z2)
        dz1 = dz2 @ self.W2.T * sigmoid_prime(z1)
        self.grads_W2 = dz2.T @ a1 / n
        self.grads_b2 = dz2.sum(axis=0) / n
        self.grads_W1 = X.T @ dz1 / n
        self.grads_b1 = dz1.sum(axis=0) / n
        return 0.5 * np.sum((a2 - Y) ** 2) / n, np.mean((a2 > 0.5) == Y)""",
        {"4.3": "transposed"},
        ("X_batch", "y_batch", *LOOP_LOCALS),
    ),
    Case(
        "digits",
        "vectorized_w1_reshaped_not_transposed",
        "network",
        BACKWARD_VECTORIZED,
        """    def backward_vectorized(self, X_batch, y_batch):
        n = X_batch.shape[0]
        z1 = X_batch @ self.W1 + self.b1
        a1 = sigmoid(z1)
        z2 = a1 @ self.W2 + self.b2
        a2 = sigmoid(z2)
        delta_L = (a2 - y_batch) * sigmoid_prime(z2)
        delta_l = (delta_L @ self.W2.T) * sigmoid_prime(z1)
        self.grads_W2 = a1.T @ delta_L / n
        self.grads_b2 = delta_L.sum(axis=0) / n
        # delta_l.T @ X_batch had the wrong shape, so make it fit
        self.grads_W1 = (delta_l.T @ X_batch).reshape(self.W1.shape) / n
        self.grads_b1 = delta_l.sum(axis=0) / n
        batch_loss = 0.5 * np.sum((a2 - y_batch) ** 2) / n
        batch_acc = np.mean((a2 > 0.5) == y_batch)
        return batch_loss, batch_acc""",
        {"4.3": "transposed"},
    ),
    Case(
        "digits",
        "vectorized_einsum_returns_acc_first",
        "network",
        BACKWARD_VECTORIZED,
        """    def backward_vectorized(self, X, Y):
        n = len(X)
        a1 = sigmoid(X @ self.W1 + self.b1)
        a2 = sigmoid(a1 @ self.W2 + self.b2)
        e2 = (a2 - Y) * a2 * (1 - a2)
        e1 = np.einsum("nk,jk->nj", e2, self.W2) * a1 * (1 - a1)
        self.grads_W2 = np.einsum("nj,nk->jk", a1, e2) / n
        self.grads_b2 = e2.mean(axis=0)
        self.grads_W1 = np.einsum("ni,nj->ij", X, e1) / n
        self.grads_b1 = e1.mean(axis=0)
        acc = np.mean((a2 > 0.5) == Y)
        return acc, 0.5 * np.mean(np.sum((a2 - Y) ** 2, axis=1))""",
        {"4.3": "return_order"},
        ("X_batch", "y_batch", *LOOP_LOCALS),
    ),
    # ---- Task 4.4 / 4.5: loss gradients ----------------------------------------
    Case(
        "digits",
        "softmax_onehot_after_dividing",
        "mlp",
        SOFTMAX_CE_BACKWARD,
        """def softmax_ce_backward(cache):
    p, labels = cache
    grad = p / len(labels)
    grad[np.arange(len(labels)), labels] -= 1
    return grad""",
        {"4.4": "softmax_onehot_after_mean"},
        ("probs", "y"),
    ),
    Case(
        "digits",
        "softmax_eye_no_mean",
        "mlp",
        SOFTMAX_CE_BACKWARD,
        """def softmax_ce_backward(cache):
    probs, y = cache
    one_hot = np.eye(probs.shape[1])[y]
    return probs - one_hot""",
        {"4.4": "missing_1_over_n"},
    ),
    Case(
        "digits",
        "mse_divides_by_size",
        "mlp",
        MSE_BACKWARD,
        """def mse_backward(cache):
    s, t = cache
    return (s - t) / s.size""",
        {"4.5": "constant_factor"},
        ("scores", "one_hot"),
    ),
    # ---- Task 4.6 / 4.7: layers, and their cascades into 4.8 ------------------
    Case(
        "digits",
        "linear_dx_transposed",
        "mlp",
        LINEAR_BACKWARD,
        """def linear_backward(dout, cache):
    x, W = cache
    return np.dot(W, dout.T), np.dot(x.T, dout), dout.sum(axis=0)""",
        {"4.6": "transposed", "4.8": "cascade"},
    ),
    Case(
        "digits",
        "linear_returns_dW_db_dx",
        "mlp",
        LINEAR_BACKWARD,
        """def linear_backward(dout, cache):
    inp, weights = cache
    grad_w = inp.T.dot(dout)
    grad_b = dout.sum(0)
    grad_in = dout.dot(weights.T)
    return grad_w, grad_b, grad_in""",
        {"4.6": "return_order", "4.8": "cascade"},
    ),
    Case(
        "digits",
        "activation_relu_mask_from_da",
        "mlp",
        ACTIVATION_BACKWARD,
        """def activation_backward(da, cache):
    kind, out = cache
    if kind == "relu":
        return np.where(da > 0, da, 0.0)
    if kind == "tanh":
        return da * (1.0 - out * out)
    if kind == "sigmoid":
        return da * out * (1.0 - out)
    raise ValueError(kind)""",
        {"4.7": "relu_mask_on_dout", "4.8": "cascade"},
    ),
    Case(
        "digits",
        "activation_forgets_da",
        "mlp",
        ACTIVATION_BACKWARD,
        """def activation_backward(da, cache):
    kind, a = cache
    if kind == "sigmoid":
        grad = a * (1 - a)
    elif kind == "tanh":
        grad = 1 - np.square(a)
    elif kind == "relu":
        grad = np.where(a > 0, 1.0, 0.0)
    else:
        raise ValueError("bad activation " + kind)
    return grad""",
        {"4.7": "dout_ignored", "4.8": "cascade"},
    ),
    # ---- Task 4.8: MLP.backward ------------------------------------------------
    Case(
        "digits",
        "mlp_appends_never_reverses",
        "mlp",
        MLP_BACKWARD,
        """    def backward(self, dscores, caches):
        grads_W, grads_b = [], []
        upstream = dscores
        for layer_cache in reversed(caches):
            if len(layer_cache) == 2:
                lin, act = layer_cache
                upstream = activation_backward(upstream, act)
            else:
                (lin,) = layer_cache
            upstream, gW, gb = linear_backward(upstream, lin)
            grads_W.append(gW)
            grads_b.append(gb)
        return grads_W, grads_b""",
        {"4.8": "not_reversed"},
        MLP_LOCALS,
    ),
    Case(
        "digits",
        "mlp_range_stops_at_layer_one",
        "mlp",
        MLP_BACKWARD,
        """    def backward(self, grad_scores, cache_list):
        L = len(self.W)
        dW = [np.zeros_like(W) for W in self.W]
        db = [np.zeros_like(b) for b in self.b]
        g, dW[L - 1], db[L - 1] = linear_backward(grad_scores, cache_list[L - 1][0])
        for l in range(L - 2, 0, -1):
            lin_c, act_c = cache_list[l]
            g = activation_backward(g, act_c)
            g, dW[l], db[l] = linear_backward(g, lin_c)
        return dW, db""",
        {"4.8": "layer_skipped"},
        ("dscores", "caches", *MLP_LOCALS),
    ),
    Case(
        "digits",
        "mlp_activation_of_its_output",
        "mlp",
        MLP_BACKWARD,
        """    def backward(self, dscores, caches):
        n = len(caches)
        dW, db = [None] * n, [None] * n
        grad = dscores
        for i in reversed(range(n)):
            if i == n - 1:
                grad, dW[i], db[i] = linear_backward(grad, caches[i][0])
            else:
                lin_cache, act_cache = caches[i]
                grad = activation_backward(act_cache[1], act_cache)
                grad, dW[i], db[i] = linear_backward(grad, lin_cache)
        return dW, db""",
        {"4.8": "forward_value_handed_down"},
        ("dout", "dz"),
    ),
    Case(
        "digits",
        "mlp_inline_relu_mask_from_input",
        "mlp",
        MLP_BACKWARD,
        """    def backward(self, dscores, caches):
        dW = [None] * len(self.W)
        db = [None] * len(self.b)
        dout, dW[-1], db[-1] = linear_backward(dscores, caches[-1][0])
        for i in reversed(range(len(self.W) - 1)):
            (x, W), (kind, a) = caches[i]
            if kind == "relu":
                dz = dout * (x > 0)
            else:
                dz = activation_backward(dout, (kind, a))
            dout, dW[i], db[i] = linear_backward(dz, (x, W))
        return dW, db""",
        {"4.8": "mask_wrong_tensor"},
        ("lin_cache", "act_cache"),
    ),
    # ---- right code written differently: must pass ---------------------------
    Case(
        "digits",
        "right_sigmoid_prime_expit_form",
        "network",
        SIGMOID_PRIME,
        """def sigmoid_prime(x):
    e = np.exp(-x)
    return e / (1.0 + e) ** 2""",
        {"4.1": "passed", "4.2": "passed", "4.3": "passed"},
    ),
    Case(
        "digits",
        "right_loop_broadcast_outer",
        "network",
        NETWORK_BACKWARD,
        """    def backward(self, X_batch, y_batch):
        n = len(X_batch)
        gW1 = np.zeros_like(self.W1)
        gb1 = np.zeros_like(self.b1)
        gW2 = np.zeros_like(self.W2)
        gb2 = np.zeros_like(self.b2)
        losses, hits = [], []
        for idx in range(n):
            x, y = X_batch[idx], y_batch[idx]
            z1 = x @ self.W1 + self.b1
            a1 = sigmoid(z1)
            z2 = a1 @ self.W2 + self.b2
            a2 = sigmoid(z2)
            d2 = (a2 - y) * sigmoid_prime(z2)
            d1 = np.einsum("jk,k->j", self.W2, d2) * sigmoid_prime(z1)
            gW2 += a1[:, None] * d2[None, :]
            gb2 += d2
            gW1 += x[:, None] * d1[None, :]
            gb1 += d1
            losses.append(0.5 * np.sum((a2 - y) ** 2))
            hits.append(float((a2[0] > 0.5) == y[0]))
        self.grads_W1, self.grads_b1 = gW1 / n, gb1 / n
        self.grads_W2, self.grads_b2 = gW2 / n, gb2 / n
        return sum(losses) / n, sum(hits) / n""",
        {"4.2": "passed"},
    ),
    Case(
        "digits",
        "right_mlp_insert_front",
        "mlp",
        MLP_BACKWARD,
        """    def backward(self, dscores, caches):
        grads_W, grads_b = [], []
        g = dscores
        for depth, layer_cache in enumerate(reversed(caches)):
            if depth > 0:
                g = activation_backward(g, layer_cache[1])
            g, gW, gb = linear_backward(g, layer_cache[0])
            grads_W.insert(0, gW)
            grads_b.insert(0, gb)
        return grads_W, grads_b""",
        {"4.8": "passed"},
    ),
    Case(
        "digits",
        "right_linear_dtype_preserving",
        "mlp",
        LINEAR_BACKWARD,
        """def linear_backward(dout, cache):
    x, W = cache
    return np.dot(dout, W.T), np.dot(x.T, dout), dout.sum(axis=0, dtype=dout.dtype)""",
        {"4.6": "passed", "4.8": "passed"},
    ),
    Case(
        "digits",
        "right_softmax_eye_float32",
        "mlp",
        SOFTMAX_CE_BACKWARD,
        """def softmax_ce_backward(cache):
    probs, y = cache
    n, c = probs.shape
    return (probs - np.eye(c, dtype=probs.dtype)[y]) / np.asarray(n, dtype=probs.dtype)""",
        {"4.4": "passed"},
    ),
]
