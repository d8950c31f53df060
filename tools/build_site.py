"""``make site``: the course website in _site/, built from the committed notebooks without
running them. Jupyter Book 1 renders their stored outputs as ``site/`` configures it, from
copies to which this script adds what it cannot know: the lessons on the home page (study
time, best result from ``figures/*.json``), README.md and CONTRIBUTING.md in site/'s pages
for maintainers, GitHub links for repository files that are not pages, number fields shown
as their value."""

import json, math, posixpath, re, shutil, subprocess, sys
from pathlib import Path

from coursekit import facts
from coursekit.paths import COURSE_ROOT as REPO

SITE_CONFIG, FIGURES = REPO / "site", REPO / "figures"
LESSONS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
DOCUMENT_PAGES = {"README.md": "maintainers.md", "CONTRIBUTING.md": "contributing.md"}
WORDS_PER_MINUTE, MINUTES_PER_EXERCISE = 150, 10

# [text](target "title") and ![alt](target); a target left as it is (another site, the site's
# root, an anchor); number fields.
MD_LINK = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
NOT_A_FILE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|$)")
NUMBER_FIELD = re.compile(r"<!--\{.*?\}-->(.*?)<!--/-->", re.S)


def site_markdown(text: str, folder: str, root: Path) -> str:
    """Markdown written in ``folder`` as the site shows it: a link to a repository file that
    is not a page goes to GitHub, the Colab badge is the site's copy, a number field its value."""
    def link(match: re.Match) -> str:
        path, hashmark, anchor = match[2].strip("<>").partition("#")
        repo_path = posixpath.normpath(posixpath.join(folder, path.partition("?")[0]))
        if NOT_A_FILE.match(path) or repo_path.startswith("../") or (root / repo_path).is_file():
            return match[0]  # not a file, outside the repository, or a page
        page = DOCUMENT_PAGES.get(repo_path)
        target = posixpath.relpath(page, folder or ".") if page else facts.github_url(repo_path)
        return match[1] + target + hashmark + anchor + match[3]

    text = text.replace("https://colab.research.google.com/assets/colab-badge.svg",
                        posixpath.relpath("_static/open-in-colab.svg", folder or "."))
    return NUMBER_FIELD.sub(r"\1", MD_LINK.sub(link, text))


def read_json(path: Path) -> dict:
    """A figures/*.json file, {} if absent; a damaged one stops the build naming the fix."""
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError as error:
        raise SystemExit(f"{path} is not valid JSON ({error}): restore it with "
                         f"`git checkout -- figures/{path.name}` or rerun `make run`") from error


def lesson_facts(path: Path) -> tuple[str, int, int]:
    """A lesson's title (its first H1), reading minutes (estimated), number of exercises."""
    text = "\n".join(NUMBER_FIELD.sub(r"\1", "".join(c["source"]))
                     for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
    title = re.search(r"^#\s+(.+)$", text, re.M)[1].strip()  # an H1 opens every lesson
    exercises = re.findall(r"^\d+\.\s", text.partition("## Exercises")[2].split("\n#")[0], re.M)
    return title, 5 * math.ceil(len(text.split()) / WORDS_PER_MINUTE / 5), len(exercises)


def home_values(notebooks: list[Path]) -> dict[str, str]:
    """What site/index.md leaves open: the lessons' list, the total time, where to start."""
    times, results = read_json(FIGURES / "notebook_times.json"), read_json(FIGURES / "results.json")
    entries, total = [], 0
    for nb in notebooks:
        title, reading, count = lesson_facts(nb)
        running, exercises = math.ceil(times.get(nb.name, 0) / 60), count * MINUTES_PER_EXERCISE
        total += (minutes := reading + running + exercises)
        ran = f"{running} to run" if nb.name in times else "not timed yet"
        entries.append(f"1. **[{title}](notebooks/{nb.name})**\\\n   About {minutes} min: "
                       f"{reading} to read, {ran}, {exercises} for {count} exercise"
                       f"{'s' * (count != 1)}.")
        best = max((results[m.id] for m in facts.MODELS.values() if m.lesson == nb.name
                    and m.id in results), default=None,
                   key=lambda r: (r.get("quickdraw_test_accuracy") or 0, r["test_accuracy"]))
        if best:  # lesson 08's models also meet real drawings (Quick, Draw!)
            real, own = best.get("quickdraw_test_accuracy"), 100 * best["test_accuracy"]
            entries[-1] += f"\\\n   Your best model: {own:.1f}% test accuracy" + (
                f" on its own test drawings, {100 * real:.1f}% on real drawings by other people "
                "(Quick, Draw!)" if real is not None else "") + "."
    return {"lessons": "\n".join(entries), "total_hours": f"{total / 60:.0f}",
            "first_lesson": f"notebooks/{notebooks[0].stem}",
            "first_colab": facts.colab_url(notebooks[0].name),
            "clone_url": facts.repository_url() + ".git",
            "clone_folder": facts.REPOSITORY.split("/")[-1]}


def site_cells(cell: dict) -> list[dict]:
    """A cell as the site shows it. MyST-NB puts every display of a captioned cell in its
    figure: displays before the image (a model's summary) get a cell of their own."""
    meta, outputs = cell["metadata"], cell.get("outputs", [])
    if "figure" not in meta.get("mystnb", {}):
        return [cell]
    # The image's alt text is its caption; a width makes Sphinx link the full-size image.
    meta["mystnb"]["image"] = {"width": "100%", "alt": meta["mystnb"]["figure"]["caption"]}
    first = next(i for i, out in enumerate(outputs) if "image/png" in out.get("data", {}))
    if all(out["output_type"] == "stream" for out in outputs[:first]):
        return [cell]
    return [{**cell, "metadata": {"tags": meta.get("tags", [])}, "outputs": outputs[:first]},
            {**cell, "id": f"{cell['id']}-figure", "outputs": outputs[first:],
             "metadata": {**meta, "tags": [*meta.get("tags", []), "remove-input"]}}]


def assemble(root: Path, notebooks: list[Path]) -> None:
    """The Jupyter Book source in ``root``: site/, the lessons, site/'s pages filled in."""
    shutil.copytree(SITE_CONFIG, root)
    (root / "notebooks").mkdir()
    for notebook in notebooks:  # all copied before any is read: lessons link each other
        shutil.copy(notebook, root / "notebooks" / notebook.name)
    for path in (root / "notebooks" / notebook.name for notebook in notebooks):
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb["metadata"].setdefault("language_info", {"name": "python"})  # never run: Python
        nb["cells"] = [part for cell in nb["cells"] for part in site_cells(cell)]
        for cell in (c for c in nb["cells"] if c["cell_type"] == "markdown"):
            cell["source"] = site_markdown("".join(cell["source"]), "notebooks", root)
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    fields = {**home_values(notebooks), "readme": re.sub(r"\A\s*#\s[^\n]*\n", "", readme),
              "contributing": (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")}
    for page in ("index.md", *DOCUMENT_PAGES.values()):  # maintainers.md has its own title
        text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: fields[m[1]],  # KeyError: unknown name
                      (SITE_CONFIG / page).read_text(encoding="utf-8"))
        (root / page).write_text(site_markdown(text, "", root), encoding="utf-8")


def build(out: Path, work: Path, notebooks: list[Path]) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    assemble(work / "source", notebooks)
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
               str(work / "source"), "--path-output", str(work), "--builder", "html", "--quiet"]
    # Warnings (stderr) are shown; Jupyter Book's banner on stdout names the wrong folder.
    result = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, text=True)
    html = work / "_build" / "html"
    if result.returncode != 0 or not (html / "index.html").is_file():
        print(result.stdout)
        raise SystemExit(f"jupyter-book build failed (exit code {result.returncode})")
    shutil.rmtree(out, ignore_errors=True)
    # Not shipped: source maps, translations (used in the build), TrueType twins of WOFF2 fonts.
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(
        ".buildinfo", ".doctrees", "*.map", "locales", "*.ttf", "*webpack-macros.html"))
    return out


def main() -> None:
    out = build(REPO / "_site", REPO / "_build" / "site", LESSONS)
    print(f"Site built: open {out / 'index.html'}")


if __name__ == "__main__":
    main()
