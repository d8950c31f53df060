"""Every notebook the tests run is a quick run whose outputs go to a temporary folder:
nbval executes each lesson from a copy prepared as the runner prepares it
(``tools.notebook.prepare``, quick), so the committed notebooks and figures stay as they are."""

import shutil
import tempfile
from collections import defaultdict

import nbformat
from nbval.plugin import IPyNbCell, IPyNbFile

from tools import notebook

OUTPUTS = tempfile.mkdtemp(prefix="keras-course-test-")


class QuickLesson(IPyNbFile):
    def collect(self):
        self.nb = notebook.prepare(nbformat.read(str(self.fspath), as_version=4),
                                   figures=OUTPUTS, models=f"{OUTPUTS}/models", quick=True)
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            options = defaultdict(bool, check="nbval-check-output" in cell.metadata.get("tags", []))
            yield IPyNbCell.from_parent(self, name=f"Cell {number}", cell_num=number, cell=cell,
                                        options=options)


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and file_path.parent.name == "notebooks":
        return QuickLesson.from_parent(parent, path=file_path)


def pytest_unconfigure(config):
    shutil.rmtree(OUTPUTS, ignore_errors=True)
