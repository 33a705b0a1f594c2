from __future__ import annotations

import copy
from typing import Any

import pytest
import report_samples


@pytest.fixture(scope="session")
def _session() -> dict[str, Any]:
    return report_samples.session()


@pytest.fixture
def session(_session: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the realistic session (tests may edit it)."""
    return copy.deepcopy(_session)
