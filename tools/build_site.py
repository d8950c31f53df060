"""Build the course website from the committed notebooks, without running them.

    python -m tools.build_site [--out _site] [--work _build/site] [--readme README.md]
                               [NOTEBOOK ...]

Jupyter Book 1 renders the stored outputs (execution off); ``site/`` holds its
configuration, table of contents (every ``notebooks/*`` page, numbered), static files
and page templates. This script only assembles the source tree in ``--work`` from copies
(the committed files are never touched) and fills in what Jupyter Book cannot know:

* the home page's lessons (``site/index.md``): title, study time (reading from the
  notebook's length, running from ``figures/notebook_times.json``, exercises from its
  "Exercises" list) and best result (``figures/results.json``);
* "About the repository" (``README.md`` in ``site/maintainers.md``) and ``CONTRIBUTING.md``
  as pages outside the lessons' sidebar and search, linked from the home page's foot;
* links to repository files that are not pages point to GitHub (``coursekit.facts``);
  images they show are copied along; number fields ``<!--{expr}-->value<!--/-->`` keep
  their value only.

The site must work offline: a page that loads a script from another host (MathJax for a
formula) fails the build. The finished HTML replaces ``--out`` (``_site/`` by default).
"""

from __future__ import annotations

import argparse
import json
import math
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
FIGURES = REPO / "figures"
DOCUMENT_PAGES = {"README.md": "maintainers.md", "CONTRIBUTING.md": "contributing.md"}
HIDDEN_PAGE = "---\norphan: true\nnosearch: true\n---\n"  # not in the sidebar nor search
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_COLAB_BADGE = "_static/open-in-colab.svg"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
WORDS_PER_MINUTE, MINUTES_PER_EXERCISE = 150, 10

# ![alt](target), [text](target "title") (a badge is an image in a link), HTML src= and
# href=; number fields.
MD_IMAGE = re.compile(r"(!\[[^\[\]]*\]\()(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
MD_LINK = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
HTML_ATTR = re.compile(r"""(\b(?:src|href)=)(["'])([^"']+)\2""")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
NUMBER_FIELD = re.compile(r"<!--\{.*?\}-->(.*?)<!--/-->", re.S)
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1", re.M | re.S)
LINE_BEFORE_HASH = re.compile(r"^([ \t]*[^\s#|].*)\n[ \t]*(?=#)", re.M)


def lesson_notebooks() -> list[Path]:
    return sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))


def link_target(target: str, folder: str, root: Path) -> str:
    """Where a link written in a file in ``folder`` points on the site."""
    target = target[1:-1] if target.startswith("<") and target.endswith(">") else target
    if target == COLAB_BADGE_IMAGE:
        return posixpath.relpath(LOCAL_COLAB_BADGE, folder or ".")
    if not target or target.startswith(("#", "/")) or SCHEME.match(target):
        return target
    path, hashmark, anchor = target.partition("#")
    repo_path = posixpath.normpath(posixpath.join(folder, path.partition("?")[0]))
    if repo_path.startswith("../") or (root / repo_path).is_file() or \
            repo_path in DOCUMENT_PAGES.values():
        return target  # outside the repository (the link check reports it), or on the site
    if repo_path in DOCUMENT_PAGES:
        return posixpath.relpath(DOCUMENT_PAGES[repo_path], folder or ".") + hashmark + anchor
    source = REPO / repo_path
    if source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
        (root / repo_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, root / repo_path)
        return target
    return facts.github_url(repo_path) + hashmark + anchor


def site_markdown(text: str, folder: str, root: Path) -> str:
    text = NUMBER_FIELD.sub(r"\1", text)
    for pattern in (MD_IMAGE, MD_LINK):
        text = pattern.sub(lambda m: m[1] + link_target(m[2], folder, root) + m[3], text)
    return HTML_ATTR.sub(lambda m: m[1] + m[2] + link_target(m[3], folder, root) + m[2], text)


def prose_hashes(text: str) -> str:
    """A line that starts with ``#`` inside a paragraph joins the line before it, as it
    reads on GitHub: Markdown would make it a heading (code fences are left alone)."""
    parts = FENCE.split(text)  # [prose, fence marker, code block ... ]: keep code as is
    blocks = [m[0] for m in FENCE.finditer(text)]
    prose = [LINE_BEFORE_HASH.sub(r"\1 ", part) for part in parts[::2]]
    return "".join(p + (blocks[i] if i < len(blocks) else "") for i, p in enumerate(prose))


def site_notebook(path: Path, root: Path) -> None:
    """The copy of a notebook at ``path`` in ``root``, ready for the site."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    # A notebook never run has no language_info: tell the highlighter it is Python.
    nb.setdefault("metadata", {}).setdefault(
        "language_info", {"name": "python", "pygments_lexer": "ipython3"})
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = site_markdown("".join(cell["source"]), "notebooks", root)
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


def fill(template: Path, values: dict[str, str]) -> str:
    """``template``'s text with each ``{{ name }}`` replaced by ``values[name]``."""
    def value(match):
        if match[1] not in values:
            raise SystemExit(f"{template.relative_to(REPO)}: unknown placeholder {match[0]}; "
                             f"tools/build_site.py fills only {', '.join(sorted(values))}")
        return values[match[1]]
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", value, template.read_text(encoding="utf-8"))


def read_json(path: Path) -> dict:
    """A figures/*.json file; absent (nothing run in full yet) reads as empty."""
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path.relative_to(REPO)} is not valid JSON ({error}): restore it "
                         "with git, or rewrite it with a full run (make run)") from None


def study_minutes(path: Path, run_seconds: float | None) -> tuple[int, int, int, int]:
    """(reading, running, exercises, number of exercises) in minutes, as estimated."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = [NUMBER_FIELD.sub(r"\1", "".join(c["source"])) for c in cells]
    reading = 5 * math.ceil(sum(len(t.split()) for t in text) / WORDS_PER_MINUTE / 5)
    exercises = "".join(t.partition("## Exercises")[2] for t in text)
    count = len(re.findall(r"^\d+\.\s", exercises, re.M))
    return reading, math.ceil((run_seconds or 0) / 60), count * MINUTES_PER_EXERCISE, count


def lesson_title(path: Path) -> str:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        title = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
        if cell["cell_type"] == "markdown" and title:
            return title[1].strip()
    return path.stem.replace("_", " ")


def model_result(result: dict | None) -> str:
    if result is None:
        return "not trained in full yet"
    if result.get("quickdraw_test_accuracy") is None:
        return f"{100 * result['test_accuracy']:.1f}% test accuracy"
    return (f"{100 * result['test_accuracy']:.1f}% test accuracy on its own test drawings, "
            f"{100 * result['quickdraw_test_accuracy']:.1f}% on real drawings by other people "
            "(Quick, Draw!)")


def home_values(notebooks: list[Path]) -> dict[str, str]:
    times, results, entries, total = (read_json(FIGURES / "notebook_times.json"),
                                      read_json(FIGURES / "results.json"), [], 0)
    for nb in notebooks:
        reading, running, exercises, count = study_minutes(nb, times.get(nb.name))
        total += reading + running + exercises
        ran = f"{running} to run" if nb.name in times else "not timed yet"
        entry = [f"1. **[{lesson_title(nb)}](notebooks/{nb.name})**\\",
                 f"   About {reading + running + exercises} min: {reading} to read, {ran}, "
                 f"{exercises} for {count} exercise{'s' * (count != 1)}."]
        scored = [results[m.id] for m in facts.MODELS.values()
                  if m.lesson == nb.name and m.id in results]
        if scored:
            best = max(scored, key=lambda r: (r.get("quickdraw_test_accuracy") or 0,
                                              r["test_accuracy"]))
            entry[-1] += "\\"
            entry.append(f"   Your best model: {model_result(best)}.")
        entries.append("\n".join(entry))
    first = notebooks[0] if notebooks else Path("none")
    return {"lessons": "\n".join(entries), "total_hours": f"{total / 60:.0f}",
            "first_lesson": f"notebooks/{first.stem}", "first_colab": facts.colab_url(first.name),
            "clone_url": facts.repository_url() + ".git",
            "clone_folder": facts.REPOSITORY.split("/")[-1]}


def assemble(root: Path, readme: Path | None, notebooks: list[Path]) -> None:
    shutil.copytree(SITE_CONFIG, root)
    (root / "notebooks").mkdir()
    for notebook in notebooks:  # all copied before any is read: lessons link each other
        shutil.copy(notebook, root / "notebooks" / notebook.name)
    for notebook in notebooks:
        site_notebook(root / "notebooks" / notebook.name, root)
    index = fill(SITE_CONFIG / "index.md", home_values(notebooks))
    (root / "index.md").write_text(site_markdown(index, "", root), encoding="utf-8")
    readme_text = readme.read_text(encoding="utf-8") if readme and readme.is_file() else ""
    # The page has its own title: the README's H1 would make a second one.
    readme_text = re.sub(r"\A\s*#\s[^\n]*\n", "", readme_text)
    documents = {"README.md": fill(SITE_CONFIG / "maintainers.md", {"readme": readme_text})}
    if (REPO / "CONTRIBUTING.md").is_file():
        documents["CONTRIBUTING.md"] = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name, text in documents.items():
        page = HIDDEN_PAGE + prose_hashes(site_markdown(text, "", root))
        (root / DOCUMENT_PAGES[name]).write_text(page, encoding="utf-8")


def build(out: Path, work: Path, readme: Path | None, notebooks: list[Path]) -> Path:
    if work.exists():
        shutil.rmtree(work)
    assemble(work / "source", readme, notebooks)
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
               str(work / "source"), "--path-output", str(work), "--builder", "html", "--quiet"]
    # Warnings (stderr) are shown; Jupyter Book's banner on stdout names the wrong folder.
    result = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, text=True)
    html = work / "_build" / "html"
    if result.returncode != 0 or not (html / "index.html").is_file():
        print(result.stdout)
        raise SystemExit(f"jupyter-book build failed (exit code {result.returncode})")
    external = sorted(f"  {page.relative_to(html)}: {m[1]}" for page in html.rglob("*.html")
                      for m in [re.search(r"<script\b[^>]*\bsrc=[\"']((?:https?:)?//[^\"']+)",
                                          page.read_text(encoding="utf-8"))] if m)
    if external:
        raise SystemExit("Pages load a script from another host; the site must render offline "
                         "(MathJax means a formula: write it as text or code):\n"
                         + "\n".join(external))
    if out.exists():
        shutil.rmtree(out)
    # Not shipped: source maps (3 MB), the theme's translations (used while building) and
    # icon fonts in TrueType (every browser takes the WOFF2 twins).
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(
        ".buildinfo", ".doctrees", "*.map", "locales", "*.ttf", "*webpack-macros.html"))
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
