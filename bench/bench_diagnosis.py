"""Benchmark of issue 12: how many mistakes are named, how many cascades
point at their cause, false alarms, and what naming costs.

For each case of ``diagnosis_corpus.CASES`` it grades the submission with
the assignment's public tests in student mode, reads results.json and
compares each listed task's outcome with the expected one; ``--cost`` times
one failing Network.backprop check with and without the reference.

    python bench/bench_diagnosis.py [--only NAME] [--cost]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from diagnosis_corpus import Case, all_cases

ROOT = Path(__file__).resolve().parents[1]


def grade(assignment: str, folder: Path, tasks: list[str], out: Path) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
            "-o",
            "grader_report=",
            f"--grader-submission={folder}",
            f"--grader-json={out}",
            f"--grader-tasks={','.join(tasks)}",
        ],
        cwd=ROOT / "assignments" / assignment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return json.loads(out.read_text())


def outcomes(results: dict, task: str) -> list[tuple[str, str]]:
    """(code or status, what the student reads) of each failing test of the task."""
    found = []
    for test in results["tests"]:
        number = test["number"]
        if not (number == task or number.startswith(task + ".")) or test["status"] == "passed":
            continue
        diagnosis = test["extra_data"].get("diagnosis")
        if diagnosis:
            code = diagnosis["code"]
        elif "fails because your" in test["output"]:
            code = "cascade"
        else:
            code = test["status"]
        found.append((code, test["output"]))
    return found


def foreign(case: Case, text: str) -> list[str]:
    """The names of ``case.forbid`` that ``text`` uses as a word."""
    return [name for name in case.forbid if re.search(rf"(?<![\w.'\"]){re.escape(name)}\b", text)]


def run_case(case: Case, work: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    folder = work / f"{case.assignment}-{case.name}"
    shutil.copytree(ROOT / "examples/submissions" / case.assignment / "correct", folder)
    path = folder / f"{case.module}.py"
    text = path.read_text()
    if case.old not in text:
        raise SystemExit(f"{case.name}: the edit does not apply to {path}")
    path.write_text(text.replace(case.old, case.new, 1))
    results = grade(case.assignment, folder, list(case.expect), work / f"{folder.name}.json")
    return [(task, want, outcomes(results, task)) for task, want in case.expect.items()]


def cost() -> None:
    """Time of one failed Network.backprop check (layers, 5-7-4 net, public test
    inputs) with and without the explainer: unreversed list (a mutant names
    it), wrong sigmoid_gd (a cascade), and the right code (explainer unused)."""
    import copy as copying

    from grader.plugin.checker import Checker, Subject
    from grader.plugin.student import Student

    edits = {
        "right": ("grads.insert(0, (dEdW, dEdb))", "grads.insert(0, (dEdW, dEdb))"),
        "not_reversed (mutant)": ("grads.insert(0, (dEdW, dEdb))", "grads.append((dEdW, dEdb))"),
        "wrong sigmoid_gd (cascade)": ("return y * (1 - y)", "return y * (1 + y)"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for label, (old, new) in edits.items():
            folder = Path(tmp) / label.split()[0]
            shutil.copytree(ROOT / "examples/submissions/layers/correct", folder)
            path = folder / "layer_class.py"
            path.write_text(path.read_text().replace(old, new))
            student = Student(folder)
            tests = ROOT / "assignments/layers/tests/test_layers.py"
            times = {}
            for explained in (False, True):
                subject = Subject("1.14", lambda s=student: s, tests if explained else None)
                K = student.layer_class
                net = K.Network([5, 7, 4], ["tanh", "sigmoid"], seed=0)
                rng = np.random.default_rng(0)
                X, T = rng.standard_normal((3, 5)), rng.uniform(0, 1, (3, 4))

                def load(params, net=net):
                    for i, layer in enumerate(net.layers):
                        layer.W, layer.b = params[f"W{i}"], params[f"b{i}"]

                def loss(params, K=K, net=net, X=X, T=T, load=load):
                    load(params)
                    return K.half_mse(net.forward(X), T)[0]

                def gradient(params, K=K, net=net, X=X, T=T, load=load):
                    load(params)
                    dEdY = K.half_mse(net.forward(X), T)[1]
                    return [g for pair in net.backprop(dEdY) for g in pair]

                params = {
                    f"{p}{i}": copying.copy(getattr(layer, p))
                    for i, layer in enumerate(net.layers)
                    for p in ("W", "b")
                }
                runs = []
                for _ in range(5):
                    checker = Checker(0, "t", subject=subject)
                    start = time.perf_counter()
                    with contextlib.suppress(AssertionError):
                        checker.function(loss, gradient, params, name="Network.backprop")
                    runs.append(time.perf_counter() - start)
                runs.sort()
                times[explained] = runs[2]
                code = checker.results[-1].diagnosis
                times[f"code{explained}"] = code.code.value if code else "passed"
            print(
                f"| {label} | {times['codeFalse']} | {times[False] * 1000:.1f} ms | "
                f"{times['codeTrue']} | {times[True] * 1000:.1f} ms |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--cost", action="store_true", help="time one check instead")
    args = parser.parse_args()
    if args.cost:
        cost()
        return
    counts = {
        "wrong": 0,
        "detected": 0,
        "named": 0,
        "named_every_test": 0,
        "cascades": 0,
        "pointed": 0,
        "pointed_every_test": 0,
        "right": 0,
        "false_alarms": 0,
        "foreign_names": 0,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for case in all_cases():
            if args.only and args.only not in case.name:
                continue
            start = time.perf_counter()
            rows = run_case(case, Path(tmp))
            seconds = time.perf_counter() - start
            for task, want, found in rows:
                codes = [code for code, _ in found] or ["passed"]
                first = codes[0]
                every = all(code == want for code in codes)
                if want == "passed":
                    counts["right"] += 1
                    counts["false_alarms"] += first != "passed"
                elif want == "cascade":
                    counts["cascades"] += 1
                    counts["pointed"] += first == "cascade"
                    counts["pointed_every_test"] += every
                else:
                    counts["wrong"] += 1
                    counts["detected"] += first != "passed"
                    counts["named"] += first == want
                    counts["named_every_test"] += every
                names = sorted({n for _, text in found for n in foreign(case, text)})
                counts["foreign_names"] += bool(names)
                mark = "ok " if every and not names else "MISS"
                print(f"{mark} {case.assignment}/{case.name} {task}: want {want} ({seconds:.1f}s)")
                for code, text in found:
                    print(f"      {code}: {' '.join(text.split())[:300]}")
                if names:
                    print(f"      names the student's code does not have: {names}")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
