"""Jacobian structures that let one finite-difference evaluation measure many
gradient elements at once.

If input elements i and j never influence the same output element, perturbing
both together still separates their effects: each output's change belongs to
exactly one of them (its "owner"). A structure lists such groups of inputs and,
for every output element, which input of the group owns it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Group:
    """Input elements perturbed together, and the owner of each output element.

    ``inputs`` are flat indices into the input; ``owners[o]`` is the flat input
    index that output element ``o`` depends on (all outputs if ``owners`` is
    None, the dense case with a single input).
    """

    inputs: IntArray
    owners: IntArray | None


class Structure(ABC):
    """Base class: how the inputs of one tensor can be grouped."""

    label = "structure"

    @abstractmethod
    def groups(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Iterator[Group]:
        """The groups of input elements perturbed together."""

    def count(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        return sum(1 for _ in self.groups(in_shape, out_shape))


class Dense(Structure):
    """No structure: one input element at a time (the cs231n loop)."""

    label = "dense"

    def groups(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Iterator[Group]:
        for i in range(int(np.prod(in_shape))):
            yield Group(np.array([i], dtype=np.intp), None)

    def count(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        return int(np.prod(in_shape))


class Elementwise(Structure):
    """out[i] depends on x[i] only (activations): one group holds everything."""

    label = "elementwise"

    def groups(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Iterator[Group]:
        if in_shape != out_shape:
            raise ValueError(
                f"an elementwise function must keep the shape, but {in_shape} -> {out_shape}; "
                "declare another structure"
            )
        every = np.arange(int(np.prod(in_shape)), dtype=np.intp)
        yield Group(every, every)

    def count(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        return 1


@dataclass(frozen=True)
class Blocks(Structure):
    """Index i along ``in_axis`` of the input only reaches index i along
    ``out_axis`` of the output.

    Examples for ``out = x @ w + b`` with x (N, D), w (D, H), b (H,):
    x is ``Blocks(0, 0)`` (rows are independent), w is ``Blocks(1, 1)``
    (column k of w only feeds column k of out) and b is ``Blocks(0, 1)``.
    Row-wise softmax or a per-sample loss is ``Blocks(0, 0)``.
    """

    in_axis: int
    out_axis: int
    label = "blocks"

    def groups(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Iterator[Group]:
        in_axis = self.in_axis % len(in_shape)
        out_axis = self.out_axis % len(out_shape)
        n = in_shape[in_axis]
        if out_shape[out_axis] != n:
            raise ValueError(
                f"Blocks({self.in_axis}, {self.out_axis}): input axis has {n} entries but "
                f"output axis has {out_shape[out_axis]}"
            )
        flat = np.arange(int(np.prod(in_shape)), dtype=np.intp).reshape(in_shape)
        lanes = np.moveaxis(flat, in_axis, -1).reshape(-1, n)
        along = np.indices(out_shape, dtype=np.intp)[out_axis].ravel()
        for lane in lanes:
            yield Group(lane, lane[along])

    def count(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        return int(np.prod(in_shape)) // in_shape[self.in_axis % len(in_shape)]


ROWS = Blocks(0, 0)
ELEMENTWISE = Elementwise()
DENSE = Dense()
