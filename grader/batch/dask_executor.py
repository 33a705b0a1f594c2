"""Run the same grading on a Dask distributed cluster (``--dask ADDRESS``).

Each submission is one task calling the same ``grade_job`` as the local
workers, so each Dask worker applies the same sandbox to student code and
writes the same files; the coordinator journals results as they complete.
The output folder must be reachable by the workers (a shared file system,
or a LocalCluster on this machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from grader.batch.records import BatchError, Row
from grader.batch.worker import grade_job, worker_init


def dask_executor(address: str) -> Callable[[list[tuple[Any, ...]]], Iterator[Row]]:
    """An executor for ``batch.run`` that submits every job to ``address``."""
    try:
        import distributed
    except ImportError:
        raise BatchError(
            "--dask needs the distributed package: pip install 'backprop-grader[dask]'"
        ) from None

    def execute(arguments: list[tuple[Any, ...]]) -> Iterator[Row]:
        try:
            connect: Any = distributed.Client  # distributed ships without full type hints
            client = connect(address, timeout="10s")
        except OSError as exc:
            raise BatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            client.run(worker_init)
            futures = [client.submit(grade_job, *args, pure=False) for args in arguments]
            completed: Any = distributed.as_completed
            for future in completed(futures):
                row: Row = future.result()
                yield row
        finally:
            client.close()

    return execute
