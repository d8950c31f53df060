"""Every lesson runs when opened alone: on Colab, from the site's download, copied anywhere.

A lesson's first code cell (its set-up cell) fetches the course at the notebook's version
from COURSE_REPO_URL and installs what the Python running it lacks. The slow tests here
copy each notebook alone into an empty folder and run it in quick mode, to the end, with:

* the repository served on 127.0.0.1, as GitHub serves a tag's archive, built from the
  working tree's tracked files (so uncommitted changes are what gets tested);
* a throwaway virtual environment whose Python sees .venv's packages through a ``.pth``
  file. Python does not process the ``.pth`` files of a directory added that way, so
  .venv's editable coursekit stays hidden, and everything pip installs lands in the
  throwaway environment. pip runs with ``PIP_NO_INDEX=1``: the set-up cell must find
  every dependency present and install nothing but coursekit, with no network;
* ``google.colab`` importable (a fake package), as on Colab.

The tests also check that .venv's packages and the course's data/, figures/ and models/
do not change (not the rest of the working tree, where other work may go on meanwhile).
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import threading
from pathlib import Path

import nbformat
import pytest

import coursekit
from coursekit import facts
from coursekit.install import to_install
from helpers import QuietHandler, file_stats, setup_cell

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHARED_DATA = REPO.parent / "shared" / "datasets"
ARCHIVE_PREFIX = f"keras-image-course-{coursekit.__version__}"  # GitHub: <name>-<tag without v>
QUICK_RUN_TIMEOUT = 900  # seconds per cell


# ------------------------------------------------------------------ the set-up cell (fast)


def test_every_lesson_starts_with_the_same_setup_cell_alone():
    cells = {path.name: setup_cell(path) for path in NOTEBOOKS}
    first = cells[NOTEBOOKS[0].name]
    assert first.startswith("# Set-up."), first
    assert [name for name, cell in cells.items() if cell != first] == []


def test_setup_cell_fetches_this_version_from_this_repository_alone():
    cell = setup_cell(NOTEBOOKS[0])
    assert re.findall(r'^VERSION = "([^"]+)"$', cell, re.MULTILINE) == [coursekit.__version__]
    # tools/set_repository.py rewrites this URL: it must appear once, in this form.
    urls = re.findall(r'^REPO_URL = os\.environ\.get\("COURSE_REPO_URL", "([^"]+)"\)$',
                      cell, re.MULTILINE)
    assert urls == [facts.github_url()]
    assert cell.count("https://") == 1


def test_lessons_read_course_files_through_course_path_alone():
    """``../data`` works only beside the repository's notebooks/ folder."""
    relative_reads = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and re.search(r"[\"']\.\./data\b", cell.source):
                relative_reads.append(path.name)
    assert relative_reads == []


PINS = [
    'tensorflow-cpu==2.21.0; sys_platform != "darwin"',
    'tensorflow==2.21.0; sys_platform == "darwin"',
    "keras==3.15.1",
    "numpy==2.4.6",
    "scikit-learn==1.9.1",
    "pydot==4.0.1  # diagrams",
    "jupyterlab==4.6.6",
]
EVERYTHING = {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6",
              "scikit-learn": "1.9.1", "pydot": "4.0.1", "jupyterlab": "4.6.6"}


@pytest.mark.parametrize("installed, needed", [
    (EVERYTHING, []),
    # Colab: its own TensorFlow, numpy and scikit-learn stay; Keras and pydot are pinned
    ({"tensorflow": "2.19.0", "keras": "3.8.0", "numpy": "2.0.2", "scikit-learn": "1.6.1"},
     ["keras==3.15.1", "pydot==4.0.1"]),
    # a bare Python: everything a lesson needs, nothing it does not (Jupyter, ...)
    ({}, PINS[:6]),
    # a TensorFlow too old for Keras 3: both TensorFlow lines, pip keeps the one whose
    # marker holds
    (EVERYTHING | {"tensorflow": "2.15.1"}, PINS[:2]),
], ids=["all-present", "colab", "bare-python", "old-tensorflow"])
def test_install_adds_only_what_the_host_lacks_alone(installed, needed):
    assert to_install(PINS, installed) == [line.split("#")[0].strip() for line in needed]


def test_install_reads_the_course_requirements_alone():
    """The pins install.py applies are those of requirements.txt, markers included."""
    lines = (REPO / "requirements.txt").read_text().splitlines()
    needed = to_install(lines, {})
    names = {re.match(r"[\w.-]+", line)[0].lower() for line in needed}
    assert {"keras", "numpy", "matplotlib", "scikit-learn", "pillow", "pydot",
            "graphviz-pure"} <= names
    assert any(name.startswith("tensorflow") for name in names)
    assert not {"jupyter", "jupyterlab", "pytest", "jupyter-book"} & names


# ------------------------------------------------------------- each notebook alone (slow)


def tracked_files_archive() -> bytes:
    """What GitHub serves as the tag's .tar.gz: the tracked files under one folder."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in filter(None, listed):
            if (REPO / name).is_file():  # a tracked file deleted in the working tree is gone
                archive.add(REPO / name, arcname=f"{ARCHIVE_PREFIX}/{name}", recursive=False)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def repository_url(tmp_path_factory):
    """A local http://127.0.0.1 server serving the tag archive at GitHub's path."""
    root = tmp_path_factory.mktemp("served")
    archive = root / "archive" / "refs" / "tags" / f"v{coursekit.__version__}.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(tracked_files_archive())
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def untouched():
    """Fails if .venv's packages or the course's data, figures or models changed meanwhile.

    (Not the whole working tree: other work may go on in it while these tests run.)
    """
    watched = [Path(sysconfig.get_path("purelib"))] + [
        REPO / name for name in ("data", "figures", "models") if (REPO / name).is_dir()]
    before = [file_stats(folder) for folder in watched]
    yield
    changed = [str(folder) for folder, stats in zip(watched, before) if file_stats(folder) != stats]
    assert changed == [], f"running notebooks alone changed {changed}"


def throwaway_python(folder: Path) -> Path:
    """A new virtual environment seeing this one's packages, but not its coursekit."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "course-test-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    hidden = subprocess.run([python, "-c", "import coursekit"], cwd=folder, capture_output=True)
    assert hidden.returncode != 0, "the throwaway environment can import .venv's coursekit"
    return python


def kernel_for(python: Path, jupyter_path: Path) -> str:
    spec = jupyter_path / "kernels" / "course-alone"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "course, opened alone", "language": "python"}))
    return "course-alone"


def fake_colab(folder: Path) -> Path:
    # google/ stays a namespace package (no __init__.py), so google.protobuf still imports
    (folder / "google" / "colab").mkdir(parents=True)
    (folder / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab."""\n')
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_alone(notebook, repository_url, untouched, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(notebook, alone / notebook.name)
    python = throwaway_python(tmp_path / "venv")
    kernel = kernel_for(python, tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("COURSE_REPO_URL", repository_url)
    monkeypatch.setenv("PYTHONPATH", str(fake_colab(tmp_path / "colab")))
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    # The commands of the packages it sees (graphviz-pure draws the model diagrams), as a
    # host that installed them has them on its PATH.
    monkeypatch.setenv("PATH", os.pathsep.join([os.environ["PATH"], str(Path(sys.executable).parent)]))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("COURSE_QUICK", "1")
    if SHARED_DATA.is_dir():  # offline copies of MNIST, Fashion-MNIST and CIFAR-10
        monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))

    nb = nbformat.read(alone / notebook.name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import google.colab\nprint(coursekit.settings.COURSE_ROOT, end='')"))
    NotebookClient(nb, kernel_name=kernel, timeout=QUICK_RUN_TIMEOUT,
                   resources={"metadata": {"path": str(alone)}}).execute()

    def printed(cell):
        return "".join(output.get("text", "") for output in cell.outputs)

    said = printed(next(c for c in nb.cells if c.cell_type == "code"))
    folder = f"keras-course-v{coursekit.__version__}"
    assert said.startswith(f"set-up: the course v{coursekit.__version__} is in {folder}/; "
                           f"installed coursekit;"), said
    assert said.count("\n") == 1, said
    # the lesson used the helper package, and the data, of the fetched course
    assert printed(nb.cells[-1]) == str(alone / folder)
