"""Shared setup for the reference tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # pyproject sets pythonpath too; this covers other start dirs
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread: as fast for these small matrices, and a multithreaded BLAS
    stalls badly (seed 003's run: 0.4 s -> 10 s) when another process holds a core.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # comes with scikit-learn; without it, just run multithreaded
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
