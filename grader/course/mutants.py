"""Mutants of a reference solution: each classic mistake applied at each
place of a task's solution block where it can happen.

A mutant is the reference function's syntax tree with one change (a product
transposed, a factor dropped, a mask taken from another tensor, ``+=``
written as ``=``, a loop one step short, a list left unreversed, the bias
regularized, the one-hot subtracted from whole columns, ...). Whoever
compiles it (``grader.plugin.solutions``) runs it where the student's
function would run; when the student's result equals a mutant's, the
mutant names the mistake. A new assignment gets these diagnoses from its
reference alone.

``instrumented`` gives the reference function with every call routed through
a hook (``__grader_call__``), so the functions of other tasks it calls can
be watched.
"""

from __future__ import annotations

import ast
import copy
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from grader.course.templates import blocks, tasks_in

HOOK = "__grader_call__"
MAX_MUTANTS = 400  # a bound on the work one failed check may spend
MAX_PAIRS = 120  # and on the pairs of places tried after the single ones
PAIRED_PLACES = 6  # a family of more places is not paired (15 pairs at most)


class Mistake(str, Enum):
    """The kind of change a mutant makes (each is a diagnosis code of the checker)."""

    TRANSPOSED = "transposed"
    MISSING_DERIVATIVE = "missing_derivative"
    RELU_NO_MASK = "relu_no_mask"
    RELU_MASK_INVERTED = "relu_mask_inverted"
    MASK_WRONG_TENSOR = "mask_wrong_tensor"
    MASK_ON_GRADIENT = "mask_on_gradient"
    MISSING_FACTOR_2 = "missing_factor_2"
    MISSING_1_OVER_N = "missing_1_over_n"
    EXTRA_1_OVER_N = "extra_1_over_n"
    REG_MISSING = "reg_missing"
    REG_ON_BIAS = "reg_on_bias"
    DROPPED_FACTOR = "dropped_factor"
    SIGN_FLIP = "sign_flip"
    OVERWRITE_NOT_ACCUMULATE = "overwrite_not_accumulate"
    LOOP_OFF_BY_ONE = "loop_off_by_one"
    LAYER_SKIPPED = "layer_skipped"
    NOT_REVERSED = "not_reversed"
    RETURN_ORDER = "return_order"
    BIAS_WRONG_AXIS = "bias_wrong_axis"
    BIAS_SUMMED_ALL = "bias_summed_all"
    BIAS_NOT_SUMMED = "bias_not_summed"
    BROADCAST_SLIP = "broadcast_slip"
    SOFTMAX_NO_ONEHOT = "softmax_no_onehot"
    SOFTMAX_ONEHOT_COLUMNS = "softmax_onehot_columns"
    SOFTMAX_ONEHOT_AFTER_MEAN = "softmax_onehot_after_mean"
    FORWARD_VALUE_HANDED_DOWN = "forward_value_handed_down"
    WRONG_VARIABLE = "wrong_variable"


@dataclass(frozen=True)
class Mutant:
    """One mistake at one place. ``detail`` names what the mistake touched in
    the handout's words (a given function such as ``activation_prime``), or
    is empty; ``line`` is the line of the reference it changes."""

    mistake: Mistake
    detail: str
    line: int
    function: ast.FunctionDef


@dataclass(frozen=True)
class Solution:
    """A task function of a reference module and its solution lines."""

    function: ast.FunctionDef
    first: int
    last: int

    def mutants(self) -> Iterator[Mutant]:
        """Every mutant, most specific mistakes first, at most MAX_MUTANTS,
        then the same slip at two places; built one at a time, so a caller
        that stops early pays for few."""
        planned = list(_planned(self))
        yield from self._singles(planned)
        yield from self._pairs(planned)

    def _singles(self, planned: list[Planned]) -> Iterator[Mutant]:
        made = 0
        for mistake in ORDER:
            of_kind = [p for p in planned if p[0] is mistake]
            families = sorted({p[5] for p in of_kind}) if mistake in EVERYWHERE else []
            for family in families:  # the same slip at every place of a family (+= as =)
                everywhere = _everywhere([p for p in of_kind if p[5] == family])
                tree = _apply(self, everywhere) if len(everywhere) > 1 else None
                if tree is not None:
                    made += 1
                    yield Mutant(mistake, of_kind[0][1], of_kind[0][2], tree)
            for _, detail, line, index, change, _ in of_kind:
                if made >= MAX_MUTANTS:
                    return
                tree = _apply(self, [(index, change)])
                if tree is not None:
                    made += 1
                    yield Mutant(mistake, detail, line, tree)

    def _pairs(self, planned: list[Planned]) -> Iterator[Mutant]:
        """The same slip at two places of one family (two of four ``+=`` as
        ``=``, one of two lists left unreversed with the other): after every
        single mutant, at most MAX_PAIRS of them."""
        made = 0
        for mistake in ORDER:
            of_kind = [p for p in planned if p[0] is mistake]
            for family in sorted({p[5] for p in of_kind}):
                places = list(_everywhere([p for p in of_kind if p[5] == family]))
                if not 3 <= len(places) <= PAIRED_PLACES and mistake in EVERYWHERE:
                    continue  # two places of two are already "everywhere"
                if len(places) > PAIRED_PLACES or len(places) < 2:
                    continue
                first = next(p for p in of_kind if p[5] == family)
                for pair in itertools.combinations(places, 2):
                    if made >= MAX_PAIRS:
                        return
                    tree = _apply(self, list(pair))
                    if tree is not None:
                        made += 1
                        yield Mutant(mistake, first[1], first[2], tree)

    def instrumented(self) -> ast.FunctionDef:
        """The function with every call made through ``__grader_call__(f, *args)``."""
        tree = copy.deepcopy(self.function)
        tree.body = [_Hooked().visit(statement) for statement in tree.body]
        return ast.fix_missing_locations(tree)


# most specific first: a mutant that also matches a vaguer one names it
ORDER = [
    Mistake.SOFTMAX_ONEHOT_COLUMNS,
    Mistake.SOFTMAX_ONEHOT_AFTER_MEAN,
    Mistake.SOFTMAX_NO_ONEHOT,
    Mistake.REG_ON_BIAS,
    Mistake.REG_MISSING,
    Mistake.MISSING_DERIVATIVE,
    Mistake.RELU_NO_MASK,
    Mistake.RELU_MASK_INVERTED,
    Mistake.MASK_ON_GRADIENT,
    Mistake.MASK_WRONG_TENSOR,
    Mistake.TRANSPOSED,
    Mistake.OVERWRITE_NOT_ACCUMULATE,
    Mistake.LOOP_OFF_BY_ONE,
    Mistake.LAYER_SKIPPED,
    Mistake.NOT_REVERSED,
    Mistake.RETURN_ORDER,
    Mistake.BIAS_WRONG_AXIS,
    Mistake.BIAS_SUMMED_ALL,
    Mistake.BIAS_NOT_SUMMED,
    Mistake.BROADCAST_SLIP,
    Mistake.MISSING_1_OVER_N,
    Mistake.EXTRA_1_OVER_N,
    Mistake.MISSING_FACTOR_2,
    Mistake.SIGN_FLIP,
    Mistake.FORWARD_VALUE_HANDED_DOWN,
    Mistake.WRONG_VARIABLE,
    Mistake.DROPPED_FACTOR,
]


def solution(source: str, qualname: str, where: str = "") -> Solution | None:
    """The solution of the task function ``qualname`` (``Layer.backprop``) in
    one reference module's source, or None if it has no solution block."""
    for task, node in tasks_in(source, where).values():
        if task.qualname != qualname:
            continue
        inside = [
            (begin, end)
            for begin, end, _ in blocks(source, where)
            if node.lineno <= begin <= (node.end_lineno or begin)
        ]
        if not inside:
            return None
        return Solution(copy.deepcopy(node), inside[0][0], inside[-1][1])
    return None


# ---------------------------------------------------------------- the changes

Change = Callable[[ast.AST], "ast.AST | list[ast.stmt] | None"]

DERIVATIVE = re.compile(r"(prime|_gd$|^gd$|deriv|_backward$|backward$|backprop$)")
REG = re.compile(r"(^reg|lambda|^lam$|decay)", re.IGNORECASE)
GRADIENT = re.compile(r"^(d[A-Za-z_]|delta|grad)")
BATCH = re.compile(r"^(n|N|m|num\w*|batch\w*|n_\w+)$")


def _name(node: ast.AST) -> str:
    """``f``, ``np.sum``, ``self.gd``: the dotted name of an expression, or ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _mentions(node: ast.AST, pattern: re.Pattern[str]) -> bool:
    return any(isinstance(n, ast.Name) and pattern.search(n.id) for n in ast.walk(node))


def _is_batch_size(node: ast.AST) -> bool:
    """n, N, batch_size, len(y), x.shape[0], x.size."""
    if isinstance(node, ast.Name):
        return bool(BATCH.match(node.id))
    if isinstance(node, ast.Call) and _name(node.func) == "len":
        return True
    if isinstance(node, ast.Attribute) and node.attr == "size":
        return True
    return isinstance(node, ast.Subscript) and _name(node.value).endswith("shape")


def _is_mask(node: ast.AST) -> bool:
    """``(h > 0)``, ``(a > 0).astype(...)``: a 0/1 mask from a comparison."""
    if isinstance(node, ast.Compare):
        return True
    return isinstance(node, ast.Call) and any(isinstance(n, ast.Compare) for n in ast.walk(node))


def _is_derivative(node: ast.AST) -> str | None:
    """The handout's name of a derivative the expression computes, if it does:
    a call such as ``self.gd(Y)`` or ``activation_prime(a)``, or an inline
    ``1 - a**2`` / ``a * (1 - a)``."""
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if DERIVATIVE.search(name.rsplit(".", 1)[-1]):
            return f"{name}(...)"
    if not isinstance(node, ast.BinOp):
        return None
    one_minus = isinstance(node.left, ast.Constant) and node.left.value == 1
    if isinstance(node.op, ast.Sub) and one_minus:
        return "the activation's derivative"
    if isinstance(node.op, ast.Mult) and (_is_derivative(node.right) or _is_derivative(node.left)):
        return "the activation's derivative"
    return None


def _dropped(kept: ast.AST, dropped: ast.AST) -> tuple[Mistake, str]:
    """What leaving ``dropped`` out of a product means."""
    derivative = _is_derivative(dropped)
    if derivative:
        return Mistake.MISSING_DERIVATIVE, derivative
    if _is_mask(dropped):
        return Mistake.RELU_NO_MASK, ""
    if isinstance(dropped, ast.Constant) and dropped.value == 2:
        return Mistake.MISSING_FACTOR_2, ""
    if _mentions(dropped, REG) and not _mentions(kept, REG):
        return Mistake.REG_MISSING, ""
    return Mistake.DROPPED_FACTOR, ""


def _sites(solution: Solution) -> Iterator[tuple[int, ast.AST, str]]:
    """(index, node, family) in depth-first order, for nodes on solution
    lines; the family names what the enclosing statement assigns
    (``self.grads`` for ``self.grads_W2 += ...``), so one slip can be made at
    every place of a family at once."""
    tree = copy.deepcopy(solution.function)
    counter = _Counter()
    counter.visit(tree)
    family: dict[int, str] = {}
    for statement in ast.walk(tree):
        if isinstance(statement, ast.stmt):
            name = _family(statement)
            for node in ast.walk(statement):
                family[id(node)] = name
    for index, node in enumerate(counter.nodes):
        line = getattr(node, "lineno", None)
        if line is not None and solution.first < line < solution.last:
            yield index, node, family.get(id(node), "")


def _family(statement: ast.stmt) -> str:
    """``self.grads`` for a statement assigning ``self.grads_W2``, ``dW`` for ``dW1``."""
    target: ast.AST | None = None
    if isinstance(statement, ast.AugAssign | ast.AnnAssign):
        target = statement.target
    elif isinstance(statement, ast.Assign):
        target = statement.targets[0]
    name = _name(target) if target is not None else ""
    if isinstance(target, ast.Subscript):
        name = _name(target.value) + "[]"
    return re.sub(r"(_[A-Za-z]|[A-Za-z]?)\d+$|_[A-Za-z]$", "", name)


class _Counter(ast.NodeVisitor):
    def __init__(self) -> None:
        self.nodes: list[ast.AST] = []

    def visit(self, node: ast.AST) -> None:
        self.nodes.append(node)
        self.generic_visit(node)


class _Replace(ast.NodeTransformer):
    """Replace the node with depth-first index ``target`` by ``change(node)``."""

    def __init__(self, target: int, change: Change) -> None:
        self.target = target
        self.change = change
        self.count = -1

    def visit(self, node: ast.AST) -> ast.AST | list[ast.stmt] | None:
        self.count += 1
        if self.count == self.target:
            return self.change(node)
        result: ast.AST = self.generic_visit(node)
        return result


# mistakes a student tends to make at every place of a kind at once
EVERYWHERE = {
    Mistake.OVERWRITE_NOT_ACCUMULATE,
    Mistake.MISSING_1_OVER_N,
    Mistake.EXTRA_1_OVER_N,
    Mistake.BIAS_WRONG_AXIS,
    Mistake.BIAS_SUMMED_ALL,
    Mistake.BIAS_NOT_SUMMED,
    Mistake.BROADCAST_SLIP,
    Mistake.REG_MISSING,
    Mistake.REG_ON_BIAS,
    Mistake.MISSING_DERIVATIVE,
}


def _everywhere(planned: list[Planned]) -> list[tuple[int, Change]]:
    """One change per place, for applying a mistake at all of them."""
    seen: dict[int, Change] = {}
    for _, _, _, index, change, _ in planned:
        seen.setdefault(index, change)
    return list(seen.items())


def _apply(solution: Solution, changes: list[tuple[int, Change]]) -> ast.FunctionDef | None:
    """The function with each change made; later places first, so the
    depth-first index of an earlier place stays valid."""
    tree = copy.deepcopy(solution.function)
    for index, change in sorted(changes, key=lambda c: c[0], reverse=True):
        _Replace(index, change).visit(tree)
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if isinstance(body, list) and field == "body" and not body:
                body.append(ast.Pass())
    try:
        ast.fix_missing_locations(tree)
        compile(ast.Module(body=[tree], type_ignores=[]), "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError):
        return None
    return tree


Planned = tuple[Mistake, str, int, int, Change, str]


def _planned(solution: Solution) -> Iterator[Planned]:
    """(mistake, detail, line, node index, change, family) of every mutant, unapplied."""
    names = _variables(solution)
    reg = _reg_pattern(solution)
    divisor = _divisor(solution)
    for index, node, family in _sites(solution):
        line = getattr(node, "lineno", 0)
        for mistake, detail, change in _changes(node, names, reg, divisor):
            yield mistake, detail, line, index, change, family


def _changes(
    node: ast.AST,
    names: list[str],
    reg: tuple[ast.expr, ast.expr] | None,
    divisor: ast.expr | None,
) -> Iterator[tuple[Mistake, str, Change]]:
    """Every mistake that can happen at ``node``."""
    if isinstance(node, ast.BinOp):
        yield from _binop_changes(node)
        yield from _mask_changes(node)
    if _is_product(node):
        yield Mistake.TRANSPOSED, "", _transpose
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield Mistake.TRANSPOSED, "", lambda n: n.value  # type: ignore[attr-defined]
    if isinstance(node, ast.AugAssign):
        yield from _augassign_changes(node, divisor)
    if isinstance(node, ast.Assign):
        yield from _assign_changes(node, reg)
        yield from _masked_assign_changes(node)
    if isinstance(node, ast.Compare):
        yield from _compare_changes(node, names)
    if isinstance(node, ast.For):
        yield from _loop_changes(node)
    if isinstance(node, ast.Subscript) and _is_reversal(node.slice):
        yield Mistake.NOT_REVERSED, "", lambda n: n.value  # type: ignore[attr-defined]
    if isinstance(node, ast.Return):
        yield from _return_changes(node, reg)
    if _is_values(node):  # returned, or collected for returning: (dW, db) appended
        count = len(node.elts)  # type: ignore[attr-defined]
        for i in range(count):
            for j in range(i + 1, count):
                yield Mistake.RETURN_ORDER, "", _swap_items(i, j)
        if count == 3:  # (dw, db, dx) for (dx, dw, db): rotated, not one swap
            yield Mistake.RETURN_ORDER, "", _reorder((1, 2, 0))
            yield Mistake.RETURN_ORDER, "", _reorder((2, 0, 1))
    if isinstance(node, ast.Call):
        yield from _call_changes(node)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        yield from _variable_changes(node, names)


def _is_product(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return True
    return isinstance(node, ast.Call) and _name(node.func).rsplit(".", 1)[-1] in ("dot", "matmul")


def _binop_changes(node: ast.BinOp) -> Iterator[tuple[Mistake, str, Change]]:
    if isinstance(node.op, ast.Mult):
        for kept, dropped in ((node.left, node.right), (node.right, node.left)):
            mistake, detail = _dropped(kept, dropped)
            yield mistake, detail, _constant(kept)
    elif isinstance(node.op, ast.Div):
        drop_n = Mistake.MISSING_1_OVER_N if _is_batch_size(node.right) else Mistake.DROPPED_FACTOR
        yield drop_n, "", _constant(node.left)
        if _is_batch_size(node.right):
            yield Mistake.EXTRA_1_OVER_N, "", _divided_again(node.right)
    elif isinstance(node.op, ast.Add):
        for kept, dropped in ((node.left, node.right), (node.right, node.left)):
            mistake = Mistake.REG_MISSING if _mentions(dropped, REG) else Mistake.DROPPED_FACTOR
            yield mistake, "", _constant(kept)
    elif isinstance(node.op, ast.Sub):
        yield (
            Mistake.SIGN_FLIP,
            "",
            lambda n: ast.BinOp(n.right, ast.Sub(), n.left),  # type: ignore[attr-defined]
        )


def _transpose(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.expr)
    return ast.Attribute(value=node, attr="T", ctx=ast.Load())


def _divided_again(divisor: ast.expr) -> Change:
    def change(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.expr)
        return ast.BinOp(node, ast.Div(), copy.deepcopy(divisor))

    return change


def _constant(replacement: ast.expr) -> Change:
    return lambda _: copy.deepcopy(replacement)


def _augassign_changes(
    node: ast.AugAssign, divisor: ast.expr | None
) -> Iterator[tuple[Mistake, str, Change]]:
    if isinstance(node.op, ast.Add):
        yield (
            Mistake.OVERWRITE_NOT_ACCUMULATE,
            "",
            lambda n: ast.Assign(targets=[n.target], value=n.value),  # type: ignore[attr-defined]
        )
        mistake = Mistake.REG_MISSING if _mentions(node.value, REG) else Mistake.DROPPED_FACTOR
        yield mistake, "", lambda _: []
    elif isinstance(node.op, ast.Div):
        mistake = Mistake.MISSING_1_OVER_N if _is_batch_size(node.value) else Mistake.DROPPED_FACTOR
        yield mistake, "", lambda _: []
    elif isinstance(node.op, ast.Sub) and _is_onehot(node):
        yield Mistake.SOFTMAX_NO_ONEHOT, "", lambda _: []
        yield Mistake.SOFTMAX_ONEHOT_COLUMNS, "", _whole_columns
        if divisor is not None:
            later = copy.deepcopy(divisor)
            yield (
                Mistake.SOFTMAX_ONEHOT_AFTER_MEAN,
                "",
                lambda n: ast.AugAssign(target=n.target, op=ast.Sub(), value=later),  # type: ignore[attr-defined]
            )


def _is_onehot(node: ast.AugAssign) -> bool:
    """``probs[range(n), y] -= 1``."""
    return (
        isinstance(node.target, ast.Subscript)
        and isinstance(node.target.slice, ast.Tuple)
        and len(node.target.slice.elts) == 2
        and isinstance(node.value, ast.Constant)
        and node.value.value == 1
    )


def _whole_columns(node: ast.AST) -> ast.AST:
    """``probs[range(n), y] -= 1`` becomes ``probs[:, y] -= 1``."""
    changed = copy.deepcopy(node)
    assert isinstance(changed, ast.AugAssign) and isinstance(changed.target, ast.Subscript)
    assert isinstance(changed.target.slice, ast.Tuple)
    changed.target.slice.elts[0] = ast.Slice()
    return changed


def _assign_changes(
    node: ast.Assign, reg: tuple[ast.expr, ast.expr] | None
) -> Iterator[tuple[Mistake, str, Change]]:
    target = node.targets[0]
    if isinstance(target, ast.Subscript) and _is_mask(target.slice):
        yield Mistake.RELU_NO_MASK, "", lambda _: []
    key = _bias_key(target)
    if reg is not None and key is not None:
        yield Mistake.REG_ON_BIAS, "", _regularize(reg, key)
    if isinstance(target, ast.Tuple):  # a value unpacked from a call is not handed down
        for i, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and GRADIENT.match(element.id):
                yield Mistake.WRONG_VARIABLE, element.id, _unbind(i)


def _unbind(position: int) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Assign) and isinstance(changed.targets[0], ast.Tuple)
        changed.targets[0].elts[position] = ast.Name(id="_unused", ctx=ast.Store())
        return changed

    return change


def _bias_key(target: ast.AST) -> ast.expr | None:
    """The key of ``grads["b1"]`` or ``grads[f"b{i}"]``: a bias gradient's slot."""
    if not isinstance(target, ast.Subscript):
        return None
    key = target.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("b"):
        return key
    if isinstance(key, ast.JoinedStr) and key.values:
        head = key.values[0]
        if isinstance(head, ast.Constant) and str(head.value).startswith("b"):
            return key
    return None


def _regularize(reg: tuple[ast.expr, ast.expr], key: ast.expr) -> Change:
    """``value`` becomes ``value + reg * params[key]``."""
    strength, container = reg

    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Assign)
        term = ast.BinOp(
            copy.deepcopy(strength),
            ast.Mult(),
            ast.Subscript(value=copy.deepcopy(container), slice=copy.deepcopy(key), ctx=ast.Load()),
        )
        changed.value = ast.BinOp(changed.value, ast.Add(), term)
        return changed

    return change


def _compare_changes(node: ast.Compare, names: list[str]) -> Iterator[tuple[Mistake, str, Change]]:
    if len(node.ops) != 1:
        return
    op = node.ops[0]
    inverse = {ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Lt: ast.GtE, ast.LtE: ast.Gt}
    mirror = {ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Lt: ast.Gt, ast.LtE: ast.GtE}
    if type(op) not in inverse:
        return
    flipped = inverse[type(op)]()
    mirrored = mirror[type(op)]()
    yield Mistake.RELU_MASK_INVERTED, "", _compare_with(None, flipped)
    if isinstance(node.left, ast.Name):
        for other in names:
            if other == node.left.id:
                continue
            yield Mistake.MASK_WRONG_TENSOR, other, _compare_with(other, op)
            yield Mistake.MASK_WRONG_TENSOR, other, _compare_with(other, mirrored)


def _mask_changes(node: ast.BinOp) -> Iterator[tuple[Mistake, str, Change]]:
    """``g * (h > 0)``: the mask built from the gradient it masks, ``g * (g > 0)``."""
    if not isinstance(node.op, ast.Mult):
        return
    for mask, masked in (("right", "left"), ("left", "right")):
        compare = getattr(node, mask)
        if isinstance(compare, ast.Compare) and len(compare.ops) == 1:
            yield Mistake.MASK_ON_GRADIENT, "", _mask_from(mask, masked)


def _masked_assign_changes(node: ast.Assign) -> Iterator[tuple[Mistake, str, Change]]:
    """``g[h <= 0] = 0``: the mask built from the gradient it masks, ``g[g <= 0] = 0``."""
    target = node.targets[0] if len(node.targets) == 1 else None
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Compare):

        def change(statement: ast.AST) -> ast.AST:
            changed = copy.deepcopy(statement)
            assert isinstance(changed, ast.Assign) and isinstance(changed.targets[0], ast.Subscript)
            masked = changed.targets[0]
            assert isinstance(masked.slice, ast.Compare)
            masked.slice.left = copy.deepcopy(masked.value)
            return changed

        yield Mistake.MASK_ON_GRADIENT, "", change


def _mask_from(mask: str, masked: str) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        compare = getattr(changed, mask)
        compare.left = copy.deepcopy(getattr(changed, masked))
        return changed

    return change


def _compare_with(name: str | None, op: ast.cmpop) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Compare)
        if name is not None:
            changed.left = ast.Name(id=name, ctx=ast.Load())
        changed.ops = [op]
        return changed

    return change


def _loop_changes(node: ast.For) -> Iterator[tuple[Mistake, str, Change]]:
    it = node.iter
    if isinstance(it, ast.Call) and _name(it.func) == "reversed" and it.args:
        inner = it.args[0]
        yield Mistake.NOT_REVERSED, "", _iterate(copy.deepcopy(inner))
        yield Mistake.LAYER_SKIPPED, "", _iterate(_call("reversed", _sliced(inner, 1, None)))
        yield Mistake.LAYER_SKIPPED, "", _iterate(_call("reversed", _sliced(inner, None, -1)))
    elif isinstance(it, ast.Call) and _name(it.func) == "zip":
        shorter = ast.Call(func=it.func, args=[_sliced(a, None, -1) for a in it.args], keywords=[])
        shorter.keywords = [k for k in it.keywords if k.arg != "strict"]
        yield Mistake.LOOP_OFF_BY_ONE, "", _iterate(shorter)
    elif isinstance(it, ast.Call) and _name(it.func) == "range" and it.args:
        for position in range(min(len(it.args), 2)):
            for delta in (1, -1):
                args = [copy.deepcopy(a) for a in it.args]
                args[position] = ast.BinOp(args[position], ast.Add(), ast.Constant(delta))
                mistake = Mistake.LAYER_SKIPPED if len(it.args) == 3 else Mistake.LOOP_OFF_BY_ONE
                yield mistake, "", _iterate(ast.Call(func=it.func, args=args, keywords=[]))
    elif isinstance(it, ast.Name | ast.Attribute | ast.Subscript):
        yield Mistake.LOOP_OFF_BY_ONE, "", _iterate(_sliced(it, None, -1))
        yield Mistake.LAYER_SKIPPED, "", _iterate(_sliced(it, 1, None))


def _iterate(over: ast.expr) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.For)
        changed.iter = copy.deepcopy(over)
        return changed

    return change


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _sliced(node: ast.expr, lower: int | None, upper: int | None) -> ast.Subscript:
    def bound(value: int | None) -> ast.expr | None:
        return None if value is None else ast.Constant(value)

    return ast.Subscript(
        value=copy.deepcopy(node),
        slice=ast.Slice(lower=bound(lower), upper=bound(upper)),
        ctx=ast.Load(),
    )


def _is_reversal(node: ast.AST) -> bool:
    """The slice ``::-1``."""
    return (
        isinstance(node, ast.Slice)
        and node.lower is None
        and node.upper is None
        and isinstance(node.step, ast.UnaryOp)
        and isinstance(node.step.op, ast.USub)
        and isinstance(node.step.operand, ast.Constant)
        and node.step.operand.value == 1
    )


def _return_changes(
    node: ast.Return, reg: tuple[ast.expr, ast.expr] | None
) -> Iterator[tuple[Mistake, str, Change]]:
    value = node.value
    if isinstance(value, ast.Dict):
        for i in range(len(value.values)):
            for j in range(i + 1, len(value.values)):
                yield Mistake.RETURN_ORDER, "", _swap_returned(i, j)
        if reg is not None:
            yield Mistake.REG_ON_BIAS, "", _regularize_returned(reg)


def _is_values(node: ast.AST) -> bool:
    """A tuple of two to six computed values (not a shape, an axis or an index)."""
    return (
        isinstance(node, ast.Tuple)
        and isinstance(node.ctx, ast.Load)
        and 2 <= len(node.elts) <= 6
        and all(
            isinstance(e, ast.Name | ast.BinOp | ast.Call | ast.Attribute | ast.Subscript)
            for e in node.elts
        )
    )


def _swap_items(i: int, j: int) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Tuple)
        changed.elts[i], changed.elts[j] = changed.elts[j], changed.elts[i]
        return changed

    return change


def _reorder(order: tuple[int, ...]) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Tuple)
        changed.elts = [changed.elts[i] for i in order]
        return changed

    return change


def _swap_returned(i: int, j: int) -> Change:
    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Return)
        value = changed.value
        assert isinstance(value, ast.Dict)
        value.values[i], value.values[j] = value.values[j], value.values[i]
        return changed

    return change


def _regularize_returned(reg: tuple[ast.expr, ast.expr]) -> Change:
    """Every bias entry of a returned dict gets ``+ reg * params[key]``; a dict
    of weight penalties only (``{"W": reg * W}``) gets bias entries too."""
    strength, container = reg

    def term(key: ast.expr) -> ast.expr:
        return ast.BinOp(
            copy.deepcopy(strength),
            ast.Mult(),
            ast.Subscript(value=copy.deepcopy(container), slice=copy.deepcopy(key), ctx=ast.Load()),
        )

    def change(node: ast.AST) -> ast.AST:
        changed = copy.deepcopy(node)
        assert isinstance(changed, ast.Return) and isinstance(changed.value, ast.Dict)
        table = changed.value
        keys = [k.value for k in table.keys if isinstance(k, ast.Constant)]
        biases = [k for k in keys if isinstance(k, str) and k.startswith("b")]
        if biases:
            for i, key in enumerate(table.keys):
                if isinstance(key, ast.Constant) and key.value in biases:
                    table.values[i] = ast.BinOp(table.values[i], ast.Add(), term(key))
        else:
            for key_text in [k for k in keys if isinstance(k, str) and k.startswith("W")]:
                bias = ast.Constant(key_text.replace("W", "b", 1))
                table.keys.append(bias)
                table.values.append(term(bias))
        return changed

    return change


def _call_changes(node: ast.Call) -> Iterator[tuple[Mistake, str, Change]]:
    name = _name(node.func)
    last = name.rsplit(".", 1)[-1]
    if DERIVATIVE.search(last) and node.args and not last.endswith("backprop"):
        # skipping an activation's backward hands its upstream gradient on unchanged
        yield Mistake.MISSING_DERIVATIVE, f"{name}(...)", _constant(node.args[0])
    keywords = {k.arg: k for k in node.keywords}
    if last == "sum" and "axis" in keywords:
        axis = keywords["axis"].value
        if isinstance(axis, ast.Constant) and axis.value in (0, 1):
            yield Mistake.BIAS_WRONG_AXIS, "", _keyword(node, "axis", ast.Constant(1 - axis.value))
        yield Mistake.BIAS_SUMMED_ALL, "", _keyword(node, "axis", None)
        summed = node.args[0] if node.args else getattr(node.func, "value", None)
        if isinstance(summed, ast.expr):
            yield Mistake.BIAS_NOT_SUMMED, "", _constant(summed)
    if "keepdims" in keywords:
        yield Mistake.BROADCAST_SLIP, "", _keyword(node, "keepdims", None)


def _keyword(node: ast.Call, name: str, value: ast.expr | None) -> Change:
    def change(original: ast.AST) -> ast.AST:
        changed = copy.deepcopy(original)
        assert isinstance(changed, ast.Call)
        changed.keywords = [k for k in changed.keywords if k.arg != name]
        if value is not None:
            changed.keywords.append(ast.keyword(arg=name, value=copy.deepcopy(value)))
        return changed

    return change


def _variable_changes(node: ast.Name, names: list[str]) -> Iterator[tuple[Mistake, str, Change]]:
    if node.id not in names:
        return
    for other in names:
        if other == node.id:
            continue
        forward = GRADIENT.match(node.id) and not GRADIENT.match(other)
        mistake = Mistake.FORWARD_VALUE_HANDED_DOWN if forward else Mistake.WRONG_VARIABLE
        yield mistake, other, _constant(ast.Name(id=other, ctx=ast.Load()))


def _variables(solution: Solution) -> list[str]:
    """The function's parameters and the names its solution assigns."""
    args = solution.function.args
    found = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg != "self"]
    for node in ast.walk(solution.function):
        stored = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        if stored and node.id not in found and not node.id.startswith("_"):  # type: ignore[attr-defined]
            found.append(node.id)  # type: ignore[attr-defined]
    return found


def _reg_pattern(solution: Solution) -> tuple[ast.expr, ast.expr] | None:
    """(strength, container) of the first ``reg * params["W1"]`` in the function."""
    for node in ast.walk(solution.function):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        for strength, other in ((node.left, node.right), (node.right, node.left)):
            if _mentions(strength, REG) and isinstance(other, ast.Subscript):
                return strength, other.value
    return None


def _divisor(solution: Solution) -> ast.expr | None:
    """The batch size the solution divides by (``n`` in ``dscores / n``)."""
    for node in ast.walk(solution.function):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and _is_batch_size(node.right)
        ):
            return node.right
    return None


class _Hooked(ast.NodeTransformer):
    """``f(a, b=c)`` becomes ``__grader_call__(f, a, b=c)``."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        return ast.Call(
            func=ast.Name(id=HOOK, ctx=ast.Load()),
            args=[node.func, *node.args],
            keywords=node.keywords,
        )
