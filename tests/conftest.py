from __future__ import annotations

import numpy as np
import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# The batch tests' miniature course holds homework tests of its own: they run
# only inside grading, never as part of this suite.
collect_ignore_glob = ["batch/course/*"]
