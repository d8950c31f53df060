"""Point every link to the course's repository at the one in coursekit/course.toml.

    python -m tools.set_repository           rewrite what differs from course.toml
    python -m tools.set_repository --check   exit 1 if anything differs

Moving the repository is one edit (``[repository] slug`` in ``coursekit/course.toml``)
plus this command. It rewrites the places that must name the repository literally
because they are read before the course's package is available:

* each lesson's Open-in-Colab badge (its first markdown cell);
* each lesson's set-up cell (its first code cell), which fetches the course on Colab;
* the site configuration's repository button (``site/_config.yml``).

Other GitHub links in the lessons (to Keras, TensorFlow, ...) are left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from coursekit.facts import REPOSITORY

REPO = Path(__file__).resolve().parent.parent
SITE_CONFIG = REPO / "site" / "_config.yml"
# owner/name after a host that serves this repository
REPOSITORY_URL = re.compile(
    r"(?P<host>https://(?:github\.com|raw\.githubusercontent\.com"
    r"|colab\.research\.google\.com/github)/)(?P<slug>[\w.-]+/[\w.-]+)")


def pointed_at(text: str, slug: str) -> str:
    return REPOSITORY_URL.sub(lambda m: m.group("host") + slug, text)


def _first(nb, cell_type: str):
    return next((cell for cell in nb.cells if cell.cell_type == cell_type), None)


def stale_files(repo: Path = REPO, slug: str = REPOSITORY, write: bool = False) -> list[Path]:
    """Files that name another repository than ``slug``; rewritten when ``write``."""
    stale = []
    for path in sorted((repo / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in (_first(nb, "markdown"), _first(nb, "code")):
            if cell is not None and pointed_at(cell.source, slug) != cell.source:
                cell.source = pointed_at(cell.source, slug)
                changed = True
        if changed:
            stale.append(path)
            if write:
                nbformat.write(nb, path)
    config = repo / "site" / "_config.yml"
    if config.is_file():
        text = config.read_text(encoding="utf-8")
        if pointed_at(text, slug) != text:
            stale.append(config)
            if write:
                config.write_text(pointed_at(text, slug), encoding="utf-8")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report, do not write")
    args = parser.parse_args(argv)
    stale = stale_files(write=not args.check)
    for path in stale:
        verb = "names another repository than" if args.check else "now points at"
        print(f"{path.relative_to(REPO).as_posix()} {verb} {REPOSITORY}")
    if args.check and stale:
        print("Run `python -m tools.set_repository` to rewrite them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
