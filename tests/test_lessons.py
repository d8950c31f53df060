"""A function a lesson teaches is the very function later lessons import."""

import inspect
import re

import nbformat
import pytest

from coursekit import lessons
from coursekit.paths import COURSE_ROOT

NOTEBOOKS = COURSE_ROOT / "notebooks"
TAUGHT_IN = {"plot_history": "02_mnist_mlp.ipynb", "prepare_drawing": "03_mnist_first_cnn.ipynb"}


def code(path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", lessons.__all__)
def test_lesson_and_package_define_the_same_function(name):
    assert name in TAUGHT_IN, f"say which lesson teaches coursekit.lessons.{name}"
    cells = [c.strip() for c in code(NOTEBOOKS / TAUGHT_IN[name])
             if c.lstrip().startswith(f"def {name}(")]
    assert cells, f"{TAUGHT_IN[name]} has no cell that starts with 'def {name}('"
    assert cells[0] == inspect.getsource(getattr(lessons, name)).strip(), (
        f"{TAUGHT_IN[name]}'s {name} and coursekit/lessons.py differ: copy the lesson's cell "
        f"into the package (the lesson is where the learner reads it)")
    assert f"# Taught in lesson {TAUGHT_IN[name][:2]}.\ndef {name}(" in inspect.getsource(lessons)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9]*.ipynb")), ids=lambda p: p.name[:2])
def test_later_lessons_import_it_instead_of_writing_it_again(path):
    source = "\n".join(code(path))
    imports = re.findall(r"^from coursekit\.lessons import (.+?)(?:  #.*)?$", source, re.M)
    imported = {n.strip() for line in imports for n in line.split(",")}
    for name, lesson in TAUGHT_IN.items():
        if path.name != lesson:
            assert f"def {name}(" not in source, f"{path.name} writes {name} again"
        if path.name > lesson and f"{name}(" in source:
            assert name in imported, f"{path.name} uses {name}: import it from coursekit.lessons"
