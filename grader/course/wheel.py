"""The wheel of the running grader, for a handout to install from: built from
the source checkout the grader runs from, or packed again from the installed
files of a grader installed from a wheel. Built once per process."""

from __future__ import annotations

import atexit
import base64
import csv
import functools
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DIST = "backprop_grader"
# what a source build needs (pyproject.toml's package-dir maps examples/checker into the wheel)
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "grader", "examples/checker")
# written by the installer, not part of the wheel
INSTALLED_ONLY = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


class WheelError(Exception):
    """The grader's wheel cannot be made here."""


@functools.cache
def grader_wheel() -> Path:
    """A wheel of the grader that runs this code (cached for the process)."""
    home = Path(__file__).resolve().parents[2]  # the folder holding grader/
    folder = Path(tempfile.mkdtemp(prefix="grader-wheel-"))
    atexit.register(_remove, folder, os.getpid())  # kept while the process runs
    if _is_source(home):
        return _build(home, folder)
    infos = sorted(home.glob(f"{DIST}-*.dist-info"))
    if infos:
        return _repack(home, infos[-1], folder)
    raise WheelError(
        f"cannot make the grader's wheel: {home} is neither its source checkout nor a "
        "site-packages folder with its .dist-info; install the grader with pip first"
    )


def _remove(folder: Path, owner: int) -> None:
    """Only by the process that made it: a forked child that exits must not
    take its parent's wheel away."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def _is_source(root: Path) -> bool:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return False
    return re.search(r'^name\s*=\s*"backprop-grader"', pyproject.read_text(), re.M) is not None


def _build(root: Path, folder: Path) -> Path:
    """pip wheel from a copy of the sources (two builds in one checkout race on build/)."""
    source = folder / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (root / name).is_dir():
            shutil.copytree(root / name, source / name, ignore=ignore)
        elif (root / name).is_file():
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder)]
    done = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=600, check=False
    )
    wheels = sorted(folder.glob(f"{DIST}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise WheelError(f"building the grader's wheel failed: {done.stderr.strip()[-1000:]}")
    shutil.rmtree(source)
    return wheels[0]


def _repack(site: Path, info: Path, folder: Path) -> Path:
    """The installed files of the wheel (its RECORD), zipped again with a fresh RECORD."""
    with (info / "RECORD").open(newline="", encoding="utf-8") as handle:
        listed = [row[0] for row in csv.reader(handle) if row]
    files = [
        name
        for name in listed
        if not name.startswith("..")
        and "__pycache__" not in name
        and not (name.startswith(info.name + "/") and Path(name).name in INSTALLED_ONLY)
    ]
    tags = [
        line.split(":", 1)[1].strip()
        for line in (info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]
    tag = tags[0] if tags else "py3-none-any"
    target = folder / f"{info.name.removesuffix('.dist-info')}-{tag}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name in files:
            data = (site / name).read_bytes()
            wheel.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            writer.writerow([name, f"sha256={digest.decode()}", len(data)])
        writer.writerow([f"{info.name}/RECORD", "", ""])
        wheel.writestr(f"{info.name}/RECORD", record.getvalue())
    return target
