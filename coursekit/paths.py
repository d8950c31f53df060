"""Where the course is: its folder, its own small files, and paths fit to print."""

import tarfile
import tempfile
import urllib.request
from pathlib import Path

from .errors import DataError

# The course's folder (notebooks/, data/, figures/ beside this package) when the package
# is installed from it, as `make` and `pip install -r requirements.txt` do.
COURSE_ROOT = Path(__file__).resolve().parent.parent
# Where a lesson opened alone (Colab, a download) unpacks the course's files.
FETCHED_ROOT = Path.home() / ".keras" / "keras-image-course"


def course_root() -> Path:
    """The course's folder: this package's own, or a fetched copy of the same version."""
    if (COURSE_ROOT / "data").is_dir():
        return COURSE_ROOT
    from . import __version__, facts

    folder = FETCHED_ROOT / f"v{__version__}"
    if not folder.is_dir():
        url = f"{facts.repository_url()}/archive/v{__version__}.tar.gz"
        FETCHED_ROOT.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="course-", dir=FETCHED_ROOT))
        try:
            with urllib.request.urlopen(url) as download, \
                    tarfile.open(fileobj=download, mode="r|gz") as archive:
                archive.extractall(staging, filter="data")
        except OSError as error:
            raise DataError(f"This lesson runs outside the course's folder, and the course's "
                            f"files could not be fetched from {url} ({error}). Clone the "
                            f"course and open the lesson there (see its README).") from error
        next(staging.iterdir()).rename(folder)  # the archive holds one folder
    return folder


def course_path(relative: str) -> Path:
    """``relative`` (e.g. ``"data/samples"``) inside the course's folder, wherever it is."""
    path = course_root() / relative
    if not path.exists():
        raise DataError(f"The course's folder has no {relative} ({path}).")
    return path


def display_path(path) -> str:
    """A path fit to print in a notebook: relative to the course, never a machine path."""
    path = Path(path).resolve()
    root = next((r for r in (COURSE_ROOT, course_root()) if path.is_relative_to(r.resolve())), None)
    return path.relative_to(root.resolve()).as_posix() if root else f"<output folder>/{path.name}"
