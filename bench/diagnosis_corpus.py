"""Realistic submissions for measuring diagnosis, written for this benchmark
(not copies of any outside corpus): each is the `correct` example submission
of an assignment with one edit a student might make, and the outcome each
task must get: a diagnosis code, "cascade" (the task fails because another
task's function is wrong, and says so) or "passed" (right code written
differently must pass).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "submissions"


@dataclass(frozen=True)
class Case:
    assignment: str
    name: str
    module: str
    old: str
    new: str
    expect: dict[str, str]
    # names the student's code does not have: no message may use them as a word
    forbid: tuple[str, ...] = ()


def whole(assignment: str, module: str, qualname: str) -> str:
    """The source of a function or method of an assignment's correct example,
    from `def` to its last line."""
    text = (EXAMPLES / assignment / "correct" / f"{module}.py").read_text()
    body: list[ast.stmt] = ast.parse(text).body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next(
            n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == part
        )
        body = node.body
    segment = ast.get_source_segment(text, node)
    assert segment is not None and segment in text
    return segment


def flush(source: str, method: bool = False) -> str:
    """A student's function written flush left; a method is indented to sit in its class."""
    lines = textwrap.dedent(source).strip("\n").split("\n")
    if method:
        lines = lines[:1] + [("    " + line) if line else line for line in lines[1:]]
    return "\n".join(lines)


def rewriter(assignment: str, prefix: str) -> Callable[..., Case]:
    """``case(name, module, qualname, new, expect, forbid=())``: a case that
    rewrites one whole function of the assignment's correct example."""

    def case(name, module, qualname, new, expect, forbid=()):  # type: ignore[no-untyped-def]
        return Case(
            assignment,
            f"{prefix}{name}",
            module,
            whole(assignment, module, qualname),
            flush(new, "." in qualname),
            expect,
            tuple(forbid),
        )

    return case


def all_cases() -> list[Case]:
    """These cases and those of every module in bench/corpus/ (a ``CASES`` list each)."""
    import importlib.util

    cases = list(CASES)
    for path in sorted((Path(__file__).parent / "corpus").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


CASES = [
    # ---- layers: Layer / Network (seed 004), regression net (seed 003)
    Case(
        "layers",
        "layer_no_gd",
        "layer_class",
        "deltas = dEdY * self.gd(self.Y)",
        "deltas = dEdY",
        {"1.13": "missing_derivative"},
    ),
    Case(
        "layers",
        "layer_dW_transposed",
        "layer_class",
        "dEdW = deltas.T @ self.X",
        "dEdW = self.X.T @ deltas",
        {"1.13": "transposed", "1.14": "cascade"},
    ),
    Case(
        "layers",
        "network_not_reversed",
        "layer_class",
        "grads.insert(0, (dEdW, dEdb))",
        "grads.append((dEdW, dEdb))",
        {"1.14": "not_reversed"},
    ),
    Case(
        "layers",
        "network_gradient_not_handed_down",
        "layer_class",
        "dEdY, dEdW, dEdb = layer.backprop(dEdY)",
        "_, dEdW, dEdb = layer.backprop(dEdY)",
        {"1.14": "wrong_variable"},
    ),
    Case(
        "layers",
        "network_skips_first_layer",
        "layer_class",
        "for layer in self.layers[::-1]:",
        "for layer in self.layers[:0:-1]:",
        {"1.14": "layer_skipped"},
    ),
    Case(
        "layers",
        "sigmoid_gd_wrong",
        "layer_class",
        "return y * (1 - y)",
        "return y * (1 + y)",
        {"1.13": "cascade", "1.14": "cascade"},
    ),
    Case(
        "layers",
        "regression_mask_from_h_relu",
        "regression",
        "grad_h[h < 0] = 0",
        "grad_h[h_relu < 0] = 0",
        {"1.15": "relu_no_mask"},
    ),
    Case(
        "layers",
        "regression_dw2_transposed",
        "regression",
        "grad_w2 = h_relu.T.dot(dy_pred)",
        "grad_w2 = dy_pred.T.dot(h_relu)",
        {"1.15": "transposed"},
    ),
    Case(
        "layers",
        "softmax_whole_columns",
        "losses",
        "dscores[np.arange(N), y] -= 1",
        "dscores[:, y] -= 1",
        {"1.6": "softmax_onehot_columns"},
    ),
    # ---- spiral (seed 000)
    Case(
        "spiral",
        "softmax_whole_columns",
        "net",
        "dscores[range(num_examples), y] -= 1",
        "dscores[:, y] -= 1",
        {"2.1": "softmax_onehot_columns", "2.2": "cascade"},
    ),
    Case(
        "spiral",
        "softmax_onehot_after_mean",
        "net",
        "dscores[range(num_examples), y] -= 1\n    dscores /= num_examples",
        "dscores /= num_examples\n    dscores[range(num_examples), y] -= 1",
        {"2.1": "softmax_onehot_after_mean", "2.3": "cascade"},
    ),
    Case(
        "spiral",
        "l2_on_biases",
        "net",
        'return {"W": dW, "W2": dW2}',
        'return {"W": dW, "W2": dW2, "b": reg * params["b"], "b2": reg * params["b2"]}',
        {"2.3": "reg_on_bias"},
    ),
    Case(
        "spiral",
        "no_keepdims",
        "net",
        "db = np.sum(dhidden, axis=0, keepdims=True)",
        "db = np.sum(dhidden, axis=0)",
        {"2.2": "bias_shape"},
    ),
    # ---- moons (seed 002)
    Case(
        "moons",
        "no_tanh_derivative",
        "net",
        'delta2 = delta3.dot(model["W2"].T) * (1 - np.power(a1, 2))',
        'delta2 = delta3.dot(model["W2"].T)',
        {"3.1": "missing_derivative"},
    ),
    Case(
        "moons",
        "biases_regularized",
        "net",
        'dW1 += reg_lambda * model["W1"]',
        'dW1 += reg_lambda * model["W1"]\n    db1 += reg_lambda * model["b1"]\n'
        '    db2 += reg_lambda * model["b2"]',
        {"3.1": "reg_on_bias"},
    ),
    Case(
        "moons",
        "deep_no_activation_prime",
        "deep",
        'delta = delta.dot(params[f"W{i}"].T) * activation_prime(a_prev, activation)',
        'delta = delta.dot(params[f"W{i}"].T)',
        {"3.3": "missing_derivative"},
    ),
    Case(
        "moons",
        "deep_biases_regularized",
        "deep",
        'grads[f"b{i}"] = np.sum(delta, axis=0, keepdims=True)',
        'grads[f"b{i}"] = np.sum(delta, axis=0, keepdims=True) + reg_lambda * params[f"b{i}"]',
        {"3.3": "reg_on_bias"},
    ),
    Case(
        "moons",
        "deep_stops_before_first_layer",
        "deep",
        "for i in range(num_layers(params), 0, -1):",
        "for i in range(num_layers(params), 1, -1):",
        {"3.3": "layer_skipped"},
    ),
    Case(
        "moons",
        "activation_prime_tanh_wrong",
        "deep",
        "return 1 - np.power(a, 2)",
        "return 1 - a",
        {"3.3": "cascade"},
    ),
    # ---- digits (seed 001)
    Case(
        "digits",
        "loop_overwrites",
        "network",
        "self.grads_W2 += np.outer(a1, delta_L)\n            self.grads_b2 += delta_L\n"
        "            self.grads_W1 += np.outer(x, delta_l)\n            self.grads_b1 += delta_l",
        "self.grads_W2 = np.outer(a1, delta_L)\n            self.grads_b2 = delta_L\n"
        "            self.grads_W1 = np.outer(x, delta_l)\n            self.grads_b1 = delta_l",
        {"4.2": "overwrite_not_accumulate"},
    ),
    Case(
        "digits",
        "loop_never_averages",
        "network",
        "self.grads_W2 /= batch_size\n        self.grads_b2 /= batch_size\n"
        "        self.grads_W1 /= batch_size\n        self.grads_b1 /= batch_size\n        ",
        "",
        {"4.2": "missing_1_over_n"},
    ),
    Case(
        "digits",
        "vectorized_no_mean",
        "network",
        "self.grads_W2 = a1.T @ delta_L / n",
        "self.grads_W2 = a1.T @ delta_L",
        {"4.3": "missing_1_over_n"},
    ),
    Case(
        "digits",
        "sigmoid_prime_wrong",
        "network",
        "return s * (1.0 - s)",
        "return x * (1.0 - x)",
        {"4.2": "cascade", "4.3": "cascade"},
    ),
    Case(
        "digits",
        "mlp_skips_activation",
        "mlp",
        "dz = activation_backward(dout, act_cache)",
        "dz = dout",
        {"4.8": "missing_derivative"},
    ),
    Case(
        "digits",
        "mlp_returns_db_dW",
        "mlp",
        "return dW, db",
        "return db, dW",
        {"4.8": "return_order"},
    ),
    # ---- right code written differently: must pass
    Case(
        "layers",
        "right_einsum",
        "layer_class",
        "dEdW = deltas.T @ self.X",
        'dEdW = np.einsum("ni,nj->ij", deltas, self.X)',
        {"1.13": "passed", "1.14": "passed"},
    ),
    Case(
        "moons",
        "right_np_where_derivative",
        "net",
        "(1 - np.power(a1, 2))",
        "np.where(True, 1 - a1 * a1, 0.0)",
        {"3.1": "passed"},
    ),
    Case(
        "digits",
        "right_print_helper",
        "mlp",
        "dz = activation_backward(dout, act_cache)",
        "dz = activation_backward(dout, act_cache)\n            print('layer', i)",
        {"4.8": "passed"},
    ),
]
