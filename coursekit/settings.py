"""Run settings read from the environment: quick mode and the folders a learner can set.

Every setting is checked once, at a lesson's Setup (:func:`check_settings`, which
:func:`quick_mode` calls), so that a wrong value stops the lesson before any data loads
or any training starts, with the setting's name, the path as resolved and the fix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import SettingError

__all__ = ["QUICK_ENV", "DATA_ENV", "OUTPUT_ENV", "SHAPES_ENV", "STRICT_ENV", "SEED_ENV",
           "COURSE_ROOT", "quick_mode", "run_seed", "folder_setting", "data_dir_setting",
           "resolve_setting_path", "check_settings"]

QUICK_ENV = "COURSE_QUICK"
DATA_ENV = "COURSE_DATA_DIR"
OUTPUT_ENV = "COURSE_OUTPUT_DIR"
SHAPES_ENV = "COURSE_SHAPES_DIR"
# Set by tools/run_notebooks.py for the reference full run (see results.compare_with_tutorial).
STRICT_ENV = "COURSE_STRICT_FLOORS"
# Set by tools/seeds.py to train each floor model with seeds fixed in advance.
SEED_ENV = "COURSE_SEED"

# The course's folder (notebooks/, data/, figures/ beside this package).
COURSE_ROOT = Path(__file__).resolve().parent.parent


def _quick_value() -> bool:
    value = os.environ.get(QUICK_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise SettingError(
        f"{QUICK_ENV}={value!r} is not a run mode. Use {QUICK_ENV}=1 for the quick "
        f"test run, or unset it (or set it to 0) for the full recipe."
    )


def quick_mode() -> bool:
    """True when ``COURSE_QUICK=1``: small slices and one epoch, as the tests run.

    Every lesson calls it in its Setup, so it also checks all the other settings
    (:func:`check_settings`): a wrong one stops the lesson there, not after training.
    """
    check_settings()
    return _quick_value()


def run_seed(lesson_default: int) -> int:
    """The random seed for this run: ``COURSE_SEED`` when set, else the lesson's own.

    ``make seeds`` sets ``COURSE_SEED`` to train every model with seeds chosen in
    advance, so a lesson's result is shown not to depend on its own seed.
    """
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return lesson_default
    if not value.isdigit():
        raise SettingError(f"{SEED_ENV}={value!r} is not a seed. Use a whole number "
                           f"such as {SEED_ENV}=1, or unset it for the lesson's own seed.")
    return int(value)


def resolve_setting_path(value: str) -> Path:
    """The absolute folder a path typed into a setting means.

    A relative path is taken from the current folder, where the learner typed it; a
    notebook, though, runs in ``notebooks/``, so when the path does not exist there
    but does under the course's folder (``COURSE_DATA_DIR=data/shapes``), that is used.
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    here = Path.cwd() / path
    if not here.exists() and (COURSE_ROOT / path).exists():
        return (COURSE_ROOT / path).resolve()
    return here.resolve()


def folder_setting(env_name: str, default: Path | None, *,
                   expected: str = "train/ and test/, each with one subfolder of images per "
                                   "class (e.g. train/circle/*.png)",
                   otherwise: str = "use the course's own data") -> Path | None:
    """The folder named by environment variable ``env_name``, else ``default``.

    A value that is set but is not an existing folder stops with a message naming the
    variable, the path as resolved, what the folder should hold, and what unsetting it
    does, rather than falling back silently to the default.
    """
    value = os.environ.get(env_name, "").strip()
    if not value:
        return None if default is None else Path(default)
    path = resolve_setting_path(value)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a folder"
        shown = f"{value!r}" if str(path) == value else f"{value!r} ({path})"
        raise SettingError(f"{env_name}={shown} {what}. Point it at a folder holding "
                           f"{expected}, or unset it to {otherwise}.")
    return path


def writable_folder(env_name: str, path: Path, fix: str) -> Path:
    """Create ``path`` if needed and prove it takes a file; else name it and the fix."""
    where = f"{env_name}={str(path)!r}" if env_name else str(path)
    if path.exists() and not path.is_dir():
        raise SettingError(f"{where} is a file, not a folder. {fix}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise SettingError(f"{where} cannot be written to ({error.strerror or error}). "
                           f"{fix}") from error
    return path


def data_dir_setting() -> Path | None:
    """The folder ``COURSE_DATA_DIR`` names, checked, or None: download the official files."""
    return folder_setting(DATA_ENV, None, expected="mnist/, fashion-mnist/ and cifar-10/ "
                          "(see README, 'Data')", otherwise="download the official files")


_CHECKED: set[tuple] = set()


def check_settings() -> None:
    """Check every course setting now, before data loads or training starts.

    ``COURSE_QUICK`` must be 0 or 1; ``COURSE_DATA_DIR`` and ``COURSE_SHAPES_DIR``,
    when set, existing folders; the output folder (``COURSE_OUTPUT_DIR`` or the
    default, see :func:`coursekit.output_dir`) a folder that takes files; and the
    ``results.json`` in it readable. Each problem stops with a :class:`SettingError`
    or :class:`DataError` naming the setting or file, the path as resolved and the
    fix. Checked once per set of values, so calling it again costs nothing.
    """
    names = (QUICK_ENV, DATA_ENV, OUTPUT_ENV, SHAPES_ENV, STRICT_ENV, SEED_ENV)
    key = (tuple(os.environ.get(name, "") for name in names), str(Path.cwd()))
    if key in _CHECKED:
        return
    _quick_value()
    run_seed(0)
    strict = os.environ.get(STRICT_ENV, "").strip()
    if strict not in ("", "0", "1"):
        raise SettingError(f"{STRICT_ENV}={strict!r}: use 1 (a result under its model's "
                           f"floor stops the run) or unset it.")
    data_dir_setting()
    folder_setting(SHAPES_ENV, None)
    from .outputs import output_dir
    from .results import RESULTS_FILE, read_results

    read_results(output_dir() / RESULTS_FILE)
    _CHECKED.add(key)
