"""Where a run's figures and models go, written so that a stop never leaves half a file:
``my-outputs/`` and ``models/`` in the course folder (git ignores them), or under
``~/keras-course-outputs`` where it is read-only, or where :func:`use_output_folder` says,
but never the committed ``figures/`` (the runner lands those once a lesson has run)."""

import contextlib
import io
import os
import re
import secrets
from pathlib import Path

from .errors import CourseError, SettingError
from .paths import COURSE_ROOT

COMMITTED_FIGURES = COURSE_ROOT / "figures"
_chosen: dict[str, Path] = {}  # "figures" and "models", when the runner chose them


def use_output_folder(figures: Path, models: Path | None = None) -> None:
    """Send this run's figures to ``figures``, and its models to ``models`` if given (else to
    the course's ``models/``, as a learner's run does)."""
    for kind, folder in (("figures", figures), ("models", models)):
        if folder is None:
            continue
        folder = Path(folder).resolve()
        if folder == COMMITTED_FIGURES.resolve() or COMMITTED_FIGURES.resolve() in folder.parents:
            raise SettingError(f"{folder} is the course's committed figures/ folder: a lesson's "
                               f"own run never writes there (the runner lands figures once a "
                               f"whole lesson has run). Choose another folder.")
        _chosen[kind] = folder


def _in_course(name: str) -> Path | None:
    """``name`` in the course's folder, if a learner's run may write there."""
    writable = os.access(COURSE_ROOT, os.W_OK) and (COURSE_ROOT / "notebooks").is_dir()
    return COURSE_ROOT / name if writable else None


def output_dir() -> Path:
    """The folder this run's figures go to (not created until something is saved)."""
    return (_chosen.get("figures") or _in_course("my-outputs")
            or Path.home() / "keras-course-outputs")


def model_path(name: str) -> Path:
    """Where a lesson saves a trained model: the course's ``models/`` (git-ignored)."""
    folder = _chosen.get("models") or _in_course("models") or output_dir() / "models"
    return _writable(folder) / name


def _writable(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CourseError(f"Cannot create the output folder {folder} "
                          f"({error.strerror or error}). Make it writable, or free space "
                          f"there.") from error
    return folder


def write_together(contents: dict[Path, bytes], renaming=contextlib.nullcontext) -> None:
    """Write each file in full beside its target, then rename them all into place (inside
    ``renaming()``): a failure first (a full disk, a read-only folder, Ctrl-C) leaves every
    old file and no scraps."""
    written = {}
    try:
        for path, data in contents.items():
            _writable(path.parent)
            written[path] = path.with_name(f"{path.name}.part-{secrets.token_hex(4)}")
            with open(written[path], "xb") as handle:  # "x": a new file, never one already there
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        with renaming():
            for path, tmp in written.items():
                os.replace(tmp, path)
    except BaseException as error:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise CourseError(f"Could not write {path} ({error.strerror or error}); no file was "
                              f"replaced. Free space or fix the folder's permissions.") from error
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a failure leaves the old file (:func:`write_together`)."""
    write_together({Path(path): data})


def save_figure(fig, name: str) -> Path:
    """Save a matplotlib figure as ``<name>.png`` in :func:`output_dir`."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits, '-' and '_'")
    buffer = io.BytesIO()
    # No timestamp in the PNG, so that a rerun changes a figure's bytes only with its pixels.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    path = output_dir() / f"{name}.png"
    atomic_write_bytes(path, buffer.getvalue())
    return path
