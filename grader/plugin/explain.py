"""Name a failed check from the reference solution: a wrong function of
another task that the check ran through (a cascade), else the mutant of the
task's reference whose result equals the student's.

The checker (``grader.gradcheck.alternatives``) calls this explainer only
when a check fails, with the check's own arguments; every alternative runs
the test's own callable with the task's function replaced.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from grader.course.mutants import Mistake, Mutant
from grader.course.templates import Task
from grader.gradcheck import samples
from grader.gradcheck.alternatives import Alternative
from grader.gradcheck.codes import Code
from grader.gradcheck.result import Diagnosis
from grader.plugin.solutions import Reference
from grader.plugin.substitute import original, substituted
from grader.plugin.watch import Watch

CODES: dict[Mistake, Code] = {
    Mistake.TRANSPOSED: Code.TRANSPOSED,
    Mistake.MISSING_DERIVATIVE: Code.MISSING_DERIVATIVE,
    Mistake.RELU_NO_MASK: Code.RELU_NO_MASK,
    Mistake.RELU_MASK_INVERTED: Code.RELU_MASK_INVERTED,
    Mistake.MASK_WRONG_TENSOR: Code.MASK_WRONG_TENSOR,
    Mistake.MASK_ON_GRADIENT: Code.RELU_MASK_ON_DOUT,
    Mistake.MISSING_FACTOR_2: Code.MISSING_FACTOR_2,
    Mistake.MISSING_1_OVER_N: Code.MISSING_1_OVER_N,
    Mistake.EXTRA_1_OVER_N: Code.EXTRA_1_OVER_N,
    Mistake.REG_MISSING: Code.REG_MISSING,
    Mistake.REG_ON_BIAS: Code.REG_ON_BIAS,
    Mistake.DROPPED_FACTOR: Code.DROPPED_FACTOR,
    Mistake.SIGN_FLIP: Code.SIGN_FLIP,
    Mistake.OVERWRITE_NOT_ACCUMULATE: Code.OVERWRITE_NOT_ACCUMULATE,
    Mistake.LOOP_OFF_BY_ONE: Code.LOOP_OFF_BY_ONE,
    Mistake.LAYER_SKIPPED: Code.LAYER_SKIPPED,
    Mistake.NOT_REVERSED: Code.NOT_REVERSED,
    Mistake.RETURN_ORDER: Code.RETURN_ORDER,
    Mistake.BIAS_WRONG_AXIS: Code.BIAS_WRONG_AXIS,
    Mistake.BIAS_SUMMED_ALL: Code.BIAS_SUMMED_ALL,
    Mistake.BIAS_NOT_SUMMED: Code.BIAS_NOT_SUMMED,
    Mistake.BROADCAST_SLIP: Code.BROADCAST_SLIP,
    Mistake.SOFTMAX_NO_ONEHOT: Code.SOFTMAX_NO_ONEHOT,
    Mistake.SOFTMAX_ONEHOT_COLUMNS: Code.SOFTMAX_ONEHOT_COLUMNS,
    Mistake.SOFTMAX_ONEHOT_AFTER_MEAN: Code.SOFTMAX_ONEHOT_AFTER_MEAN,
    Mistake.FORWARD_VALUE_HANDED_DOWN: Code.FORWARD_VALUE_HANDED_DOWN,
    Mistake.WRONG_VARIABLE: Code.WRONG_VARIABLE,
}

# {grads}: the returned values the mistake changes; {detail}: what it touched
MESSAGES: dict[Mistake, str] = {
    Mistake.TRANSPOSED: "{grads}: a product on the way has its factors in the wrong order or "
    "a transpose (.T) too many or too few, so the values come out transposed",
    Mistake.MISSING_DERIVATIVE: "{grads}: the activation derivative{detail} is left out of the "
    "chain rule; multiply the upstream gradient by it before going down a layer",
    Mistake.RELU_NO_MASK: "{grads}: the ReLU mask is missing; zero the gradient where the "
    "ReLU's input was not positive",
    Mistake.RELU_MASK_INVERTED: "{grads}: the ReLU mask is inverted; keep the gradient where "
    "the ReLU's input is positive and zero it elsewhere",
    Mistake.MASK_ON_GRADIENT: "{grads}: the ReLU mask is built from the gradient it masks; "
    "build it from the ReLU's input (or output): keep the gradient where that is positive",
    Mistake.MASK_WRONG_TENSOR: "{grads}: the ReLU mask is built from the wrong tensor{detail}; "
    "compare the ReLU's input (or output) with 0",
    Mistake.MISSING_FACTOR_2: "{grads}: the factor 2 from the square is missing",
    Mistake.MISSING_1_OVER_N: "{grads}: the division by the batch size N is missing",
    Mistake.EXTRA_1_OVER_N: "{grads}: divided by the batch size N twice",
    Mistake.REG_MISSING: "{grads}: the regularization gradient is missing",
    Mistake.REG_ON_BIAS: "{grads}: the biases are regularized too; the penalty covers the "
    "weights only, so a bias gradient gets no regularization term",
    Mistake.DROPPED_FACTOR: "{grads}: a factor or term of the chain rule is left out",
    Mistake.SIGN_FLIP: "{grads}: a subtraction is the wrong way round, so the sign is flipped",
    Mistake.OVERWRITE_NOT_ACCUMULATE: "{grads}: a sum is overwritten (=) where it must "
    "accumulate (+=), so only the last contribution is kept",
    Mistake.LOOP_OFF_BY_ONE: "{grads}: a loop runs one step short (or starts one late), so a "
    "sample or a layer is left out",
    Mistake.LAYER_SKIPPED: "{grads}: the backward pass skips a layer",
    Mistake.NOT_REVERSED: "{grads}: the layers are handled in the wrong order; go from the last "
    "layer to the first, and return the gradients in layer order",
    Mistake.RETURN_ORDER: "{grads}: the returned values are in the wrong order; return them in "
    "the order the docstring gives",
    Mistake.BIAS_WRONG_AXIS: "{grads}: summed over the wrong axis; sum over the batch (axis 0)",
    Mistake.BIAS_SUMMED_ALL: "{grads}: summed over every axis; sum over the batch (axis 0) only",
    Mistake.BIAS_NOT_SUMMED: "{grads}: not summed over the batch",
    Mistake.BROADCAST_SLIP: "{grads}: a broadcasting slip gives the wrong shape; keep the "
    "summed axis (keepdims=True) so it has its parameter's shape",
    Mistake.SOFTMAX_NO_ONEHOT: "{grads}: the one-hot of the true classes is not subtracted "
    "from the probabilities",
    Mistake.SOFTMAX_ONEHOT_COLUMNS: "{grads}: 1 is subtracted from whole columns (all rows of "
    "each label's column) instead of one entry per row, [range(N), y]",
    Mistake.SOFTMAX_ONEHOT_AFTER_MEAN: "{grads}: the one-hot is subtracted after dividing by N; "
    "subtract it first, then divide by N",
    Mistake.FORWARD_VALUE_HANDED_DOWN: "{grads}: a forward value is passed on where the "
    "upstream gradient belongs{detail}",
    Mistake.WRONG_VARIABLE: "{grads}: one value is used where another belongs{detail}; check "
    "which variable each step of the formula (or of the chain rule) must use",
}


class ReferenceExplainer:
    """The ``Explainer`` of one check of ``task``: ``backward`` is what the
    check calls (the task's function itself, or the test's code around it);
    ``label`` is what the check calls it ("loss_and_grads"), the task's name
    when it has none."""

    def __init__(
        self,
        reference: Reference,
        handle: Any,
        task: Task,
        backward: Callable[..., object],
        label: str | None = None,
    ) -> None:
        self.code = reference
        self.label = label or task.qualname
        self.handle = handle
        self.task = task
        self.backward = backward
        self.originals = {}
        for other in reference.tasks:
            try:
                self.originals[other.id] = original(handle, other)
            except Exception:  # a task the submission lacks cannot be watched
                continue
        self.parameters = _parameters(self.originals.get(task.id)) or reference.parameters(task)

    def cascade(self, args: tuple[Any, ...]) -> Diagnosis | None:
        """Run the reference of this task in the test's place: a call to
        another task's function that differs from its reference is the cause."""
        watch = Watch(self.code, self.originals, answer_right=True)
        mine = self.code.instrumented(self.task, watch.hook)
        if mine is None:
            return None
        watched = {
            other: watch.watcher(other)
            for other in self.code.tasks
            if other.id != self.task.id and other.id in self.originals
        }
        try:
            with substituted(self.handle, watched):
                self._runner(mine)(*args)
        except Exception:  # the test's code failed with the reference: look at what was seen
            pass
        if not watch.wrong:
            return None
        return cascade_diagnosis(self.label, watch.wrong[0])

    def reference(self) -> Callable[..., object] | None:
        return self._runner(self.code.function(self.task))

    def alternatives(self) -> Iterator[Alternative]:
        solution = self.code.solution(self.task)
        if solution is None:
            return
        for mutant in solution.mutants():
            try:
                function = self.code.compile(self.task, mutant.function)
            except Exception:  # a mutant that cannot even be defined names nothing
                continue
            yield Alternative(CODES[mutant.mistake], self._message(mutant), self._runner(function))
        if not self._direct():
            # a loop over the samples of a batch the test's code holds: the
            # checker's own per-sample candidates see only the check's arguments
            right = self.code.function(self.task)
            for first_whole in (False, True):
                for loop in samples.LOOPS:
                    message = samples.MESSAGES[loop.code].replace("{which}", loop.which)
                    runner = self._runner(samples.variant(right, loop, first_whole))
                    label = f"{self.task.qualname}: {message}"
                    yield Alternative(loop.code, label, runner, partial=True)

    def _direct(self) -> bool:
        """Whether the check calls the task's function itself (not through test code)."""
        mine = self.originals.get(self.task.id)
        return self.backward is mine or (
            mine is not None and getattr(self.backward, "__func__", None) is mine
        )

    def _message(self, mutant: Mutant) -> str:
        detail = mutant.detail
        if mutant.mistake in (
            Mistake.MASK_WRONG_TENSOR,
            Mistake.WRONG_VARIABLE,
            Mistake.FORWARD_VALUE_HANDED_DOWN,
        ):
            # only the student's own parameter names may appear in the message
            detail = f" ({detail})" if detail in self.parameters else ""
        elif detail and not detail.startswith("the "):  # a name or a call, not words again
            detail = f" ({detail})"
        else:
            detail = ""
        return f"{self.task.qualname}: " + MESSAGES[mutant.mistake].replace("{detail}", detail)

    def _runner(self, function: Callable[..., Any]) -> Callable[..., object]:
        """``function`` called as the check calls the task: directly when the
        check calls the task's function itself, else through the test's code."""
        mine = self.originals.get(self.task.id)
        direct = self.backward is mine
        bound = getattr(self.backward, "__func__", None) is mine and mine is not None
        owner = getattr(self.backward, "__self__", None)

        def run(*args: Any) -> object:
            if direct:
                return function(*args)
            if bound:
                return function(owner, *args)
            with substituted(self.handle, {self.task: function}):
                return self.backward(*args)

        return run


def cascade_diagnosis(label: str, cause: Task) -> Diagnosis:
    return Diagnosis(
        Code.CASCADE,
        f"{label} fails because your {cause.qualname} (Task {cause.id}) is wrong: fix that first",
    )


def _parameters(function: Any) -> list[str]:
    """The parameter names of the student's function, when it has a signature."""
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []
    if names in (["args", "kwargs"], ["owner", "args", "kwargs"]):  # a grading-mode proxy
        return []
    return [n for n in names if n != "self"]
