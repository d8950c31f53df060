"""``COURSE_DATA_DIR``, the one setting read from the environment; the rest of what a
lesson can change is a variable in its ``parameters`` cell."""

import difflib
import os
from pathlib import Path

from .errors import SettingError
from .facts import REPO_URL_ENV
from .paths import COURSE_ROOT

DATA_ENV = "COURSE_DATA_DIR"
KNOWN_SETTINGS = {DATA_ENV: "a folder holding local copies of the datasets (README, 'Data')",
                  REPO_URL_ENV: "the address of a mirror of the course's repository"}


def check_environment(environ=os.environ) -> None:
    """Refuse a ``COURSE_*`` variable the course does not know (a typo would be ignored)."""
    for name in sorted(n for n in environ if n.startswith("COURSE_") and n not in KNOWN_SETTINGS):
        close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}: {KNOWN_SETTINGS[close[0]]}?" if close else ""
        raise SettingError(f"{name} is not a setting of the course (it knows "
                           f"{', '.join(KNOWN_SETTINGS)}).{hint} Run modes, seeds and epochs are "
                           f"variables in each lesson's parameters cell now; unset {name}.")


def data_dir_setting() -> Path | None:
    """The folder ``COURSE_DATA_DIR`` names, checked, or None (download the official files);
    a relative one is taken from the current folder, or from the course's folder when it
    exists only there (a notebook runs in ``notebooks/``)."""
    check_environment()
    value = os.environ.get(DATA_ENV, "").strip()
    if not value:
        return None
    here = Path(value).expanduser().resolve()
    path = COURSE_ROOT / value if not here.exists() and (COURSE_ROOT / value).exists() else here
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a folder"
        shown = repr(value) if str(path) == value else f"{value!r} ({path})"
        raise SettingError(f"{DATA_ENV}={shown} {what}. Point it at a folder holding mnist/, "
                           f"fashion-mnist/ and cifar-10/ (see README, 'Data'), or unset it "
                           f"to download the official files.")
    return path
