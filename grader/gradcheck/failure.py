"""A failed check as a test failure: the exception a test raises with the
short, student-facing text, and the per-layer checks that let a failing
network name the first layer whose own backward is wrong."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from numpy.typing import ArrayLike

from grader.gradcheck.result import CheckResult, Status


@dataclass(frozen=True)
class LayerCheck:
    """One layer of a network, to check on its own when the network fails:
    its forward and backward (cs231n contract) and the inputs it saw."""

    label: str
    forward: Callable[..., tuple[Any, Any]]
    backward: Callable[..., object]
    inputs: Mapping[str, ArrayLike]
    options: Mapping[str, Any] = field(default_factory=dict)


class NotAttempted(Exception):
    """The task's code still raises NotImplementedError or returns None."""


class GradientCheckFailed(AssertionError):
    """A gradient check failed; ``str()`` is the short, student-facing text."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(failure_text(result))


def failure_text(result: CheckResult) -> str:
    """The diagnosis, then the worst element and the errors of each wrong
    gradient: a few lines, never a dump of arrays."""
    lines = [result.message]
    for tensor in result.tensors:
        if tensor.status is not Status.FAILED:
            continue
        detail = f"  {tensor.name}:"
        if tensor.metrics is None and not tensor.worst:
            if tensor.diagnosis is not None and tensor.diagnosis.message not in result.message:
                lines.append(f"{detail} {tensor.diagnosis.message}")
            continue
        if tensor.metrics is not None:
            m = tensor.metrics
            detail += f" max relative error {m.max_rel_error:.2g}"
            if m.checked:
                detail += f", {m.fraction_wrong:.0%} of {m.checked} checked elements wrong"
        if tensor.worst:
            w = tensor.worst[0]
            detail += f"; worst at {list(w.index)}: expected {w.expected:.6g}, got {w.got:.6g}"
        lines.append(detail)
    return "\n".join(lines)
