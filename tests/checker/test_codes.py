"""Diagnosis codes are one enumeration, each with its words for tables."""

from __future__ import annotations

import json

import pytest

from grader import Code, Diagnosis
from grader.gradcheck.codes import WORDS, words_for


def test_every_code_has_words():
    assert set(WORDS) == set(Code)
    assert all(words.strip() for words in WORDS.values())


def test_a_diagnosis_takes_only_listed_codes():
    assert Diagnosis("transposed", "m").code is Code.TRANSPOSED
    with pytest.raises(ValueError):
        Diagnosis("made_up", "m")


def test_codes_serialise_as_their_value():
    assert json.dumps({"code": Code.MISSING_1_OVER_N}) == '{"code": "missing_1_over_n"}'
    assert words_for("missing_1_over_n") == "missing 1/N"
    assert words_for("from_a_newer_grader") == "from a newer grader"


def test_the_readme_table_lists_every_code():
    from pathlib import Path

    from grader.gradcheck.codes import Code

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert [c.value for c in Code if f"`{c.value}`" not in readme] == []
