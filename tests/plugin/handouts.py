"""What the plugin's tests share: a small homework with one task of each
outcome, and pytest started in a folder as a student starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the homework's diagnosis of its linear_backward
TRANSPOSED = "dw has the right values but transposed: you computed dout.T @ x instead of x.T @ dout"
COLOUR_VARIABLES = ("PY_COLORS", "FORCE_COLOR", "NO_COLOR", "TERM")


def student_env(**extra: str) -> dict[str, str]:
    """The environment of a student's terminal: 80 columns, no colour asked for."""
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    env.update({"COLUMNS": "80", "LINES": "50", **extra})
    return env


def pytest_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` started in ``folder``, as a student would."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=student_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def words(text: str) -> str:
    """The output with its lines joined: wrapped text reads as one sentence."""
    return " ".join(text.split())


SUBMISSION = """
import numpy as np

def linear_forward(x, w, b):
    return x @ w + b, (x, w, b)

def linear_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, dout.T @ x, dout.sum(axis=0)

def relu_forward(x):
    return np.maximum(x, 0), x

def relu_backward(dout, cache):
    raise NotImplementedError("Task 1.2: implement relu_backward")

def tanh_forward(x):
    return np.tanh(x), np.tanh(x)

def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)

def crashing_helper(x):
    return x.reshape(7, 7)
"""

TESTS = """
import numpy as np
import pytest
from grader.gradcheck.inputs import random_array

@pytest.mark.task("1.1", points=3, name="linear_backward")
def test_linear(student, checker):
    s = student.homework
    inputs = {"x": random_array((3, 5), checker.rng), "w": random_array((5, 7), checker.rng),
              "b": random_array((7,), checker.rng)}
    checker.layer(s.linear_forward, s.linear_backward, inputs, kind="linear")

@pytest.mark.task("1.2", points=2, name="relu_backward")
def test_relu(student, checker):
    s = student.homework
    x = random_array((3, 7), checker.rng, kinks=(0.0,))
    checker.layer(s.relu_forward, s.relu_backward, {"x": x}, kind="relu")

@pytest.mark.task("1.3", points=2, name="tanh_backward")
def test_tanh(student, checker):
    s = student.homework
    checker.layer(s.tanh_forward, s.tanh_backward, {"x": random_array((3, 7), checker.rng)},
                  kind="tanh")

@pytest.mark.task("1.4", points=1, name="crashing_helper")
def test_crash(student):
    student.homework.crashing_helper(np.zeros(5))

@pytest.mark.task("1.5", points=1, name="hidden check", hidden=True)
def test_hidden(student):
    assert student.tanh_backward(np.ones(2), np.zeros(2)).sum() == 2.0
"""
