"""pytest started in the wrong folder: a hint where to run it, and report.html
next to the handout's pytest.ini wherever pytest was started."""

from __future__ import annotations

from handouts import pytest_in, words

from grader.plugin.handout import find


def test_in_the_homework_package_it_says_where_to_run_pytest(layers_handout):
    result = pytest_in(layers_handout / "layers")
    assert result.returncode == 5  # pytest's "no tests collected"
    said = words(result.stdout)
    assert f"Run pytest in {layers_handout} (the folder with pytest.ini): cd .. && pytest" in said
    assert f"the homework's tests are in {layers_handout / 'tests'}" in said
    assert max(len(line) for line in result.stdout.splitlines()[6:]) <= 80


def test_from_anywhere_below_the_handout(layers_handout):
    deeper = layers_handout / "notes" / "week1"
    deeper.mkdir(parents=True)
    result = pytest_in(deeper)
    assert "cd ../.. && pytest" in words(result.stdout)


def test_no_hint_outside_a_handout(pytester):
    pytester.makeini("[pytest]\naddopts = -q\n")
    result = pytester.runpytest()
    assert "backprop-grader" not in result.stdout.str()


def test_report_goes_next_to_the_handouts_pytest_ini(layers_handout, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = pytest_in(elsewhere, str(layers_handout / "tests"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert (layers_handout / "report.html").is_file()
    assert not (elsewhere / "report.html").exists()
    assert f"wrote {layers_handout / 'report.html'}" in result.stdout


def test_command_line_paths_are_relative_to_where_pytest_started(layers_handout, tmp_path):
    result = pytest_in(layers_handout / "layers", "../tests", "--grader-report=mine.html")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (layers_handout / "layers" / "mine.html").is_file()
    assert "wrote mine.html" in result.stdout


def test_find_names_the_nearest_handout(layers_handout, tmp_path):
    assert find(layers_handout / "layers") == find(layers_handout)
    found = find(layers_handout / "layers")
    assert found is not None and found.folder == layers_handout
    assert found.tests == layers_handout / "tests"
    assert find(tmp_path) is None
