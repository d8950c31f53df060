"""Point every link to the course's repository at the one in coursekit/course.toml.

    python -m tools.set_repository           rewrite what differs from course.toml
    python -m tools.set_repository --check   exit 1 if anything differs

Moving the repository is one edit (``[repository] slug`` in course.toml) plus this
command. It rewrites what must name the repository literally because it is read before
the course's package is available: each lesson's Open-in-Colab badge (its first markdown
cell), its set-up cell (its first code cell: the repository, and the tag ``v<version>``
it installs on Colab, which follows ``coursekit.__version__``: after a release bump run
this too, and push the tag), and the site's repository button (``site/_config.yml``).
Other GitHub links (to Keras, TensorFlow, ...) are left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from coursekit import __version__
from coursekit.facts import REPOSITORY
from coursekit.paths import COURSE_ROOT

# owner/name after a host that serves this repository
REPOSITORY_URL = re.compile(
    r"(?P<host>https://(?:github\.com|raw\.githubusercontent\.com"
    r"|colab\.research\.google\.com/github)/)(?P<slug>[\w.-]+/[\w.-]+)")
SETUP_VERSION = re.compile(r"/archive/v[^/\"\s]+\.tar\.gz")


def stale_files(repo: Path = COURSE_ROOT, slug: str = REPOSITORY, write: bool = False,
                version: str = __version__) -> list[Path]:
    """Files that name another repository than ``slug`` or whose set-up cell fetches
    another version than ``version``; rewritten when ``write``."""
    def pointed(text: str) -> str:
        return REPOSITORY_URL.sub(lambda m: m.group("host") + slug, text)

    def setup(text: str) -> str:
        return SETUP_VERSION.sub(f"/archive/v{version}.tar.gz", pointed(text))

    stale = []
    for path in sorted((repo / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell_type, wanted in (("markdown", pointed), ("code", setup)):
            cell = next(cell for cell in nb.cells if cell.cell_type == cell_type)
            if wanted(cell.source) != cell.source:
                cell.source, changed = wanted(cell.source), True
        if changed:
            stale.append(path)
            if write:
                nbformat.write(nb, path)
    config = repo / "site" / "_config.yml"
    text = config.read_text(encoding="utf-8")
    if pointed(text) != text:
        stale.append(config)
        if write:
            config.write_text(pointed(text), encoding="utf-8")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report, do not write")
    args = parser.parse_args(argv)
    stale = stale_files(write=not args.check)
    for path in stale:
        verb = "does not point at" if args.check else "now points at"
        print(f"{path.relative_to(COURSE_ROOT).as_posix()} {verb} {REPOSITORY} v{__version__}")
    if args.check and stale:
        print("Run `python -m tools.set_repository` to rewrite them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
