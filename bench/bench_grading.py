"""Benchmark of issues 10 and 11: what grading mode costs per submission,
against running the same tests (public and hidden) with plain pytest.

For every assignment, on its correct example:
  * plain: ``python -m pytest tests/ hidden/`` in one process, student mode;
  * graded: ``grader grade`` of N copies with one worker, wall time / N
    (the sandbox in place: the bubblewrap jail unless --no-sandbox);
  * their ratio. Each repeat runs plain pytest as many times as grade has
    copies, and pairs their mean with grade's; medians of --repeats pairs,
    one BLAS thread.
With --class N, also a class of N spiral submissions with 2 workers, in minutes.

    OPENBLAS_NUM_THREADS=1 python bench/bench_grading.py [--copies 3] [--repeats 3]
        [--assignments layers,spiral,moons,digits] [--class 300] [--no-sandbox]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def plain_seconds(assignment: str) -> float:
    folder = ROOT / "assignments" / assignment
    correct = ROOT / "examples" / "submissions" / assignment / "correct"
    argv = [
        sys.executable, "-m", "pytest", str(folder / "tests"), str(folder / "hidden"),
        "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-c", str(folder / "pytest.ini"),
        f"--rootdir={folder}", f"--grader-submission={correct}", "--grader-report=",
    ]
    start = time.perf_counter()
    done = subprocess.run(argv, env=ENV, capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"plain pytest failed on {assignment}:\n{done.stdout[-2000:]}")
    return seconds


def graded_seconds(assignment: str, copies: int, workers: int, sandbox: bool) -> float:
    correct = ROOT / "examples" / "submissions" / assignment / "correct"
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(copies):
            target = Path(tmp) / "class" / f"s{i:04d}"
            shutil.copytree(correct, target)
            paths.append(str(target))
        argv = [
            sys.executable, "-m", "grader", "grade", *paths, "-a", assignment,
            "--course", str(ROOT), "--out", str(Path(tmp) / "out"), "--workers", str(workers),
        ] + ([] if sandbox else ["--no-sandbox"])
        start = time.perf_counter()
        done = subprocess.run(argv, env=ENV, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"grader grade failed on {assignment}:\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignments", default="layers,spiral,moons,digits")
    parser.add_argument("--class", dest="klass", type=int, default=0)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"# sandbox: {'off' if args.no_sandbox else 'bubblewrap jail'}; medians of "
          f"{args.repeats}; grader grade of {args.copies} copies with 1 worker")
    print(f"{'assignment':<12}{'plain pytest s':>16}{'grade s/sub':>14}{'ratio':>8}")
    for assignment in args.assignments.split(","):
        # interleaved: this machine's speed drifts by 20% over minutes, and a
        # ratio of two medians taken minutes apart would carry that drift
        # each pair: plain pytest as many times as grade has copies (a single
        # run of a few seconds drifts as much as the difference measured)
        plains, gradeds = [], []
        for _ in range(args.repeats):
            plains.append(statistics.mean(plain_seconds(assignment) for _ in range(args.copies)))
            gradeds.append(
                graded_seconds(assignment, args.copies, 1, not args.no_sandbox) / args.copies
            )
        plain, graded = statistics.median(plains), statistics.median(gradeds)
        ratios = statistics.median(g / p for g, p in zip(gradeds, plains, strict=True))
        print(
            f"{assignment:<12}{plain:>16.2f}{graded:>14.2f}{graded / plain:>8.2f}"
            f"   (median of the {args.repeats} paired ratios: {ratios:.2f}; pairs "
            + ", ".join(f"{g:.2f}/{p:.2f}" for g, p in zip(gradeds, plains, strict=True))
            + ")"
        )
    if args.klass:
        seconds = graded_seconds("spiral", args.klass, 2, not args.no_sandbox)
        print(f"class of {args.klass} spiral submissions, 2 workers: {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
