"""A cgroup per jail: the memory and the number of processes of everything a
submission starts, counted together, its CPU time, and a way to kill all of
it. cgroup v2 where its controllers are enabled, else the v1 hierarchies
(memory, pids, cpuacct); needs root. Where neither can be had, ``create``
returns None and the caller says so plainly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "backprop-grader-"


def _own(controller: str) -> Path | None:
    """This process's cgroup folder in a v1 hierarchy ("memory") or in v2 ("")."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            base = ROOT if controller == "" else ROOT / controller
            return base / path.lstrip("/")
    return None


@dataclass
class Cgroup:
    """The folders of one jail's cgroup (one per v1 hierarchy, or one v2)."""

    folders: dict[str, Path]  # "memory", "pids", "cpu" -> folder (v2: all the same)
    v2: bool

    @property
    def procs(self) -> list[str]:
        """The files a process writes its pid to, to enter."""
        return sorted({str(f / "cgroup.procs") for f in self.folders.values()})

    def cpu_seconds(self) -> float:
        """CPU time used by everything in the cgroup so far."""
        folder = self.folders.get("cpu")
        with contextlib.suppress(OSError, ValueError):
            if folder is None:
                return 0.0
            if self.v2:
                for line in (folder / "cpu.stat").read_text().splitlines():
                    key, value = line.split()
                    if key == "usage_usec":
                        return int(value) / 1e6
            return int((folder / "cpuacct.usage").read_text()) / 1e9
        return 0.0

    def out_of_memory(self) -> bool:
        """Whether the kernel killed something here for the memory limit."""
        folder = self.folders.get("memory")
        with contextlib.suppress(OSError, ValueError):
            if folder is None:
                return False
            if self.v2:
                events = dict(
                    line.split() for line in (folder / "memory.events").read_text().splitlines()
                )
                return int(events.get("oom_kill", "0")) > 0
            control = dict(
                line.split() for line in (folder / "memory.oom_control").read_text().splitlines()
            )
            if "oom_kill" in control:
                return int(control["oom_kill"]) > 0
            return int((folder / "memory.failcnt").read_text()) > 0
        return False

    def kill(self) -> None:
        """SIGKILL everything in the cgroup, and wait until it is empty."""
        for folder in set(self.folders.values()):
            _kill_all(folder, self.v2)

    def remove(self) -> None:
        self.kill()
        for folder in set(self.folders.values()):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _kill_all(folder: Path, v2: bool) -> None:
    if v2 and (folder / "cgroup.kill").exists():
        with contextlib.suppress(OSError):
            (folder / "cgroup.kill").write_text("1")
    for _ in range(200):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _sweep(parent: Path, v2: bool) -> None:
    """Remove the cgroups of graders that are gone (kill -9 leaves them)."""
    with contextlib.suppress(OSError):
        for folder in parent.glob(f"{PREFIX}*"):
            owner = folder.name[len(PREFIX) :].split("-")[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                _kill_all(folder, v2)
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _v2_parent() -> Path | None:
    own = _own("")
    if own is None or not (own / "cgroup.controllers").exists():
        return None
    wanted = {"memory", "pids", "cpu"}
    if not wanted <= set((own / "cgroup.controllers").read_text().split()):
        return None
    # a v2 cgroup with processes may not delegate controllers: use a child
    parent = own / f"{PREFIX}jails"
    with contextlib.suppress(OSError):
        parent.mkdir(exist_ok=True)
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        if not wanted <= enabled:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        return parent
    return None


def create(name: str, memory_mb: int, processes: int) -> Cgroup | None:
    """A fresh cgroup ``backprop-grader-<pid>-<name>`` with these limits, or
    None where this machine (or this user) cannot have one."""
    if os.geteuid() != 0:
        return None
    folder_name = f"{PREFIX}{os.getpid()}-{name}"
    memory = str(memory_mb * 1024 * 1024)
    parent = _v2_parent()
    if parent is not None:
        _sweep(parent, True)
        folder = parent / folder_name
        with contextlib.suppress(OSError):
            folder.mkdir(exist_ok=True)
            ok = _write(folder / "memory.max", memory) and _write(
                folder / "pids.max", str(processes)
            )
            _write(folder / "memory.swap.max", "0")
            if ok:
                return Cgroup({"memory": folder, "pids": folder, "cpu": folder}, v2=True)
            folder.rmdir()
    folders: dict[str, Path] = {}
    for key, controller in (("memory", "memory"), ("pids", "pids"), ("cpu", "cpuacct")):
        own = _own(controller)
        if own is None or not own.is_dir():
            continue
        _sweep(own, False)
        folder = own / folder_name
        try:
            folder.mkdir(exist_ok=True)
        except OSError:
            continue
        folders[key] = folder
    if "memory" not in folders:
        for folder in folders.values():
            with contextlib.suppress(OSError):
                folder.rmdir()
        return None
    group = Cgroup(folders, v2=False)
    limited = _write(folders["memory"] / "memory.limit_in_bytes", memory)
    _write(folders["memory"] / "memory.memsw.limit_in_bytes", memory)
    if "pids" in folders:
        _write(folders["pids"] / "pids.max", str(processes))
    if not limited:
        group.remove()
        return None
    return group
