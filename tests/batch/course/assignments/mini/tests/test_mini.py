import pytest

from grader import random_array


@pytest.mark.task("1.1", points=3, name="linear_backward")
def test_linear_backward(student, checker):
    m = student.mini
    inputs = {"x": random_array((3, 5), checker.rng), "w": random_array((5, 7), checker.rng)}
    checker.layer(m.linear_forward, m.linear_backward, inputs, kind="linear")


@pytest.mark.task("1.2", points=2, name="square_backward")
def test_square_backward(student, checker):
    m = student.mini
    checker.layer(
        m.square_forward,
        m.square_backward,
        {"x": random_array((3, 4), checker.rng)},
        structure={"x": __import__("grader").ELEMENTWISE},
    )
