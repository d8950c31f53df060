"""Run settings read from the environment: quick mode and the folders a learner can set."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SettingError

__all__ = ["QUICK_ENV", "DATA_ENV", "OUTPUT_ENV", "SHAPES_ENV", "COURSE_ROOT",
           "quick_mode", "folder_setting"]

QUICK_ENV = "COURSE_QUICK"
DATA_ENV = "COURSE_DATA_DIR"
OUTPUT_ENV = "COURSE_OUTPUT_DIR"
SHAPES_ENV = "COURSE_SHAPES_DIR"

# The course's folder (notebooks/, data/, figures/ beside this package).
COURSE_ROOT = Path(__file__).resolve().parent.parent


def quick_mode() -> bool:
    """True when ``COURSE_QUICK=1``: small slices and one epoch, as the tests run."""
    value = os.environ.get(QUICK_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise SettingError(
        f"{QUICK_ENV}={value!r} is not a run mode. Use {QUICK_ENV}=1 for the quick "
        f"test run, or unset it (or set it to 0) for the full recipe."
    )


def folder_setting(env_name: str, default: Path | None, *,
                   expected: str = "train/ and test/, each with one subfolder of images per "
                                   "class (e.g. train/circle/*.png)",
                   otherwise: str = "use the course's own data") -> Path | None:
    """The folder named by environment variable ``env_name``, else ``default``.

    A value that is set but is not an existing folder stops with a message naming the
    variable, what the folder should hold, and what unsetting it does, rather than
    falling back silently to the default.
    """
    value = os.environ.get(env_name, "").strip()
    if not value:
        return None if default is None else Path(default)
    path = Path(value).expanduser()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a folder"
        raise SettingError(f"{env_name}={value!r} {what}. Point it at a folder holding "
                           f"{expected}, or unset it to {otherwise}.")
    return path
