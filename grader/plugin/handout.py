"""Where a handout is: the folder whose ``pytest.ini`` sets the grader's keys
(``grader release`` writes one), found from the handout itself, from the
homework package inside it or from any folder below. The terminal's
"run pytest there" hint and ``grader.notebook.check`` both start here."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Handout:
    folder: Path  # holds pytest.ini
    ini: dict[str, str]  # the [pytest] section

    @property
    def tests(self) -> Path:
        return self.folder / (self.ini.get("testpaths", "tests").split() or ["tests"])[0]

    def hint(self, started: Path) -> str:
        """Where to run pytest, said from the folder it was started in."""
        where = os.path.relpath(self.folder, started)
        move = "" if where == "." else f"cd {where} && "
        return (
            f"backprop-grader: no tests here; the homework's tests are in {self.tests}. "
            f"Run pytest in {self.folder} (the folder with pytest.ini): {move}pytest"
        )


def read_ini(path: Path) -> dict[str, str] | None:
    """The [pytest] section of a pytest.ini, or None when it sets no grader_ key."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    if not parser.has_section("pytest"):
        return None
    section = dict(parser.items("pytest"))
    return section if any(key.startswith("grader_") for key in section) else None


def find(start: Path) -> Handout | None:
    """The handout holding ``start`` (or ``start`` itself), nearest first."""
    for folder in [start.resolve(), *start.resolve().parents]:
        ini = folder / "pytest.ini"
        if ini.is_file():
            section = read_ini(ini)
            if section is not None:
                return Handout(folder, section)
    return None
