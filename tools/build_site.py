"""Build the course website from the committed notebooks, without running them.

    python -m tools.build_site [--out _site] [--work _build/site] [--readme README.md]
                               [NOTEBOOK ...]

With no notebook named, the site has every ``notebooks/[0-9]*.ipynb`` in lesson order:
the table of contents is generated from the files, so a new lesson needs no edit here.
The generator is Jupyter Book 1 (Sphinx, sphinx-book-theme) with execution off; the
configuration, static files and page templates live in ``site/``.

The source tree handed to Jupyter Book is assembled in ``--work`` (under the git-ignored
``_build/``) from copies, so the committed files are never touched:

* the home page is ``site/index.md`` for learners, with the lessons filled in: each
  one's title, opening sentence, full-run time (``figures/notebook_times.json``) and
  models' test accuracy (``figures/results.json``);
* "For maintainers" holds ``README.md`` (``site/maintainers.md`` around it) and
  ``CONTRIBUTING.md``;
* each notebook keeps its stored outputs, with each run of printed lines as one block;
  its Open-in-Colab badge is pointed at a local copy of the badge image (pages render
  fully offline) and a "Source notebook" badge linking to GitHub is added beside it;
* relative links to repository files that are not pages of the site (scripts, data,
  ...) point to GitHub; images they reference are copied along.

The repository's address comes from ``coursekit.facts``. The site ships no math
renderer: a page that would load a script from another host (MathJax from a CDN, for a
formula) fails the build. The finished HTML replaces ``--out`` (``_site/`` by default).
"""

from __future__ import annotations

import argparse
import copy
import json
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from coursekit import facts

REPO = Path(__file__).resolve().parent.parent
SITE_CONFIG = REPO / "site"
NOTEBOOK_TIMES = REPO / "figures" / "notebook_times.json"
RESULTS = REPO / "figures" / "results.json"
CONTRIBUTING = REPO / "CONTRIBUTING.md"
# Repository documents that are pages of the site, and the page each one becomes.
DOCUMENT_PAGES = {"README.md": "maintainers.md", "CONTRIBUTING.md": "contributing.md"}
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
        self.documents: list[str] = []  # pages made from repository documents, in order

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
        if repo_path in DOCUMENT_PAGES:
            page = DOCUMENT_PAGES[repo_path]
            return posixpath.relpath(page, logical_dir or ".") + hashmark + anchor
        source = REPO / repo_path
        if source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
            destination = self.root / repo_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            return target
        return facts.github_url(repo_path) + hashmark + anchor

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
                        f"({facts.github_url(f'notebooks/{name}')})")
        badged = False
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"] = merged_outputs(cell.get("outputs", []))
                if any(is_number_grid(output) for output in cell["outputs"]):
                    cell.setdefault("metadata", {}).setdefault("tags", []).append(FIT_GRID_TAG)
                continue
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
            colab_badge = f"[![Open In Colab](../{LOCAL_COLAB_BADGE})]({facts.colab_url(name)})"
            first = next((c for c in nb["cells"] if c["cell_type"] == "markdown"), None)
            if first is None:
                first = {"cell_type": "markdown", "metadata": {}, "source": ""}
                nb["cells"].insert(0, first)
            first["source"] = "".join(first["source"]).rstrip() + \
                f"\n\n{colab_badge} {source_badge}\n"
        destination = self.root / "notebooks" / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")

    def add_home_page(self) -> None:
        template = SITE_CONFIG / "index.md"
        text = fill(template, {
            "lessons": lesson_list(self.notebooks, read_json(NOTEBOOK_TIMES), read_json(RESULTS)),
            "clone_url": facts.repository_url() + ".git",
            "clone_folder": facts.REPOSITORY.split("/")[-1],
        })
        (self.root / "index.md").write_text(self.rewrite_markdown(text, ""), encoding="utf-8")

    def add_maintainer_pages(self, readme: Path | None) -> None:
        """README.md inside site/maintainers.md, and CONTRIBUTING.md, each as a page."""
        readme_text = readme.read_text(encoding="utf-8") if readme and readme.is_file() else ""
        # The page has its own title: the README's H1 would make it a second page title.
        readme_body = re.sub(r"\A\s*#\s[^\n]*\n", "", readme_text)
        text = fill(SITE_CONFIG / "maintainers.md", {"readme": readme_body})
        self.add_document("README.md", text)
        if CONTRIBUTING.is_file():
            self.add_document("CONTRIBUTING.md", CONTRIBUTING.read_text(encoding="utf-8"))

    def add_document(self, repo_path: str, text: str) -> None:
        page = DOCUMENT_PAGES[repo_path]
        (self.root / page).write_text(self.rewrite_markdown(text, ""), encoding="utf-8")
        self.documents.append(page)

    def add_toc(self) -> None:
        lines = ["# Generated by tools/build_site.py from notebooks/[0-9]*.ipynb",
                 "format: jb-book", "root: index", "parts:"]
        if self.notebooks:
            lines += ["  - caption: Lessons", "    chapters:"]
            lines += [f"      - file: notebooks/{nb.stem}" for nb in self.notebooks]
        if self.documents:
            lines += ["  - caption: For maintainers", "    chapters:"]
            lines += [f"      - file: {posixpath.splitext(page)[0]}" for page in self.documents]
        (self.root / "_toc.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- outputs

FIT_GRID_TAG = "site-fit-grid"  # site/_static/course.css sets these outputs smaller
LINE_FITS = 100  # characters of an output line that fit the column at 1280 px unwrapped


def merged_outputs(outputs: list[dict]) -> list[dict]:
    """A cell's outputs with each run of printed text as one block.

    Keras prints an epoch's log line by line, and the notebook stores each line as its
    own stream output, which the site would show as a box per line. Consecutive outputs
    of the same stream are joined, and so are consecutive text displays (the five parts
    of Keras' rich ``model.summary()``). Figures and other outputs stay as they are.
    """
    merged: list[dict] = []
    for output in outputs:
        last = merged[-1] if merged else None
        if last and is_stream(last, output.get("name")) and is_stream(output, last["name"]):
            last["text"] = "".join(last["text"]) + "".join(output["text"])
        elif last and is_rich_text(last) and is_rich_text(output):
            data, more = last["data"], output["data"]
            data["text/html"] = joined_html("".join(data["text/html"]), "".join(more["text/html"]))
            data["text/plain"] = "".join(data["text/plain"]) + "\n" + "".join(more["text/plain"])
        else:
            merged.append(copy.deepcopy(output))
    return merged


def is_stream(output: dict, name: str | None) -> bool:
    return output.get("output_type") == "stream" and output.get("name") == name


def is_rich_text(output: dict) -> bool:
    """A display of text only, as HTML with a plain-text twin (rich's console output)."""
    return (output.get("output_type") == "display_data" and not output.get("metadata")
            and set(output.get("data", {})) == {"text/html", "text/plain"})


PRE_BLOCK = re.compile(r"\A\s*(<pre\b[^>]*>)((?:(?!</pre>).)*)</pre>\s*\Z", re.S)


def joined_html(first: str, second: str) -> str:
    """Two HTML fragments as one; two <pre> blocks styled alike as one <pre>."""
    a, b = PRE_BLOCK.match(first), PRE_BLOCK.match(second)
    if a and b and a[1] == b[1]:
        return f"{a[1]}{a[2]}{b[2]}</pre>\n"
    return first + second


def is_number_grid(output: dict) -> bool:
    """Printed rows too long for the column, all the same length: an array, not a log."""
    if output.get("output_type") != "stream":
        return False
    long_lines = [line for line in "".join(output["text"]).splitlines() if len(line) > LINE_FITS]
    return len(long_lines) >= 3 and max(map(len, long_lines)) - min(map(len, long_lines)) <= 1


# --------------------------------------------------------------------------- home page

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(template: Path, values: dict[str, str]) -> str:
    """``template``'s text with each ``{{ name }}`` replaced by ``values[name]``."""
    def value(match):
        if match[1] not in values:
            raise SystemExit(f"{template.relative_to(REPO)}: unknown placeholder {match[0]}; "
                             f"tools/build_site.py fills only {', '.join(sorted(values))}")
        return values[match[1]]

    return PLACEHOLDER.sub(value, template.read_text(encoding="utf-8"))


def read_json(path: Path) -> dict:
    """A figures/*.json file; absent (nothing run in full yet) reads as empty."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path.relative_to(REPO)} is not valid JSON ({error}): restore it "
                         "with git, or rewrite it with a full run (make run)") from None


def lesson_list(notebooks: list[Path], times: dict, results: dict) -> str:
    """The lessons as a numbered Markdown list: title, opening sentence, time, results."""
    entries = []
    for nb in notebooks:
        title, summary = lesson_heading(nb)
        seconds = times.get(nb.name)
        run = (f"A full run takes {duration(seconds)} on a 2-core CPU." if seconds is not None
               else "Not timed yet (`make run` times it).")
        entry = [f"1. **[{title}](notebooks/{nb.name})**\\",
                 f"   {summary}\\" if summary else None,
                 f"   [![Open In Colab]({LOCAL_COLAB_BADGE})]({facts.colab_url(nb.name)}) {run}"]
        for model in (m for m in facts.MODELS.values() if m.lesson == nb.name):
            entry.append(f"   - **{model.id}**, {model.title}: "
                         f"{model_result(results.get(model.id))}; tutorial: {model.tutorial}")
        entries.append("\n".join(line for line in entry if line is not None))
    return "\n".join(entries)


def model_result(result: dict | None) -> str:
    if result is None:
        return "not trained in full yet"
    if result.get("quickdraw_test_accuracy") is None:
        return f"{percent(result['test_accuracy'])} test accuracy"
    return (f"{percent(result['test_accuracy'])} test accuracy on its own test drawings, "
            f"{percent(result['quickdraw_test_accuracy'])} on real drawings by other people "
            "(Quick, Draw!)")


def percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def duration(seconds: float) -> str:
    """As a person would say it: "45 s", "about 7 min"."""
    return f"{seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def lesson_heading(path: Path) -> tuple[str, str]:
    """A notebook's H1 title, and what the lesson does in a sentence or two."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        title = re.search(r"^#\s+(.+)$", text, re.M)
        if not title:
            continue
        # The introduction: the paragraphs between the title and the first bold line,
        # heading or badge ("**What you will learn**").
        intro = re.split(r"\n\s*(?:\*\*|#|\[!\[)", text[title.end():].strip())[0]
        return title[1].strip(), lesson_summary(" ".join(intro.split()))
    return path.stem.replace("_", " "), ""


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*\"“])")
THIS_LESSON = re.compile(r"\b(?:[Tt]his (?:first )?lesson|[Ii]n this lesson)\b")


def lesson_summary(intro: str) -> str:
    """The sentence where an introduction says what "this lesson" does, else its first.

    One that leans on the sentence before it (short, or with "that", "these", ...)
    keeps that sentence too.
    """
    sentences = [s for s in SENTENCE_END.split(intro) if s]
    for i, sentence in enumerate(sentences):
        if THIS_LESSON.search(sentence):
            leans = len(sentence.split()) < 12 or re.search(r"\b(?:that|those|these)\b", sentence)
            return " ".join(sentences[i - 1:i + 1] if i and leans else [sentence])
    return sentences[0] if sentences else ""


def build(out: Path, work: Path, readme: Path | None, notebooks: list[Path]) -> Path:
    if work.exists():
        shutil.rmtree(work)
    source = work / "source"
    shutil.copytree(SITE_CONFIG, source)
    tree = SourceTree(source, notebooks)
    for notebook in notebooks:
        tree.add_notebook(notebook)
    tree.add_home_page()
    tree.add_maintainer_pages(readme)
    tree.add_toc()

    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
               "build", str(source), "--path-output", str(work), "--builder", "html", "--quiet"]
    # Warnings (stderr) are shown; Jupyter Book's banner on stdout names the wrong folder.
    result = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, text=True)
    html = work / "_build" / "html"
    if result.returncode != 0 or not (html / "index.html").is_file():
        print(result.stdout)
        raise SystemExit(f"jupyter-book build failed (exit code {result.returncode})")
    check_offline(html)
    if out.exists():
        shutil.rmtree(out)
    # Source maps serve only the theme's developers (3 MB).
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees", "*.map"))
    return out


EXTERNAL_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc=["']((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^"']+)""")


def check_offline(html: Path) -> None:
    """Fail on pages that load a script from another host: the site must work offline."""
    found = {page.relative_to(html).as_posix(): script[1] for page in sorted(html.rglob("*.html"))
             for script in [EXTERNAL_SCRIPT.search(page.read_text(encoding="utf-8"))] if script}
    if found:
        raise SystemExit(
            "Pages that load a script from another host (the site must render offline):\n"
            + "".join(f"  {page}: {url}\n" for page, url in found.items())
            + "A MathJax address means the page has a formula ({math} role or directive); the "
            "site ships no math renderer (site/_config.yml), so write it as text or code.")


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
