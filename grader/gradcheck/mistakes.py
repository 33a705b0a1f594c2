"""Classic mistakes of particular layer kinds, simulated from the check's
inputs so a student's gradient can be matched against each of them.

Each entry says what the student computed and what to compute instead. The
generic mistakes (transpose, sign, 1/N, factor 2, regularization, bias axis)
live in ``diagnose.py``; these need to know the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.gradcheck.codes import Code
from grader.gradcheck.result import Array


@dataclass(frozen=True)
class Context:
    """What the diagnosis may look at: the check's inputs, output and dout."""

    function: str
    kind: str | None = None
    inputs: dict[str, Array] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    dout: Array | None = None
    output: Array | None = None
    reg: dict[str, Array] = field(default_factory=dict)
    batch: int | None = None
    grads: tuple[str, ...] = ()

    def first_input(self) -> Array:
        return next(iter(self.inputs.values()))


@dataclass(frozen=True)
class Candidate:
    """A wrong gradient a student might have computed."""

    code: Code
    grad: str
    value: Array
    message: str


def _sigmoid(z: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _elementwise(ctx: Context) -> tuple[Array, Array, Array] | None:
    if ctx.dout is None or ctx.output is None or not ctx.inputs:
        return None
    x = ctx.first_input()
    if x.shape != ctx.output.shape:
        return None
    return x, ctx.output, ctx.dout


def _grad(ctx: Context) -> str:
    """The gradient's name: d<first input>, as the check names it."""
    return ctx.grads[0] if ctx.grads else f"d{next(iter(ctx.inputs))}"


def _sigmoid_mistakes(ctx: Context) -> list[Candidate]:
    parts = _elementwise(ctx)
    if parts is None:
        return []
    x, out, dout = parts
    g = _grad(ctx)
    twice = _sigmoid(out)
    right = "use out * (1 - out), where out = sigmoid(x)"
    return [
        Candidate(
            Code.SIGMOID_OF_PREACTIVATION,
            g,
            dout * x * (1 - x),
            f"{g} uses x * (1 - x) on the pre-activation x; {right}",
        ),
        Candidate(
            Code.SIGMOID_HALF_PREACTIVATION,
            g,
            dout * out * (1 - x),
            f"{g} uses sigmoid(x) * (1 - x), mixing the output and the input; {right}",
        ),
        Candidate(
            Code.SIGMOID_APPLIED_TWICE,
            g,
            dout * twice * (1 - twice),
            f"{g} applies sigmoid to the activation again (sigmoid_prime(out)); out is "
            f"already sigmoid(x), so {right}",
        ),
    ]


def _tanh_mistakes(ctx: Context) -> list[Candidate]:
    parts = _elementwise(ctx)
    if parts is None:
        return []
    x, out, dout = parts
    g = _grad(ctx)
    right = "use 1 - out**2, where out = tanh(x)"
    return [
        Candidate(
            Code.TANH_OF_PREACTIVATION,
            g,
            dout * (1 - x**2),
            f"{g} uses 1 - x**2 on the pre-activation x; {right}",
        ),
        Candidate(
            Code.TANH_APPLIED_TWICE,
            g,
            dout * (1 - np.tanh(out) ** 2),
            f"{g} applies tanh to the activation again (1 - tanh(out)**2); {right}",
        ),
        Candidate(
            Code.TANH_MISSING_SQUARE,
            g,
            dout * (1 - out),
            f"{g} uses 1 - out instead of 1 - out**2; {right}",
        ),
    ]


def _relu_mistakes(ctx: Context) -> list[Candidate]:
    parts = _elementwise(ctx)
    if parts is None:
        return []
    x, _, dout = parts
    g = _grad(ctx)
    right = f"keep dout where x > 0 and set it to 0 elsewhere: {g} = dout * (x > 0)"
    return [
        Candidate(
            Code.RELU_MASK_ON_DOUT,
            g,
            dout * (dout > 0),
            f"{g} masks with dout > 0, the wrong tensor; {right}",
        ),
        Candidate(
            Code.RELU_MASK_INVERTED,
            g,
            dout * (x < 0),
            f"{g} keeps dout where x < 0, the inverted inequality; {right}",
        ),
        Candidate(
            Code.RELU_NO_MASK,
            g,
            dout.copy(),
            f"{g} passes dout through without the ReLU mask; {right}",
        ),
    ]


def _leaky_relu_mistakes(ctx: Context) -> list[Candidate]:
    parts = _elementwise(ctx)
    if parts is None:
        return []
    x, _, dout = parts
    g = _grad(ctx)
    alpha = float(ctx.constants.get("alpha", 0.01))
    right = f"{g} = dout where x > 0 and alpha * dout (alpha = {alpha:g}) elsewhere"
    return [
        Candidate(
            Code.LEAKY_RELU_MISSING_SLOPE,
            g,
            dout * (x > 0),
            f"{g} is 0 where x < 0, like a plain ReLU; {right}",
        ),
        Candidate(
            Code.LEAKY_RELU_SLOPES_SWAPPED,
            g,
            dout * np.where(x > 0, alpha, 1.0),
            f"{g} has the two slopes swapped; {right}",
        ),
        Candidate(
            Code.RELU_MASK_ON_DOUT,
            g,
            dout * np.where(dout > 0, 1.0, alpha),
            f"{g} chooses the slope from dout instead of x; {right}",
        ),
    ]


def _softmax_mistakes(ctx: Context) -> list[Candidate]:
    if not ctx.inputs or "y" not in ctx.constants:
        return []
    scores = ctx.first_input()
    y = np.asarray(ctx.constants["y"])
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = scores.shape[0]
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), y] = 1.0
    grad = next(iter(ctx.inputs))
    return [
        Candidate(
            Code.SOFTMAX_NO_ONEHOT,
            f"d{grad}",
            probs / n,
            f"d{grad} is probs / N: subtract 1 at each row's correct class "
            "(probs[range(N), y] -= 1) before dividing by N",
        ),
        Candidate(
            Code.SOFTMAX_ONEHOT_WRONG_CLASS,
            f"d{grad}",
            (probs - onehot[:, ::-1]) / n,
            f"d{grad} subtracts 1 at the wrong column; use probs[range(N), y] -= 1",
        ),
    ]


def _bce_mistakes(ctx: Context) -> list[Candidate]:
    if not ctx.inputs or "y" not in ctx.constants:
        return []
    p = ctx.first_input()
    y = np.asarray(ctx.constants["y"], dtype=np.float64).reshape(p.shape)
    grad = next(iter(ctx.inputs))
    n = p.shape[0]
    return [
        Candidate(
            Code.BCE_LOGIT_GRADIENT,
            f"d{grad}",
            (p - y) / n,
            f"d{grad} is (p - y) / N, the gradient with respect to the logits; with "
            "respect to the probabilities it is (p - y) / (p * (1 - p)) / N",
        ),
    ]


MISTAKES: dict[str, Callable[[Context], list[Candidate]]] = {
    "sigmoid": _sigmoid_mistakes,
    "tanh": _tanh_mistakes,
    "relu": _relu_mistakes,
    "leaky_relu": _leaky_relu_mistakes,
    "softmax_cross_entropy": _softmax_mistakes,
    "binary_cross_entropy": _bce_mistakes,
}

# The right formula for each gradient, and its transposed slip, per kind.
FORMULAS: dict[str, dict[str, str]] = {
    "linear": {"dx": "dout @ w.T", "dw": "x.T @ dout", "db": "dout.sum(axis=0)"},
    "layer": {
        "dEdX": "(dEdY * self.gd(self.Y)) @ self.W",
        "dEdW": "(dEdY * self.gd(self.Y)).T @ self.X",
        "dEdb": "(dEdY * self.gd(self.Y)).sum(axis=0)",
    },
}
TRANSPOSED: dict[str, dict[str, str]] = {
    "linear": {"dw": "dout.T @ x", "dx": "w @ dout.T"},
    "layer": {
        "dEdW": "self.X.T @ (dEdY * self.gd(self.Y))",
        "dEdX": "self.W.T @ (dEdY * self.gd(self.Y)).T",
    },
}


def candidates(ctx: Context) -> list[Candidate]:
    """The kind-specific wrong gradients for this context (may be empty)."""
    make = MISTAKES.get(ctx.kind or "")
    return make(ctx) if make else []
