import pytest

from grader import random_array


@pytest.mark.task("1.2", points=1, name="square_backward", hidden=True)
def test_square_backward_large(student, checker):
    m = student.mini
    x = random_array((2, 3), checker.rng, scale=100.0)
    checker.layer(m.square_forward, m.square_backward, {"x": x})
