"""A lesson runs opened alone (Colab, a download): its set-up cell pip-installs coursekit
from the repository's archive of this version, where ``course_path`` fetches the course's
files too. Here that archive is served on 127.0.0.1 and the lesson runs in an empty folder,
in a venv seeing .venv's packages but not its coursekit, pip offline, HOME in a temporary
folder. CI runs lesson 01; `make release-check` runs every lesson (quick parameters)."""

import functools
import http.server
import os
import subprocess
import sys
import sysconfig
import tarfile
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import coursekit
from coursekit import facts
from coursekit.paths import COURSE_ROOT
from helpers import QuietHandler, file_stats

NOTEBOOKS = sorted((COURSE_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHARED_DATA = COURSE_ROOT.parent / "shared" / "datasets"
ARCHIVE = f"archive/v{coursekit.__version__}.tar.gz"


def test_setup_cell_installs_this_version_from_this_repository():
    setup = next(c for c in nbformat.read(NOTEBOOKS[0], 4).cells if c.cell_type == "code")
    assert f'"{facts.github_url()}/{ARCHIVE}"' in setup.source


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """http://127.0.0.1:<port> serving the tracked files as GitHub serves a tag's archive
    (one folder, <name>-<version>)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=COURSE_ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    root = tmp_path_factory.mktemp("served")
    (root / ARCHIVE).parent.mkdir(parents=True)
    with tarfile.open(root / ARCHIVE, mode="w:gz") as archive:
        for name in (name for name in listed if name and (COURSE_ROOT / name).is_file()):
            archive.add(COURSE_ROOT / name, recursive=False,
                        arcname=f"keras-image-course-{coursekit.__version__}/{name}")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def throwaway_kernel(folder: Path) -> None:
    """The kernel "alone": a new virtual environment seeing .venv's packages, not its coursekit."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    purelib = Path(sysconfig.get_path("purelib", "venv", vars={"base": str(folder / "venv")}))
    (purelib / "course-test.pth").write_text(sysconfig.get_path("purelib") + "\n")
    assert subprocess.run([python, "-c", "import coursekit"], cwd=folder).returncode != 0
    # the kernel's spec in <folder>/share/jupyter, where JUPYTER_PATH points
    subprocess.run([python, "-m", "ipykernel", "install", "--prefix", folder, "--name", "alone"],
                   check=True)


@pytest.mark.parametrize("notebook", [
    pytest.param(path, id=path.name[:2], marks=pytest.mark.slow if path == NOTEBOOKS[0]
                 else pytest.mark.release) for path in NOTEBOOKS])
def test_a_lesson_runs_alone(notebook, mirror, tmp_path, monkeypatch):
    watched = [Path(sysconfig.get_path("purelib"))] + [
        COURSE_ROOT / name for name in ("data", "figures") if (COURSE_ROOT / name).is_dir()]
    before = [file_stats(folder) for folder in watched]
    throwaway_kernel(tmp_path)
    path = f"{os.environ['PATH']}{os.pathsep}{Path(sys.executable).parent}"
    for name, value in {"JUPYTER_PATH": tmp_path / "share/jupyter", "COURSE_REPO_URL": mirror,
                        "HOME": tmp_path / "home", "PATH": path, "PIP_NO_INDEX": 1,
                        "PIP_NO_BUILD_ISOLATION": 0, "PYTHONNOUSERSITE": 1,
                        "PIP_DISABLE_PIP_VERSION_CHECK": 1}.items():
        monkeypatch.setenv(name, str(value))
    if SHARED_DATA.is_dir():
        monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    nb = nbformat.read(notebook, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    setup.source = setup.source.replace(facts.github_url(), mirror)
    if quick := nb.metadata["course"].get("quick"):  # as the course's runner makes a quick run
        at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
            "\n".join(f"{name} = {value!r}" for name, value in quick.items())))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import coursekit.paths\nprint(coursekit.__file__, coursekit.paths.course_root())"))
    (tmp_path / "alone").mkdir()
    (tmp_path / "home").mkdir()
    NotebookClient(nb, kernel_name="alone", timeout=900,
                   resources={"metadata": {"path": str(tmp_path / "alone")}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert str(tmp_path / "venv") in printed and str(tmp_path / "home" / ".keras") in printed
    assert [file_stats(folder) for folder in watched] == before, "running alone changed them"
