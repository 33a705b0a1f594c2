"""Messages in the student's own names: the handout's names mapped onto the
student's function by position, unpacking and return, and what they stand
for when the student's function has no name for them."""

from __future__ import annotations

from grader.plugin import names

HANDOUT = '''
def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx

def linear_backward(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db

class Layer:
    def backprop(self, dEdY):
        deltas = dEdY * self.gd(self.Y)
        return deltas @ self.W, deltas.T @ self.X, deltas.sum(axis=0)
'''

MESSAGE = "dx masks with dout > 0, the wrong tensor; keep dout where x > 0: dx = dout * (x > 0)"


def say(student_source: str, qualname: str, text: str, grads: dict[str, str] | None = None) -> str:
    handout = names.read(HANDOUT, qualname)
    student = names.read(student_source, qualname)
    assert handout is not None and student is not None
    grads = {"dx": "x"} if grads is None else grads
    return names.renaming(handout, student, grads, frozenset(names.ROLES)).apply(text)


def test_a_function_is_read_from_its_source_without_running_it():
    found = names.read(HANDOUT, "linear_backward")
    assert found is not None
    assert found.parameters == ("dout", "cache")
    assert found.unpacked == {"cache": ("x", "w", "b")}
    assert found.returned == ("dx", "dw", "db")
    assert {"dout", "cache", "x", "w", "b", "dx", "dw", "db"} <= found.bound
    method = names.read(HANDOUT, "Layer.backprop")
    assert method is not None and method.parameters == ("dEdY",)
    assert names.read("def broken(:\n", "broken") is None
    assert names.read(HANDOUT, "no_such_function") is None


def test_the_students_parameters_replace_the_handouts_and_unnamed_values_are_described():
    student = "def relu_backward(da, a):\n    return da * (da > 0)\n"
    said = say(student, "relu_backward", MESSAGE)
    assert said == (
        "The gradient of a masks with da > 0, the wrong tensor; keep da where a > 0: "
        "the gradient of a = da * (a > 0)"
    )


def test_names_are_swapped_at_once_when_the_student_uses_ours_for_something_else():
    student = "def relu_backward(x, cache):\n    return x * (x > 0)\n"
    said = say(student, "relu_backward", "keep dout where x > 0")
    assert said == "keep x where cache > 0"


def test_unpacked_and_returned_names_map_by_position():
    student = (
        "def linear_backward(g, c):\n"
        "    inp, weights, bias = c\n"
        "    grad_w = inp.T @ g\n"
        "    return g @ weights.T, grad_w, g.sum(0)\n"
    )
    grads = {"dx": "x", "dw": "w", "db": "b"}
    said = say(student, "linear_backward", "dw is x.T @ dout transposed; dx and db", grads)
    assert said == "grad_w is inp.T @ g transposed; the gradient of inp and the gradient of bias"


def test_prose_keys_and_attributes_are_left_alone():
    student = "def relu_backward(a, b):\n    return a * (b > 0)\n"
    text = "a mask on dout is not 'x' nor self.x, and N = 4"
    assert say(student, "relu_backward", text) == "a mask on a is not 'x' nor self.x, and N = 4"


def test_a_name_the_student_has_too_stays():
    student = "def relu_backward(dout, x):\n    dx = dout.copy()\n    return dx\n"
    assert say(student, "relu_backward", MESSAGE) == MESSAGE


def test_a_handout_name_that_is_an_english_word_is_renamed_in_formulas_only():
    handout = names.read("def f(dout, cache):\n    out = cache\n    return dout * out\n", "f")
    student = names.read("def f(g, s):\n    return g * s * (1 - s)\n", "f")
    assert handout is not None and student is not None
    renaming = names.renaming(handout, student, {"dx": "x"}, frozenset(names.ROLES))
    text = "use out * (1 - out), where out = sigmoid(x); the derivative is left out"
    assert renaming.apply(text) == (
        "use s * (1 - s), where s = sigmoid(the input); the derivative is left out"
    )


def test_a_test_may_say_what_its_own_names_stand_for():
    """checker.layer(..., words=...) when the test builds the layer itself."""
    renaming = names.Renaming({"dout": "the gradient flowing into the ReLU"}, frozenset())
    assert renaming.apply("keep dout where x > 0") == (
        "keep the gradient flowing into the ReLU where x > 0"
    )
