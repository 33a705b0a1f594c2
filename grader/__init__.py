"""backprop-grader: check numpy backward functions against finite differences,
name the mistake, score it and report it."""

from __future__ import annotations

from grader.gradcheck.api import Budget, check_function, check_layer, check_loss
from grader.gradcheck.metrics import Tolerance
from grader.gradcheck.result import (
    CheckResult,
    Diagnosis,
    Element,
    Metrics,
    Probe,
    Status,
    Taylor,
    TensorCheck,
)
from grader.gradcheck.structure import (
    DENSE,
    ELEMENTWISE,
    ROWS,
    Blocks,
    Dense,
    Elementwise,
    Structure,
)

__version__ = "0.1.0"

__all__ = [
    "DENSE",
    "ELEMENTWISE",
    "ROWS",
    "Blocks",
    "Budget",
    "CheckResult",
    "Dense",
    "Diagnosis",
    "Element",
    "Elementwise",
    "Metrics",
    "Probe",
    "Status",
    "Structure",
    "Taylor",
    "TensorCheck",
    "Tolerance",
    "__version__",
    "check_function",
    "check_layer",
    "check_loss",
]
