"""The course's own files (data/, figures/, ...), found wherever the course is."""

from __future__ import annotations

from pathlib import Path

from .errors import DataError
from .settings import COURSE_ROOT

__all__ = ["course_path"]


def course_path(relative: str) -> Path:
    """``relative`` (e.g. ``"data/samples"``) inside the course's folder.

    A lesson reads the course's small files through this rather than through ``../data``,
    so it works wherever the notebook itself was opened: in the repository, or alone
    after its first cell fetched the course.
    """
    path = COURSE_ROOT / relative
    if not path.exists():
        raise DataError(f"{path} does not exist: the course's folder {COURSE_ROOT} lacks "
                        f"{relative}. Run the notebook's first cell (the set-up), which "
                        f"fetches the course's files when the notebook is opened alone.")
    return path
