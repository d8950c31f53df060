"""Build the course website from the committed notebooks, without running them.

    python tools/build_site.py [--out _site] [--work _build/site] [--readme README.md]
                               [NOTEBOOK ...]

With no notebook named, the site has every ``notebooks/[0-9]*.ipynb`` in lesson order:
the table of contents is generated from the files, so a new lesson needs no edit here.
The generator is Jupyter Book 1 (Sphinx, sphinx-book-theme) with execution off; the
configuration and static files live in ``site/``.

The source tree handed to Jupyter Book is assembled in ``--work`` (under the git-ignored
``_build/``) from copies, so the committed files are never touched:

* the home page is ``README.md`` (what the course is, the lessons, the results table);
* each notebook keeps its stored outputs; its Open-in-Colab badge is pointed at a local
  copy of the badge image (pages render fully offline) and a "Source notebook" badge
  linking to the notebook on GitHub is added beside it;
* relative links to repository files that are not pages of the site (scripts, data,
  CONTRIBUTING.md, ...) point to GitHub; images they reference are copied along;

The finished HTML replaces ``--out`` (``_site/`` by default).
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE_CONFIG = REPO / "site"
GITHUB = "https://github.com/keras-course/keras-image-course"
BRANCH = "main"
COLAB = f"https://colab.research.google.com/github/keras-course/keras-image-course/blob/{BRANCH}/"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_COLAB_BADGE = "_static/open-in-colab.svg"
LOCAL_SOURCE_BADGE = "_static/view-source.svg"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}

# Markdown links and images: [text](target "title") / ![alt](target), and HTML src/href.
MD_IMAGE = re.compile(r"(!\[[^\[\]]*\]\()(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
MD_LINK = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
HTML_ATTR = re.compile(r"""(\b(?:src|href)=)(["'])([^"']+)\2""")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def lesson_notebooks() -> list[Path]:
    return sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))


class SourceTree:
    """The Jupyter Book project assembled in ``root`` from copies of the course files."""

    def __init__(self, root: Path, notebooks: list[Path]):
        self.root = root
        self.notebooks = notebooks
        self.pages = {f"notebooks/{nb.name}" for nb in notebooks}

    def rewrite_target(self, target: str, logical_dir: str) -> str:
        """Where a relative link written in a file at ``logical_dir`` should point."""
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        if target == COLAB_BADGE_IMAGE:
            return posixpath.relpath(LOCAL_COLAB_BADGE, logical_dir or ".")
        if not target or target.startswith(("#", "/")) or SCHEME.match(target):
            return target
        path, hashmark, anchor = target.partition("#")
        path, _, query = path.partition("?")
        repo_path = posixpath.normpath(posixpath.join(logical_dir, path))
        if repo_path.startswith("../"):
            return target  # outside the repository: leave it for the link check to report
        if repo_path in self.pages or repo_path.startswith("_static/"):
            return target  # a page of the site, or one of its own static files
        if repo_path == "README.md":
            return posixpath.relpath("index.md", logical_dir or ".") + hashmark + anchor
        source = REPO / repo_path
        if source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
            destination = self.root / repo_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            return target
        kind = "tree" if source.is_dir() else "blob"
        return f"{GITHUB}/{kind}/{BRANCH}/{repo_path}{hashmark}{anchor}"

    def rewrite_markdown(self, text: str, logical_dir: str) -> str:
        def md(match):
            return match[1] + self.rewrite_target(match[2], logical_dir) + match[3]

        def html(match):
            return match[1] + match[2] + self.rewrite_target(match[3], logical_dir) + match[2]

        # Images first: a badge is an image inside a link, which MD_LINK takes whole.
        return HTML_ATTR.sub(html, MD_LINK.sub(md, MD_IMAGE.sub(md, text)))

    def add_notebook(self, path: Path) -> None:
        nb = json.loads(path.read_text(encoding="utf-8"))
        name = path.name
        # A notebook never run has no language_info: tell the highlighter it is Python.
        nb.setdefault("metadata", {}).setdefault(
            "language_info", {"name": "python", "pygments_lexer": "ipython3"})
        source_badge = (f"[![Source notebook](../{LOCAL_SOURCE_BADGE})]"
                        f"({GITHUB}/blob/{BRANCH}/notebooks/{name})")
        badged = False
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            if not badged and COLAB_BADGE_IMAGE in text:
                # The badge is [![Open In Colab](image)](colab link): put ours after it.
                text = re.sub(r"(\[!\[[^\]]*\]\(" + re.escape(COLAB_BADGE_IMAGE)
                              + r"\)\]\([^)]*\))", r"\1 " + source_badge.replace("\\", r"\\"),
                              text, count=1)
                badged = True
            cell["source"] = self.rewrite_markdown(text, "notebooks")
        if not badged:  # a lesson without the badge still gets both on the site
            colab_badge = (f"[![Open In Colab](../{LOCAL_COLAB_BADGE})]"
                           f"({COLAB}notebooks/{name})")
            first = next((c for c in nb["cells"] if c["cell_type"] == "markdown"), None)
            if first is None:
                first = {"cell_type": "markdown", "metadata": {}, "source": ""}
                nb["cells"].insert(0, first)
            first["source"] = "".join(first["source"]).rstrip() + \
                f"\n\n{colab_badge} {source_badge}\n"
        destination = self.root / "notebooks" / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")

    def add_home_page(self, readme: Path | None) -> None:
        text = readme.read_text(encoding="utf-8") if readme and readme.is_file() else \
            "# Keras Image Course\n"
        text = self.rewrite_markdown(text, "")
        linked = {nb.name for nb in self.notebooks  # a relative link, not a Colab URL
                  if re.search(r"(\]\(|href=[\"'])(\./)?notebooks/" + re.escape(nb.name), text)}
        if len(linked) < len(self.notebooks):
            # The README does not list every lesson (yet): list them from the notebooks.
            text = text.rstrip() + "\n\n## Lessons\n\n" + "\n".join(
                f"- [{title}](notebooks/{nb.name}){' — ' + summary if summary else ''}"
                for nb in self.notebooks for title, summary in [lesson_heading(nb)]) + "\n"
        (self.root / "index.md").write_text(text, encoding="utf-8")

    def add_toc(self) -> None:
        lines = ["# Generated by tools/build_site.py from notebooks/[0-9]*.ipynb",
                 "format: jb-book", "root: index"]
        if self.notebooks:
            lines += ["parts:", "  - caption: Lessons", "    chapters:"]
            lines += [f"      - file: notebooks/{nb.stem}" for nb in self.notebooks]
        (self.root / "_toc.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def lesson_heading(path: Path) -> tuple[str, str]:
    """A notebook's H1 title and the first sentence of its opening paragraph."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        title = re.search(r"^#\s+(.+)$", text, re.M)
        if not title:
            continue
        rest = text[title.end():].strip().split("\n\n")[0].replace("\n", " ")
        sentence = re.match(r"(.+?[.!?])(\s|$)", rest)
        return title[1].strip(), (sentence[1] if sentence else rest)
    return path.stem.replace("_", " "), ""


def build(out: Path, work: Path, readme: Path | None, notebooks: list[Path]) -> Path:
    if work.exists():
        shutil.rmtree(work)
    source = work / "source"
    shutil.copytree(SITE_CONFIG, source)
    tree = SourceTree(source, notebooks)
    for notebook in notebooks:
        tree.add_notebook(notebook)
    tree.add_home_page(readme)
    tree.add_toc()

    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
               "build", str(source), "--path-output", str(work), "--builder", "html", "--quiet"]
    # Warnings (stderr) are shown; Jupyter Book's banner on stdout names the wrong folder.
    result = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, text=True)
    html = work / "_build" / "html"
    if result.returncode != 0 or not (html / "index.html").is_file():
        print(result.stdout)
        raise SystemExit(f"jupyter-book build failed (exit code {result.returncode})")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: notebooks/[0-9]*.ipynb in lesson order")
    parser.add_argument("--out", type=Path, default=REPO / "_site")
    parser.add_argument("--work", type=Path, default=REPO / "_build" / "site")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or lesson_notebooks()
    start = time.perf_counter()
    out = build(args.out.resolve(), args.work.resolve(), args.readme, notebooks)
    print(f"Site with {len(notebooks)} lesson(s) built in {time.perf_counter() - start:.0f} s: "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
