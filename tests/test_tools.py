"""Maintainer tools: the repository's location and the code hash of committed outputs."""

import shutil
from pathlib import Path

import nbformat

from coursekit.facts import REPOSITORY
from tools import run_notebooks, set_repository

REPO = Path(__file__).resolve().parent.parent


def test_every_link_to_the_repository_follows_course_toml():
    assert set_repository.stale_files(write=False) == [], (
        "run `python -m tools.set_repository` after changing the slug in course.toml")


def test_moving_the_repository_is_one_command(tmp_path):
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "site", tmp_path / "site")
    lesson = tmp_path / "notebooks" / "03_mnist_first_cnn.ipynb"
    other_links = [c.source for c in nbformat.read(lesson, as_version=4).cells[1:]
                   if c.cell_type == "markdown"]

    rewritten = set_repository.stale_files(tmp_path, "mirror-org/course", write=True)

    assert len(rewritten) == len(list((REPO / "notebooks").glob("[0-9]*.ipynb"))) + 1
    assert set_repository.stale_files(tmp_path, "mirror-org/course") == []
    for path in rewritten:
        text = path.read_text(encoding="utf-8")
        assert "mirror-org/course" in text
    badge = nbformat.read(lesson, as_version=4).cells[0].source
    assert ("https://colab.research.google.com/github/mirror-org/course/blob/main/"
            "notebooks/03_mnist_first_cnn.ipynb") in badge
    assert REPOSITORY not in badge
    assert [c.source for c in nbformat.read(lesson, as_version=4).cells[1:]
            if c.cell_type == "markdown"] == other_links, "only the badge cell may change"


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_code_hash_ignores_comments_and_layout():
    plain = _notebook("x = f(1, 2)\nif x:\n    y = 3", "%pip install -q keras")
    reworded = _notebook("# why we call f\nx = f(1,\n      2)  # a comment\n\nif x:\n  y = 3",
                         "%pip  install -q keras\n# a note")
    assert run_notebooks.code_sha256(plain) == run_notebooks.code_sha256(reworded)


def test_code_hash_sees_every_change_to_the_code():
    base = run_notebooks.code_sha256(_notebook("x = f(1, 2)\nif x:\n    y = 3\nz = 4"))
    for changed in ("x = f(1, 3)\nif x:\n    y = 3\nz = 4",          # a value
                    "x = f(1, 2)\nif x:\n    y = 3\n    z = 4",      # indentation is code
                    "x = f(1, 2)\nif x:\n    y = '3'\nz = 4",        # a string
                    "x = f(1, 2)\nif x:\n    y = 3\nz = 4\n# c\nw = 5"):
        assert run_notebooks.code_sha256(_notebook(changed)) != base, changed
