"""Benchmark of issue 12: how many mistakes are named, how many cascades
point at their cause, false alarms, and what naming costs.

For each case of ``diagnosis_corpus.CASES`` (and each wrong example
submission in ``examples/submissions``) it grades the submission with the
assignment's public tests in student mode, reads results.json and compares
each listed task's outcome with the expected one.

    python bench/bench_diagnosis.py [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnosis_corpus import CASES, Case

ROOT = Path(__file__).resolve().parents[1]


def grade(assignment: str, folder: Path, tasks: list[str], out: Path) -> dict:
    subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
            "-o", "grader_report=", f"--grader-submission={folder}", f"--grader-json={out}",
            f"--grader-tasks={','.join(tasks)}",
        ],
        cwd=ROOT / "assignments" / assignment, capture_output=True, text=True, timeout=900,
    )
    return json.loads(out.read_text())


def outcome(results: dict, task: str) -> tuple[str, str]:
    """(code or status, message) of the task's first failing test."""
    for test in results["tests"]:
        if test["number"] != task or test["status"] == "passed":
            continue
        diagnosis = test["extra_data"].get("diagnosis")
        if diagnosis:
            return diagnosis["code"], diagnosis["message"]
        if "fails because your" in test["output"]:
            return "cascade", test["output"]
        return test["status"], test["output"]
    return "passed", ""


def run_case(case: Case, work: Path) -> list[tuple[str, str, str, str]]:
    folder = work / f"{case.assignment}-{case.name}"
    shutil.copytree(ROOT / "examples/submissions" / case.assignment / "correct", folder)
    path = folder / f"{case.module}.py"
    text = path.read_text()
    if case.old not in text:
        raise SystemExit(f"{case.name}: the edit does not apply to {path}")
    path.write_text(text.replace(case.old, case.new, 1))
    results = grade(case.assignment, folder, list(case.expect), work / f"{folder.name}.json")
    rows = []
    for task, want in case.expect.items():
        got, message = outcome(results, task)
        rows.append((task, want, got, message))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    counts = {"wrong": 0, "detected": 0, "named": 0, "cascades": 0, "pointed": 0,
              "right": 0, "false_alarms": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only and args.only not in case.name:
                continue
            start = time.perf_counter()
            rows = run_case(case, Path(tmp))
            seconds = time.perf_counter() - start
            for task, want, got, message in rows:
                if want == "passed":
                    counts["right"] += 1
                    counts["false_alarms"] += got != "passed"
                elif want == "cascade":
                    counts["cascades"] += 1
                    counts["pointed"] += got == "cascade"
                else:
                    counts["wrong"] += 1
                    counts["detected"] += got != "passed"
                    counts["named"] += got == want
                mark = "ok " if got == want else "MISS"
                print(f"{mark} {case.assignment}/{case.name} {task}: want {want}, got {got} "
                      f"({seconds:.1f}s) {message[:150]}")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
