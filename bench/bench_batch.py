"""Benchmark of issue 5: batch grading throughput and coordinator memory.

  * grade N copies of examples/submissions/layers/* with 2 workers (public and
    hidden tests, results.json and report.html for each, gradebook, summary):
    submissions per second;
  * per-submission sandbox overhead: starting a confined student process and
    answering a first trivial call, against a bare `python -c "import numpy"`;
  * peak memory (max RSS) of the coordinating process for --count and
    --count-large submissions (the same measurement; workers are separate
    processes and not included);
  * where a layers submission's CPU goes, with one worker: the trusted
    process (pytest, checks, replayed training loops, report) and the
    student's process, and the share of the two training tests.

    python bench/bench_batch.py [--count 200] [--count-large 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


MINI = """import numpy as np

def linear_forward(x, w):
    return x @ w, (x, w)

def square_forward(x):
    return x**2, x

def linear_backward(dout, cache):
    x, w = cache
    return dout @ w.T, {dw}

def square_backward(dout, cache):
    return 2 * cache * dout
"""


def examples_of(assignment: str, scratch: Path) -> list[Path]:
    if assignment != "mini":
        return sorted(p for p in (ROOT / "examples/submissions" / assignment).iterdir()
                      if p.is_dir())
    found = []
    for name, dw in (("right", "x.T @ dout"), ("transposed", "dout.T @ x")):
        (scratch / name).mkdir(parents=True)
        (scratch / name / "mini.py").write_text(MINI.format(dw=dw))
        found.append(scratch / name)
    return found


def make_class(folder: Path, count: int, assignment: str) -> list[Path]:
    examples = examples_of(assignment, folder.parent / "examples")
    paths = []
    for i in range(count):
        target = folder / f"s{i:04d}_{examples[i % len(examples)].name}"
        shutil.copytree(examples[i % len(examples)], target)
        paths.append(target)
    return paths


def grade(count: int, workers: int, course: Path, assignment: str, queue: object) -> None:
    """In a fresh process: grade, then report wall time and this process's peak RSS."""
    from grader.batch.grade import Course, Options, run

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_class(Path(tmp) / "class", count, assignment)
        start = time.perf_counter()
        rows = run(paths, Course(course, assignment), Path(tmp) / "out",
                   Options(workers=workers), log=lambda _: None)
        seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put({"count": len(rows), "seconds": seconds, "peak_mb": peak_kb / 1024,
                   "mean": sum(r.score for r in rows) / len(rows)})


def measured(count: int, workers: int, course: Path, assignment: str) -> dict:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=grade, args=(count, workers, course, assignment, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def overhead(repeats: int = 7) -> tuple[float, float]:
    from grader.sandbox.process import Sandbox

    def bare() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        return time.perf_counter() - start

    def sandboxed() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "work"
            work.mkdir()
            Path(tmp).chmod(0o711)
            (work / "hw.py").write_text("def f():\n    return 1\n")
            start = time.perf_counter()
            box = Sandbox(work, uid=299_999)
            box.call("hw.f")
            seconds = time.perf_counter() - start
            box.close()
            return seconds

    return (statistics.median(bare() for _ in range(repeats)),
            statistics.median(sandboxed() for _ in range(repeats)))


def cpu_split(rounds: int = 2) -> dict:
    """Grade the 8 layers examples ``rounds`` times with one worker in this
    process; CPU seconds per submission of the trusted side and of the
    students' processes (read from /proc just before each is killed), and
    the trusted wall time of the two training tests."""
    import collections
    import os

    import pytest

    from grader.batch.grade import Course, Options, run
    from grader.sandbox import process as sandbox

    student_cpu = [0.0]
    kill = sandbox.Sandbox.kill

    def measured_kill(self: sandbox.Sandbox) -> None:
        if self.pid is not None and self.exit_code(0) is None:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            student_cpu[0] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        kill(self)

    durations: dict[str, float] = collections.defaultdict(float)

    class Timer:
        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_call(self, item: pytest.Item):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return (yield)
            finally:
                durations[item.name.split("[")[0]] += time.perf_counter() - start

    main_ = pytest.main
    sandbox.Sandbox.kill = measured_kill  # type: ignore[method-assign]
    pytest.main = lambda args, plugins=None: main_(args, plugins=[Timer()])  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            examples = examples_of("layers", Path(tmp))
            run(examples[:1], Course(ROOT, "layers"), Path(tmp) / "warm", Options(workers=1),
                log=lambda _: None)
            student_cpu[0] = 0.0
            durations.clear()
            before = resource.getrusage(resource.RUSAGE_SELF)
            start = time.perf_counter()
            run(examples * rounds, Course(ROOT, "layers"), Path(tmp) / "out",
                Options(workers=1, force=True), log=lambda _: None)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        sandbox.Sandbox.kill = kill  # type: ignore[method-assign]
        pytest.main = main_
    count = len(examples) * rounds
    trusted = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    training = durations["test_regression_training_converges"] + durations["test_network_learns_or"]
    return {"wall": wall / count, "trusted_cpu": trusted / count,
            "student_cpu": student_cpu[0] / count, "training_wall": training / count,
            "tests_wall": sum(durations.values()) / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--count-large", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, python "
          f"{platform.python_version()}")
    bare, boxed = overhead()
    print(f"bare `python -c 'import numpy'`: {bare * 1e3:.0f} ms (median of 7)")
    print(f"sandbox start + first call: {boxed * 1e3:.0f} ms (median of 7)")
    runs = [measured(args.count, args.workers, ROOT, "layers") for _ in range(args.repeats)]
    rates = [r["count"] / r["seconds"] for r in runs]
    print(f"layers, {args.count} submissions, {args.workers} workers: "
          f"{statistics.median(rates):.2f} submissions/s (median of {args.repeats}: "
          f"{', '.join(f'{x:.2f}' for x in rates)}); coordinator peak "
          f"{statistics.median(r['peak_mb'] for r in runs):.0f} MB")
    mini = ROOT / "tests/batch/course"
    small = measured(args.count, args.workers, mini, "mini")
    large = measured(args.count_large, args.workers, mini, "mini")
    for r in (small, large):
        print(f"mini course, {r['count']} submissions: {r['count'] / r['seconds']:.1f}/s, "
              f"coordinator peak {r['peak_mb']:.0f} MB")
    split = cpu_split()
    print(f"one layers submission, one worker: {split['wall'] * 1e3:.0f} ms wall; CPU "
          f"{split['trusted_cpu'] * 1e3:.0f} ms trusted + {split['student_cpu'] * 1e3:.0f} ms "
          f"in the student's process; the tests take {split['tests_wall'] * 1e3:.0f} ms of the "
          f"wall time, the two training tests {split['training_wall'] * 1e3:.0f} ms")
    print(json.dumps({"layers": runs, "mini": [small, large], "split": split}))


if __name__ == "__main__":
    main()
