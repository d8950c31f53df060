"""Where figures, results and saved models go, written so that a stop never leaves half a file."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

from .settings import COURSE_ROOT, OUTPUT_ENV, _quick_value, resolve_setting_path, writable_folder

__all__ = ["output_dir", "display_path", "save_figure", "model_path", "LANDS_IN_ENV"]

_FIGURES_DIR = COURSE_ROOT / "figures"
_MODELS_DIR = COURSE_ROOT / "models"
# A learner's own full runs (git-ignored): see output_dir.
_LEARNER_DIR = COURSE_ROOT / "my-outputs"
_HOME_DIR = Path.home() / "keras-course-outputs"
# Set by tools/run_notebooks.py, which runs a notebook into a staging folder and moves
# its outputs into figures/ only once the notebook has finished: display_path then names
# where they will land ("figures"), not the staging folder.
LANDS_IN_ENV = "COURSE_OUTPUT_LANDS_IN"


def output_dir() -> Path:
    """Where figures and results go, created if needed and checked to take files.

    Nothing a lesson run in Jupyter does may change the committed ``figures/``: only
    ``make run`` and ``make bench`` put a lesson's figures and results there (all or
    nothing, through a staging folder), and ``make seeds`` writes ``seeds.json``. So:

    - ``COURSE_OUTPUT_DIR``, when set (the tests, ``make run`` and ``make seeds`` set it);
    - a quick run: a folder under the system's temporary directory;
    - a full run: ``my-outputs/`` in the course folder, beside ``figures/`` so that a
      learner finds their figures next to the committed ones in Jupyter's file browser
      (git ignores it). Where the course folder cannot be written to (a read-only
      copy, or the package installed without the course), ``~/keras-course-outputs``.
    """
    override = os.environ.get(OUTPUT_ENV, "").strip()
    fix = f"Set {OUTPUT_ENV} to a folder you can write to, or unset it to use the default."
    if override:
        return writable_folder(OUTPUT_ENV, resolve_setting_path(override), fix)
    if _quick_value():
        return writable_folder("", Path(tempfile.gettempdir()) / "keras-course-quick",
                               f"Set {OUTPUT_ENV} to a folder you can write to.")
    if _writable_course():
        return writable_folder("", _LEARNER_DIR, fix)
    return writable_folder("", _HOME_DIR, fix)


def _writable_course() -> bool:
    """True when this package sits in a course folder the learner can write to."""
    return os.access(COURSE_ROOT, os.W_OK) and (COURSE_ROOT / "notebooks").is_dir()


def display_path(path: Path) -> str:
    """A path fit to print in a notebook: relative to the course, never a machine path."""
    path = Path(path).resolve()
    lands_in = os.environ.get(LANDS_IN_ENV, "").strip()
    override = os.environ.get(OUTPUT_ENV, "").strip()
    if lands_in and override:
        try:
            return (Path(lands_in) / path.relative_to(resolve_setting_path(override).resolve())
                    ).as_posix()
        except ValueError:
            pass
    try:
        return path.relative_to(COURSE_ROOT).as_posix()
    except ValueError:
        return f"<output folder>/{path.name}"


_UMASK = os.umask(0)
os.umask(_UMASK)
_PLAIN_FILE_MODE = 0o666 & ~_UMASK


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _PLAIN_FILE_MODE)  # mkstemp makes 0600 files; these are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig, name: str) -> Path:
    """Save a matplotlib figure as ``<name>.png`` in :func:`output_dir`."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits, '-' and '_'")
    buffer = io.BytesIO()
    # A fixed timestamp-free PNG so that re-running a notebook changes a figure's
    # bytes only when its pixels change.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    path = output_dir() / f"{name}.png"
    atomic_write_bytes(path, buffer.getvalue())
    return path


def model_path(name: str) -> Path:
    """Where a lesson saves a trained model.

    A full run keeps its models in the course's ``models/`` (git-ignored), as later
    lessons and the learner expect; a quick run, in the output folder's ``models/``.
    """
    out = output_dir()
    folder = _MODELS_DIR if _writable_course() and not _quick_value() else out / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
