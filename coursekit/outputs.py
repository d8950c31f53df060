"""Where figures, results and saved models go, written so that a stop never leaves half a file."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

from .settings import COURSE_ROOT, OUTPUT_ENV, quick_mode

__all__ = ["output_dir", "display_path", "save_figure", "model_path"]

_FIGURES_DIR = COURSE_ROOT / "figures"
_MODELS_DIR = COURSE_ROOT / "models"


def output_dir() -> Path:
    """Where figures and results go.

    A full run writes to the repository's ``figures/``. A quick run must never
    overwrite those committed files, so it writes to ``COURSE_OUTPUT_DIR`` (the tests
    set it) or to a folder under the system's temporary directory.
    """
    override = os.environ.get(OUTPUT_ENV, "").strip()
    if override:
        path = Path(override)
    elif quick_mode():
        path = Path(tempfile.gettempdir()) / "keras-course-quick"
    else:
        path = _FIGURES_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_path(path: Path) -> str:
    """A path fit to print in a notebook: relative to the course, never a machine path."""
    path = Path(path).resolve()
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
    """Where a lesson saves a trained model: ``models/`` in a full run, else a temp folder."""
    out = output_dir()
    folder = _MODELS_DIR if out == _FIGURES_DIR else out / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
