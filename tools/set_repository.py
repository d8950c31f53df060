"""Point every link to the course's repository at the one in coursekit/course.toml.

Moving the repository is one edit (``[repository] slug`` in course.toml) plus
``python -m tools.set_repository``, which rewrites what is read before the course's package
is available: each lesson's Colab badge (first markdown cell) and set-up cell (first code
cell: the repository and the tag ``v<version>`` it installs, from ``coursekit.__version__``:
run this after a release bump, and push the tag), and the site's repository button
(site/_config.yml). Other links stay.
"""

import functools, re
from pathlib import Path

import nbformat

from coursekit import __version__
from coursekit.facts import REPOSITORY
from coursekit.paths import COURSE_ROOT

# owner/name after a host that serves this repository
REPOSITORY_URL = re.compile(r"(?P<host>https://(?:github\.com|raw\.githubusercontent\.com|"
                            r"colab\.research\.google\.com/github)/)(?P<slug>[\w.-]+/[\w.-]+)")
SETUP_VERSION = re.compile(r"/archive/v[^/\"\s]+\.tar\.gz")


def stale_files(repo: Path = COURSE_ROOT, slug: str = REPOSITORY, write: bool = False,
                version: str = __version__) -> list[Path]:
    """Files that name another repository than ``slug`` or whose set-up cell fetches
    another version than ``version``; rewritten when ``write``."""
    pointed, stale = functools.partial(REPOSITORY_URL.sub, rf"\g<host>{slug}"), []
    for path in sorted((repo / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        badge = next(cell for cell in nb.cells if cell.cell_type == "markdown")
        setup = next(cell for cell in nb.cells if cell.cell_type == "code")
        before = badge.source, setup.source
        badge.source = pointed(badge.source)
        setup.source = SETUP_VERSION.sub(f"/archive/v{version}.tar.gz", pointed(setup.source))
        if (badge.source, setup.source) != before:
            stale.append(path)
            if write:
                nbformat.write(nb, path)
    config = repo / "site" / "_config.yml"
    if pointed(text := config.read_text(encoding="utf-8")) != text:
        stale.append(config)
        if write:
            config.write_text(pointed(text), encoding="utf-8")
    return stale


def main() -> None:
    for path in stale_files(write=True):
        print(path.relative_to(COURSE_ROOT), f"now points at {REPOSITORY} v{__version__}")


if __name__ == "__main__":
    main()
