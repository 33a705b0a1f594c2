"""Start a jail as an unprivileged user: run as a script (``python -I -S
stage.py SPEC``), standard library only, then exec bubblewrap.

bubblewrap started by root maps the jail's user to root on the host, so a
grader running as root first becomes the jail's own unprivileged user. That
user may not be able to reach the interpreter (pyenv under a 0700 ``/root``):
so, as root and in a private mount namespace of this process only (the host's
mounts never change), each folder on the way that others cannot traverse is
covered by an empty 0755 tmpfs with just the needed paths bound back in. The
process also enters its cgroups before it drops root, so that the jail and
everything it starts are counted there.

SPEC is JSON: ``{"argv": [...], "uid": int | null, "sources": [...],
"cgroups": [procs files]}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
OPEN_PATH = getattr(os, "O_PATH", 0o10000000)


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    encoded = [None if s is None else s.encode() for s in (source, target, kind, data or None)]
    if libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _closed_to_others(path: Path) -> bool:
    return os.stat(path).st_mode & 0o001 == 0


def _first_blocked(paths: list[str]) -> str | None:
    """The shallowest folder on the way to some path that others cannot enter."""
    blocked: list[Path] = []
    for path in paths:
        current = Path("/")
        for part in Path(path).parts[1:-1]:
            current = current / part
            if _closed_to_others(current):
                blocked.append(current)
                break
    return str(min(blocked, key=lambda p: len(p.parts))) if blocked else None


def expose(paths: list[str]) -> None:
    """Make every path in ``paths`` reachable by other users, in this mount
    namespace only: a blocked folder becomes an empty 0755 tmpfs holding
    just the needed paths (bound back from descriptors opened before)."""
    for _ in range(16):
        top = _first_blocked(paths)
        if top is None:
            return
        inside = sorted({p for p in paths if p.startswith(top + "/")})
        # the first component below the blocked folder, for every path under it
        keep = sorted({str(Path(top) / Path(p).relative_to(top).parts[0]) for p in inside})
        held = {path: os.open(path, OPEN_PATH) for path in keep}
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for path, fd in held.items():
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                Path(path).touch()
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, "")
            os.close(fd)
    raise OSError(f"cannot make {paths} reachable: too many closed folders on the way")


def main() -> None:
    spec = json.loads(sys.argv[1])
    uid = spec.get("uid")
    if uid is not None:
        for procs in spec.get("cgroups", []):
            Path(procs).write_text(str(os.getpid()))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE, "")
        expose(list(spec.get("sources", [])))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    argv = [str(a) for a in spec["argv"]]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
