"""Session results dicts for the report tests, with real gradient-check records."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from examples.checker.catalogue import entries, run

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@functools.cache
def record(name: str) -> dict[str, Any]:
    """``CheckResult.to_dict(error_maps=True)`` of a catalogue entry."""
    entry = next(e for e in entries() if e.name == name)
    return run(entry).result.to_dict(error_maps=True)


def moons(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, math.pi, n)
    y = (np.arange(n) % 2).astype(int)
    x = np.where(y == 0, np.cos(t), 1 - np.cos(t))
    z = np.where(y == 0, np.sin(t), 0.5 - np.sin(t))
    return np.c_[x, z] + rng.normal(0, 0.15, (n, 2)), y


def decision_boundary(classes: int = 2, cells: int = 60) -> dict[str, Any]:
    """Moons-like data with a curved boundary (three classes split the plane further)."""
    pts, labels = moons()
    x_min, x_max, y_min, y_max = -1.5, 2.5, -1.0, 1.5
    xs = np.linspace(x_min, x_max, cells)
    ys = np.linspace(y_min, y_max, cells)
    if classes > 2:
        labels = np.where(pts[:, 0] > 1.8, 2, labels)
    xx, yy = np.meshgrid(xs, ys)  # row 0 is y_min
    cells_xy = np.c_[xx.ravel(), yy.ravel()]
    near = np.argsort(((cells_xy[:, None, :] - pts[None]) ** 2).sum(-1), axis=1)[:, :9]
    votes = np.stack([(labels[near] == k).sum(1) for k in range(classes)], axis=1)
    grid = votes.argmax(1).reshape(xx.shape)  # a 9-nearest-neighbour classifier
    return {
        "x_min": x_min,
        "x_max": x_max,
        "y_min": y_min,
        "y_max": y_max,
        "grid": grid.tolist(),
        "points": [[float(a), float(b), int(c)] for (a, b), c in zip(pts, labels, strict=True)],
        "classes": classes,
    }


def loss_curve(n: int = 200, every: int = 50, diverge_at: int | None = None) -> dict[str, Any]:
    it = np.arange(n) * every
    rng = np.random.default_rng(1)
    student = 0.24 + 0.86 * np.exp(-it / 1500) + rng.normal(0, 0.004, n)
    reference = 0.25 + 0.85 * np.exp(-it / 1300)
    out: list[float | None] = [float(v) for v in student]
    if diverge_at is not None:
        out[diverge_at:] = [None] * (n - diverge_at)
    return {"student": out, "reference": reference.tolist(), "label": "loss", "every": every}


def make_test(
    nodeid: str,
    task: str,
    task_name: str,
    status: str,
    score: float,
    max_score: float,
    checks: list[dict[str, Any]] = (),  # type: ignore[assignment]
    **extra: Any,
) -> dict[str, Any]:
    message = extra.pop("message", checks[0]["message"] if checks else "")
    diagnosis = extra.pop("diagnosis", checks[0]["diagnosis"] if checks else None)
    return {
        "nodeid": nodeid,
        "name": nodeid.rsplit("::", 1)[-1],
        "task": task,
        "task_name": task_name,
        "score": score,
        "max_score": max_score,
        "status": status,
        "hidden": extra.pop("hidden", False),
        "message": message,
        "diagnosis": diagnosis,
        "checks": list(checks),
        "artifacts": extra.pop("artifacts", {}),
        "stdout": extra.pop("stdout", ""),
        "stderr": extra.pop("stderr", ""),
        "duration": extra.pop("duration", 0.0123),
    }


def session() -> dict[str, Any]:
    """A realistic session of the layers + moons homework: every kind of test result."""
    f = "tests/test_layers.py::"
    tests = [
        make_test(
            f + "test_linear_backward[dw]",
            "1.1",
            "linear_backward",
            "failed",
            0,
            2,
            [record("linear_dw_transposed")],
            stdout="x.shape = (3, 5)\nw.shape = (5, 7)\ndout.shape = (3, 7)\n",
        ),
        make_test(
            f + "test_linear_backward[float32]",
            "1.1",
            "linear_backward",
            "passed",
            1,
            1,
            [record("linear_float32")],
        ),
        make_test(
            f + "test_relu_backward", "1.2", "relu_backward", "passed", 2, 2, [record("relu_where")]
        ),
        make_test(
            f + "test_leaky_relu_backward",
            "1.2",
            "relu_backward",
            "failed",
            0,
            1,
            [record("leaky_relu_like_relu")],
        ),
        make_test(
            f + "test_softmax_loss",
            "1.3",
            "softmax_loss",
            "not attempted",
            0,
            2,
            [record("linear_blank")],
        ),
        make_test(
            f + "test_linear_shapes",
            "1.1",
            "linear_backward",
            "error",
            0,
            1,
            [record("linear_shape_error")],
            stderr='Traceback (most recent call last):\n  File "layers.py", line 98\n'
            "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0",
        ),
        make_test(
            "tests/test_net.py::test_two_layer_gradients",
            "2.1",
            "two_layer_net",
            "failed",
            1,
            3,
            [record("net_reg_missing")],
        ),
        make_test(
            "tests/test_moons.py::test_training_converges",
            "2.2",
            "train_moons",
            "passed",
            3,
            3,
            message="final loss 0.241 (reference 0.250); accuracy 97%",
            artifacts={"loss_curve": loss_curve(), "decision_boundary": decision_boundary()},
            stdout="".join(
                f"Loss after iteration {i}: {0.24 + 0.86 * math.exp(-i / 1500):.6f}\n"
                for i in range(0, 10000, 1000)
            ),
            duration=2.41,
        ),
        make_test(
            "tests/test_moons.py::test_hidden_relu_mask",
            "1.2",
            "relu_backward",
            "failed",
            0,
            1,
            [record("relu_mask_inverted")],
            hidden=True,
            stdout="SECRET hidden stdout",
            message="SECRET hidden message",
        ),
    ]
    tasks = [
        {
            "id": "1.1",
            "name": "linear_backward",
            "score": 1,
            "max_score": 4,
            "status": "partial",
            "message": "dw has the right values but transposed: "
            "you computed dout.T @ x instead of x.T @ dout",
        },
        {
            "id": "1.2",
            "name": "relu_backward",
            "score": 2,
            "max_score": 4,
            "status": "partial",
            "message": "leaky_relu: the negative slope is missing",
        },
        {
            "id": "1.3",
            "name": "softmax_loss",
            "score": 0,
            "max_score": 2,
            "status": "not attempted",
            "message": "not attempted yet",
        },
        {
            "id": "2.1",
            "name": "two_layer_net",
            "score": 1,
            "max_score": 3,
            "status": "failed",
            "message": "dW1 is missing the regularization gradient: add reg * W1",
        },
        {
            "id": "2.2",
            "name": "train_moons",
            "score": 3,
            "max_score": 3,
            "status": "passed",
            "message": "final loss 0.241 (reference 0.250)",
        },
    ]
    return {
        "submission": "submissions/alice_chen/layers.py",
        "assignment": "layers",
        "seed": 2024,
        "date": "2025-03-14T09:26:53+00:00",
        "score": 7.0,
        "max_score": 16.0,
        "execution_time": 4.87,
        "tasks": tasks,
        "tests": tests,
    }
