"""What readers see: committed notebooks, prose, figures, results and README agree. These
tests read the committed files only (no training)."""

import functools
import json
import re
import subprocess
import sys

import nbformat
import pytest

from coursekit.facts import MODELS, colab_url
from coursekit.paths import COURSE_ROOT
from tools import notebook

NOTEBOOKS = sorted((COURSE_ROOT / "notebooks").glob("[0-9]*.ipynb"))
RESULTS = json.loads((COURSE_ROOT / "figures" / "results.json").read_text(encoding="utf-8"))
MACHINE_TRACES = [
    (re.compile(r"(/work/|/home/|/root/|/Users/|/tmp/|[A-Za-z]:\\\\)"), "an absolute path"),
    (re.compile(r"Traceback \(most recent call last\)"), "a stack trace"),
    (re.compile(r"\b(E|W|I)\d{4} \d\d:\d\d:\d\d"), "a TensorFlow C++ log line"),
    (re.compile(r"\b\w*Warning: "), "a Python warning (fix what it warns about)"),
    (re.compile(r"\bat 0x[0-9A-Fa-f]{6,}"), "a memory address (it differs on every run)"),
    (re.compile(r"\x1b\[[0-9;]*[A-HJKSTf]|\r(?!\n)"), "a progress bar (use verbose=2)"),
]
# What a lesson must not talk about: the course's own machinery (issue 24).
MACHINERY = re.compile(
    r"\bmake (?:run|test|seeds|bench|check|site)\b|(?-i:COURSE_[A-Z_]+)|\bquick(?: mode| run|_mode)"
    r"\b|(?-i:\bQUICK\b)|results\.json|seeds\.json|benchmark\.md|\bthe (?:course's )?tests\b|"
    r"test suite|(?-i:\bCI\b)|autotun|steps_per_execution|enable_op_determinism|jit_compile|"
    r"reference run|\bfloors?\b|nbval|record_result|run_seed|compare_with_tutorial|my-outputs",
    re.I)
WORD_BUDGET = {"01": 1_400}  # every other lesson: 2,000; the course: 14,000
each_lesson = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name[:2] for p in NOTEBOOKS])
load = functools.cache(lambda path: nbformat.read(path, as_version=4))


def prose(nb) -> list[str]:
    """Each markdown cell as a reader sees it: fields shown as their values."""
    return [notebook.FIELD.sub(r"\2", c.source) for c in nb.cells if c.cell_type == "markdown"]


@each_lesson
def test_executed_by_the_runner_with_this_code_and_prose_and_clean_outputs(path):
    nb = load(path)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: not executed top to bottom in one go; run `make run` on it")
    meta = nb.metadata.get("course", {})
    assert meta.get("code_sha256") == notebook.code_sha256(nb), (
        f"{path.name}: code or a prose field changed after the outputs were made; "
        f"`make run NOTEBOOKS=notebooks/{path.name}`")
    values = notebook.prose_values(nb)
    assert values == meta.get("prose"), f"{path.name}: a number in the prose was edited by hand"
    assert "?" not in values and "" not in values, f"{path.name}: a prose field is unfilled"
    text = "\n".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                     + "\n".join(out.get("traceback", []))
                     for c in nb.cells for out in c.get("outputs", []))
    for pattern, what in MACHINE_TRACES:
        match = pattern.search(text)
        assert not match, f"{path.name}: an output contains {what}: {match.group(0)!r}"


@each_lesson
def test_reads_as_a_lesson(path):
    nb = load(path)
    text = "\n".join(prose(nb))
    assert nb.cells[0].source.startswith("# "), f"{path.name}: open with an H1 title"
    assert f"({colab_url(path.name)})" in nb.cells[0].source, f"{path.name}: Colab badge"
    for heading in ["## Setup", "## Summary", "## Exercises", "## Solutions"]:
        assert re.search(rf"^{heading}\b", text, re.M), f"{path.name}: no '{heading}'"
    exercises = re.split(r"^## Exercises\b", text, flags=re.M)[1].split("## Solutions")[0]
    asked = len(re.findall(r"^\d+\. ", exercises, re.M))
    solved = re.findall(r"<summary>Solution (\d+)</summary>", text)
    assert solved == [str(n) for n in range(1, asked + 1)], f"{path.name}: a solution per exercise"
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) <= 1, f"{path.name}: at most one parameters cell"
    shown = [notebook.FIELD.sub(r"\2", c.source) for c in nb.cells if c not in parameters]
    machinery = [(m[0], text[:80]) for text in shown if (m := MACHINERY.search(text))]
    assert not machinery, f"{path.name}: machinery in a lesson: {machinery}"
    typed = "\n".join(notebook.FIELD.sub("", c.source) for c in nb.cells)
    for model in (m for m in MODELS.values() if m.lesson == path.name):
        for name, value in model.reported.items():
            if isinstance(value, float) and len(str(value)) >= 5:
                assert str(value) not in typed, f"{path.name} types {model.id}'s tutorial {name}"


def test_lessons_keep_to_their_word_budget_and_share_one_short_setup_cell():
    words = {p.name[:2]: sum(len(text.split()) for text in prose(load(p))) for p in NOTEBOOKS}
    over = {n: w for n, w in words.items() if w > WORD_BUDGET.get(n, 2_000)}
    assert not over, f"lessons over their word budget: {over}"
    assert sum(words.values()) <= 14_000, words
    cells = [next(c.source for c in load(p).cells if c.cell_type == "code") for p in NOTEBOOKS]
    assert len(set(cells)) == 1 and len(cells[0].splitlines()) <= 6, cells[0]


def test_figures_are_the_ones_the_lessons_save():
    source = "\n".join(c.source for p in NOTEBOOKS for c in load(p).cells if c.cell_type == "code")
    saved = re.findall(r"save_(?:figure|model_diagram)\([^,]+,\s*(f?)\"([^\"]+)\"", source)
    missing = [name for f, name in saved
               if not f and not (COURSE_ROOT / "figures" / f"{name}.png").is_file()]
    assert missing == [], f"figures a lesson saves but nobody committed: {missing}"
    made = [re.sub(r"\\\{[^}]*\}", ".+", re.escape(name)) for _, name in saved]  # f-strings
    stale = [p.name for p in (COURSE_ROOT / "figures").glob("*.png")
             if not any(re.fullmatch(name, p.stem) for name in made)]
    assert stale == [], f"figures no lesson makes: git rm them ({stale})"


@pytest.mark.parametrize("model", MODELS.values(), ids=list(MODELS))
def test_every_model_is_recorded_by_its_lesson_and_meets_its_floor(model):
    specs = load(COURSE_ROOT / "notebooks" / model.lesson).metadata["course"]["results"]
    assert {"model", "test_accuracy", "test_loss"} <= set(specs[model.id]), model.id
    entry = RESULTS[model.id]
    assert model.floor is None or entry["test_accuracy"] >= model.floor, (model.id, entry)


def test_results_say_what_the_shapes_model_reads_and_which_cifar_data_was_used():
    final = RESULTS["E1-final"]
    assert final["quickdraw_test_accuracy"] >= 0.90 and final["test_accuracy"] == 1.0, final
    assert re.search(r"rebuild|official|download", RESULTS["D1"]["data_source"])


def test_readme_links_every_lesson_and_its_table_is_generated_from_the_results():
    readme = (COURSE_ROOT / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in NOTEBOOKS if f"(notebooks/{p.name})" not in readme] == []
    check = subprocess.run([sys.executable, "-m", "tools.update_readme", "--check"],
                           capture_output=True, text=True, cwd=COURSE_ROOT)
    assert check.returncode == 0, check.stdout + check.stderr
