"""Run a command (``run_autograder``) as in a Gradescope container, for the tests.

Usage: python gradescope_container.py [--no-namespaces] PASSWD GROUP -- COMMAND...

It must start as root. In a mount namespace of its own it shows PASSWD and
GROUP as /etc/passwd and /etc/group (so the user setup.sh would create exists
here, and nowhere else on the machine). With ``--no-namespaces`` it then
plays the container that refuses namespaces, as Docker's default seccomp
profile does: it enters a user namespace mapping every user id to itself (so
root stays root and may still switch users) whose limits allow no new
namespace of any kind. Because such a container's Python is readable by
every user, the interpreter's folders are first made reachable to other users
when they sit under a private home (pyenv under /root), and so is the folder
standing for /autograder (AUTOGRADER_ROOT) when it sits in a private one.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
LIBC = ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    check(
        LIBC.mount(
            source.encode(),
            target.encode(),
            kind.encode() if kind else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def closed_ancestor(path: str) -> str | None:
    """The first folder above ``path`` that other users cannot pass through."""
    current = Path("/")
    for part in Path(path).parts[1:]:
        if os.stat(current).st_mode & 0o005 != 0o005:
            return str(current)
        current = current / part
    return None


def open_runtime() -> None:
    """Cover each closed ancestor of the interpreter's folders and of the
    folder standing for /autograder (which sits at / in a container) with an
    open tmpfs, and bind back only their subtrees (this mount namespace only)."""
    from grader.sandbox.jail import layout

    root = os.environ.get("AUTOGRADER_ROOT")
    runtime = [*layout().sources(), sys.prefix]
    for _ in range(8):
        needed = [*runtime, *([root] if root else [])]
        closed = sorted({c for p in needed if (c := closed_ancestor(p)) is not None})
        if not closed:
            return
        top = closed[0]
        keep = sorted(
            {
                str(Path(top) / Path(p).relative_to(top).parts[0])
                for p in needed
                if p.startswith(top + "/")
            }
        )
        stage = tempfile.mkdtemp(prefix="container-stage-")
        staged = []
        for i, path in enumerate(keep):
            spot = os.path.join(stage, str(i))
            os.mkdir(spot)
            mount(path, spot, None, MS_BIND | MS_REC)
            staged.append((spot, path))
        mount("tmpfs", top, "tmpfs", 0, "mode=0755,size=64k")
        for spot, path in staged:
            os.makedirs(path, exist_ok=True)
            mount(spot, path, None, MS_BIND | MS_REC)
            LIBC.umount2(spot.encode(), MNT_DETACH)
            os.rmdir(spot)
        os.rmdir(stage)


def refuse_namespaces() -> None:
    """Enter a user namespace where every id maps to itself and no namespace can be made."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    me = os.getpid()
    helper = os.fork()
    if helper == 0:  # still outside: writes the maps of the process that moved
        os.read(ready_r, 1)
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{me}/{name}").write_text("0 0 4294967295\n")
        os.write(done_w, b"x")
        os._exit(0)
    check(LIBC.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    os.write(ready_w, b"x")
    os.read(done_r, 1)
    os.waitpid(helper, 0)
    os.setgid(0)
    os.setuid(0)
    for limit in Path("/proc/sys/user").glob("max_*_namespaces"):
        limit.write_text("0\n")


def main(argv: list[str]) -> None:
    no_namespaces = argv[0] == "--no-namespaces"
    if no_namespaces:
        argv = argv[1:]
    passwd, group, separator, *command = argv
    assert separator == "--" and command, __doc__
    check(LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    mount(passwd, "/etc/passwd", None, MS_BIND)
    mount(group, "/etc/group", None, MS_BIND)
    if no_namespaces:
        open_runtime()
        refuse_namespaces()
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
