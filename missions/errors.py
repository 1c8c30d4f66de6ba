"""Exceptions raised by :mod:`missions`.

Every message says what was wrong and how to fix it::

    MissionsError                      base of everything raised here
    ├── CrsError (ValueError)          unknown or unusable coordinate reference system
    ├── GeographyInputError (ValueError)
    │                                  a geography file or one of its features is unusable;
    │                                  carries the file, the problems and their feature indexes
    ├── GridError                      the unit grid cannot be built or is missing
    └── StorageError                   the database is unreachable, empty or of the wrong schema
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class MissionsError(Exception):
    """Base class of every error raised by :mod:`missions`."""


class CrsError(MissionsError, ValueError):
    """A coordinate reference system was unknown or cannot be used here."""


@dataclass(frozen=True)
class FeatureProblem:
    """One problem with one feature of a geography file.

    ``index`` is the zero-based position of the feature in the file (``None`` for the file as a
    whole); ``fix`` tells the user what to change.
    """

    index: int | None
    problem: str
    fix: str

    def __str__(self) -> str:
        where = "file" if self.index is None else f"feature {self.index}"
        return f"{where}: {self.problem} (fix: {self.fix})"


class GeographyInputError(MissionsError, ValueError):
    """A geography file, or some of its features, cannot be imported.

    All problems found are listed at once, so the user can fix the file in one pass.
    """

    def __init__(self, path: Path | str, problems: Sequence[FeatureProblem]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{self.path}: cannot import:\n{shown}{tail}")


class GridError(MissionsError):
    """The unit grid cannot be built, or is needed but missing."""


class StorageError(MissionsError):
    """The database cannot be used as asked."""
