"""A submission's files, carried to its process as data (never a folder of
the host it could reach through a link): the trusted side reads the regular
files of the laid-out submission and sends them as the first message; the
student's process writes them into its own fresh work folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from grader.sandbox import wire

MAX_FILES = 10_000


class FilesError(Exception):
    """The submission's files cannot be sent (too large, or not regular files)."""


def collect(folder: Path, limit: int) -> dict[str, np.ndarray]:
    """Every regular file under ``folder`` (links and special files are left
    out, never followed), as uint8 arrays keyed by relative path."""
    found: dict[str, np.ndarray] = {}
    total = 0
    count = 0
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in names:
            path = os.path.join(root, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            count += 1
            if count > MAX_FILES:
                raise FilesError(f"the submission has more than {MAX_FILES} files")
            if total > limit:
                raise FilesError(
                    f"the submission's files are larger than {limit // (1024 * 1024)} MB"
                )
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                data = f.read(limit)
            key = Path(path).relative_to(folder).as_posix()
            found[key] = np.frombuffer(data, dtype=np.uint8).copy()
    return found


def send(stream: wire.Writer, folder: Path, limit: int) -> None:
    wire.send(stream, {"files": collect(folder, limit)})


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise FilesError(f"refusing the file name {name!r}")
    return path


def receive(fd: int, workdir: Path, limit: int) -> None:
    """Read the first message on ``fd`` (exactly, unbuffered: what follows
    belongs to the worker) and write its files under ``workdir``."""
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as stream:
        bound = wire.Bound(array_elements=limit, total_elements=limit, arrays=MAX_FILES)
        message: Any = wire.receive(stream, bound)
    items = message.get("files") if isinstance(message, dict) else None
    if not isinstance(items, dict):
        raise FilesError("the first message must hold the submission's files")
    total = 0
    for name, data in items.items():
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            raise FilesError(f"{name!r} is not a file's bytes")
        total += data.size
        if total > limit:
            raise FilesError("the submission's files are larger than its work folder")
        target = workdir / _safe(str(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.tobytes())
