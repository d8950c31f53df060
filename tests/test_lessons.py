"""A function a lesson teaches is the very function later lessons import."""

import inspect
import re
from pathlib import Path

import nbformat
import pytest

from coursekit import lessons
from coursekit.paths import COURSE_ROOT

NOTEBOOKS = COURSE_ROOT / "notebooks"
TAUGHT_IN = {"plot_history": "02_mnist_mlp.ipynb",
             "prepare_drawing": "03_mnist_first_cnn.ipynb"}


@pytest.mark.parametrize("name", lessons.__all__)
def test_lesson_and_package_define_the_same_function(name):
    assert name in TAUGHT_IN, f"say which lesson teaches coursekit.lessons.{name}"
    nb = nbformat.read(NOTEBOOKS / TAUGHT_IN[name], as_version=4)
    cells = [c.source.strip() for c in nb.cells
             if c.cell_type == "code" and c.source.lstrip().startswith(f"def {name}(")]
    assert cells, f"{TAUGHT_IN[name]} has no cell that starts with 'def {name}('"
    assert cells[0] == inspect.getsource(getattr(lessons, name)).strip(), (
        f"{TAUGHT_IN[name]}'s {name} and coursekit/lessons.py differ: copy the lesson's cell "
        f"into the package (the lesson is where the learner reads it)")
    source = inspect.getsource(lessons)
    assert f"# Taught in lesson {TAUGHT_IN[name][:2]}.\ndef {name}(" in source


def test_later_lessons_import_it_instead_of_writing_it_again():
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for name, lesson in TAUGHT_IN.items():
            if path.name != lesson:
                assert f"def {name}(" not in code, f"{path.name} writes {name} again"
            if path.name > lesson and f"{name}(" in code:
                imports = re.findall(r"^from coursekit\.lessons import (.+?)(?:  #.*)?$",
                                     code, re.MULTILINE)
                assert name in {n.strip() for line in imports for n in line.split(",")}, \
                    f"{path.name} uses {name} without importing it from coursekit.lessons"
