"""Every notebook the tests run is a quick run whose outputs go to a temporary folder.

nbval executes each lesson from a copy prepared as the runner prepares it
(``tools.notebook.prepare``): a small slice and one epoch from the notebook's ``quick``
parameters, figures and models in a temporary folder, every prose field computed, and
every model checked against its quick floor at the end. The committed notebooks and
figures are never touched.
"""

import shutil
import tempfile
from collections import defaultdict

import nbformat
from nbval.plugin import IPyNbCell, IPyNbFile

from tools import notebook

OUTPUTS = tempfile.mkdtemp(prefix="keras-course-test-")


class QuickLesson(IPyNbFile):
    """A lesson notebook, run by nbval as the course's quick run."""

    def collect(self):
        self.nb = notebook.prepare(nbformat.read(str(self.fspath), as_version=4),
                                   figures=OUTPUTS, models=f"{OUTPUTS}/models", quick=True)
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            tags = cell.metadata.get("tags", [])
            options = defaultdict(bool, check="nbval-check-output" in tags)
            yield IPyNbCell.from_parent(self, name=f"Cell {number}", cell_num=number,
                                        cell=cell, options=options)


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and file_path.parent.name == "notebooks":
        return QuickLesson.from_parent(parent, path=file_path)


def pytest_unconfigure(config):
    shutil.rmtree(OUTPUTS, ignore_errors=True)
