"""Benchmark of issue 10: how long a submission's process takes to start in
its jail (fork from the fork server, namespaces of its own, its files carried
in, capabilities dropped) and answer a first call; and the one-off start of a
jail with its fork server.

    OPENBLAS_NUM_THREADS=1 python bench/bench_sandbox_start.py [--count 30] [--no-sandbox]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from grader.sandbox.process import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "m.py").write_text("def f(x):\n    return x\n")
        box = Sandbox(Path(folder), sandbox=not args.no_sandbox)
        start = time.perf_counter()
        box.call("m.f", (1,))
        first = time.perf_counter() - start
        times = []
        for _ in range(args.count):
            box.restart()
            start = time.perf_counter()
            box.call("m.f", (1,))
            times.append(time.perf_counter() - start)
        box.close()
    print(f"jail and fork server start, with the first call: {first * 1000:.0f} ms")
    print(
        f"a submission's process: start and first call, median of {args.count}: "
        f"{statistics.median(times) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
