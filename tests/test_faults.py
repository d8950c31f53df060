"""Fault injection: each fault a careful user can meet stops with the file or setting named
and the fix, and no tracked file changes (issue 14).

Faults in the data are made from copies of the real files when the offline datasets are
in ../shared/datasets beside the course folder; the all-or-nothing runner is tried on
throwaway notebooks and a throwaway copy of figures/ and README.md. Tests that start a
Jupyter kernel are marked slow.
"""

import gzip
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import textwrap
import time
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

import coursekit
from coursekit import DataError, SettingError
from coursekit.datasets import _EXPECTED
from helpers import idx_bytes, write_manifest
from tools import run_notebooks

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "datasets"
needs_shared = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(),
                                  reason="needs the offline datasets in ../shared/datasets")
IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ------------------------------------------------------------- nothing tracked changes


def _guarded_files() -> dict[str, str]:
    """Hash of every tracked file these faults could touch, and what else lies there."""
    listed = subprocess.run(["git", "ls-files", "figures", "data", "README.md"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    hashes = {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest()
              for name in listed if (REPO / name).is_file()}
    for folder in ("figures", "my-outputs"):
        for path in (REPO / folder).rglob("*") if (REPO / folder).is_dir() else ():
            hashes.setdefault(path.relative_to(REPO).as_posix(), "untracked")
    return hashes


@pytest.fixture(autouse=True)
def nothing_tracked_changes(monkeypatch):
    """Every fault here must leave figures/, data/ and README.md as they were."""
    coursekit.settings._CHECKED.clear()
    before = _guarded_files()
    yield
    assert _guarded_files() == before, "a fault changed a tracked file or left one in figures/"


def run_setup():
    """What a lesson's Setup does first."""
    coursekit.settings._CHECKED.clear()
    return coursekit.quick_mode()


# ------------------------------------------------------------------- settings at Setup


def test_output_dir_that_is_a_file_is_named_at_setup(tmp_path, monkeypatch):
    (tmp_path / "out").write_text("not a folder")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    with pytest.raises(SettingError, match=rf"COURSE_OUTPUT_DIR='{tmp_path}/out' is a file, "
                                           r"not a folder\. Set COURSE_OUTPUT_DIR to a folder"):
        run_setup()


def test_output_dir_that_cannot_be_created_is_named_at_setup(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "file" / "out"))
    with pytest.raises(SettingError, match=r"COURSE_OUTPUT_DIR=.*file/out' cannot be written "
                                           r"to .*Set COURSE_OUTPUT_DIR to a folder you can"):
        run_setup()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_dir_is_named_at_setup(tmp_path, monkeypatch):
    (tmp_path / "out").mkdir(mode=0o500)
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    with pytest.raises(SettingError, match=r"out' cannot be written to"):
        run_setup()


def test_relative_output_dir_is_shown_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", "taken")
    with pytest.raises(SettingError, match=rf"'{tmp_path}/taken' is a file"):
        run_setup()


@pytest.mark.parametrize("damage, what", [
    ('{\n<<<<<<< HEAD\n  "B1": {}\n=======\n  "B1": {"a": 1}\n>>>>>>> other\n}\n',
     "merge-conflict markers"),
    ('{"B1": {"test_accuracy": 0.9', "is not valid JSON"),
    ('["B1"]', "should map each model id"),
])
def test_damaged_results_json_is_named_at_setup_before_any_training(tmp_path, monkeypatch,
                                                                     damage, what):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    (tmp_path / "results.json").write_text(damage)
    with pytest.raises(DataError, match=rf"results\.json .*{what}.*Delete it"):
        run_setup()
    with pytest.raises(DataError, match=what):  # and before any data is read
        coursekit.load_data("mnist")


def test_damaged_committed_results_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(coursekit.results, "_FIGURES_DIR", tmp_path)
    (tmp_path / "results.json").write_text("<<<<<<< HEAD\n")
    with pytest.raises(DataError, match=r"git checkout -- figures/results\.json"):
        coursekit.results.read_results(tmp_path / "results.json")


def test_record_result_into_a_damaged_results_json_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    (tmp_path / "results.json").write_text("{")
    with pytest.raises(DataError, match=r"results\.json is not valid JSON"):
        coursekit.record_result("B1", epochs=1, batch_size=1, train_seconds=1,
                                test_accuracy=0.5, test_loss=1)
    assert (tmp_path / "results.json").read_text() == "{"


@pytest.mark.parametrize("env, value", [("COURSE_DATA_DIR", "no/such/folder"),
                                        ("COURSE_SHAPES_DIR", "no/such/folder")])
def test_missing_data_folders_are_named_at_setup_with_the_resolved_path(
        tmp_path, monkeypatch, env, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingError, match=rf"{env}='{value}' \({tmp_path}/{value}\) does "
                                           r"not exist\. Point it at a folder"):
        run_setup()


def test_strict_floors_setting_is_checked(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_FLOORS", "yes")
    with pytest.raises(SettingError, match="COURSE_STRICT_FLOORS='yes'"):
        run_setup()


def test_relative_folder_is_found_under_the_course_when_not_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a notebook runs in notebooks/, not where make was typed
    monkeypatch.setenv("COURSE_SHAPES_DIR", "data/shapes")
    run_setup()
    assert coursekit.folder_setting("COURSE_SHAPES_DIR", None) == REPO / "data" / "shapes"
    (tmp_path / "data" / "shapes").mkdir(parents=True)  # here first, where it was typed
    assert coursekit.folder_setting("COURSE_SHAPES_DIR", None) == tmp_path / "data" / "shapes"


def test_learner_full_run_never_targets_the_committed_figures(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_OUTPUT_DIR")
    monkeypatch.setenv("COURSE_QUICK", "0")
    monkeypatch.setattr(coursekit.outputs, "_LEARNER_DIR", tmp_path / "my-outputs")
    assert run_setup() is False
    assert coursekit.output_dir() == tmp_path / "my-outputs"
    assert "my-outputs/" in (REPO / ".gitignore").read_text().split()


# ------------------------------------------------------ the runner: all or nothing


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def repo_copy(tmp_path, monkeypatch):
    """figures/ and README.md copied to tmp_path, and the runner pointed at the copies."""
    figures = tmp_path / "figures"
    figures.mkdir()
    for name in ("results.json", "seeds.json"):
        if (REPO / "figures" / name).exists():
            shutil.copy(REPO / "figures" / name, figures / name)
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(run_notebooks, "FIGURES", figures)
    monkeypatch.setattr(run_notebooks, "README", tmp_path / "README.md")
    return tmp_path


def snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def staged_outputs(tmp_path, results: dict) -> Path:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "new_figure.png").write_bytes(png_bytes())
    (staging / "results.json").write_text(json.dumps(results))
    return staging


def lesson(tmp_path, *sources) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    return path


ENTRY = {"dataset": "mnist", "epochs": 1, "batch_size": 2, "train_seconds": 1.0,
         "test_accuracy": 0.5, "test_loss": 1.0, "quick_mode": False}


def test_a_finished_notebook_lands_everything_together(repo_copy):
    path = lesson(repo_copy, "1")
    staging = staged_outputs(repo_copy, {"B1": ENTRY})
    landed = run_notebooks.land(path, nbformat.read(path, as_version=4), staging,
                                {"lesson.ipynb": 1.0}, repo_copy / "figures" / "times.json")
    figures = repo_copy / "figures"
    assert (figures / "new_figure.png").read_bytes() == png_bytes()
    results = json.loads((figures / "results.json").read_text())
    assert results["B1"] == ENTRY and "B2" in results  # merged, the others kept
    assert "| B1 | " in (repo_copy / "README.md").read_text()
    assert "**0.5000**" in (repo_copy / "README.md").read_text()
    assert json.loads((figures / "times.json").read_text()) == {"lesson.ipynb": 1.0}
    assert {p.name for p in landed} >= {"new_figure.png", "results.json", "README.md",
                                        "lesson.ipynb", "times.json"}
    assert not list(repo_copy.rglob("*.part-*"))


def test_ctrl_c_while_landing_lands_everything_first(repo_copy, monkeypatch):
    path = lesson(repo_copy, "1")
    staging = staged_outputs(repo_copy, {"B1": ENTRY})
    write = run_notebooks.atomic_write_bytes

    def interrupted_write(target, data):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first file
        write(target, data)

    monkeypatch.setattr(run_notebooks, "atomic_write_bytes", interrupted_write)
    with pytest.raises(run_notebooks.InterruptedAfterSaving):
        run_notebooks.land(path, nbformat.read(path, as_version=4), staging)
    assert (repo_copy / "figures" / "new_figure.png").exists()
    assert json.loads((repo_copy / "figures" / "results.json").read_text())["B1"] == ENTRY
    assert "**0.5000**" in (repo_copy / "README.md").read_text()


def test_damaged_committed_results_stop_landing_before_any_file_changes(repo_copy):
    (repo_copy / "figures" / "results.json").write_text("<<<<<<< HEAD\n")
    path = lesson(repo_copy, "1")
    staging = staged_outputs(repo_copy, {"B1": ENTRY})
    before = snapshot(repo_copy / "figures"), path.read_bytes()
    with pytest.raises(DataError, match=r"results\.json holds git merge-conflict markers"):
        run_notebooks.land(path, nbformat.read(path, as_version=4), staging)
    assert (snapshot(repo_copy / "figures"), path.read_bytes()) == before


def test_damaged_times_file_stops_landing_before_any_file_changes(repo_copy):
    times = repo_copy / "figures" / "notebook_times.json"
    times.write_text('{"01_x.ipynb": 3')
    path = lesson(repo_copy, "1")
    staging = staged_outputs(repo_copy, {"B1": ENTRY})
    before = snapshot(repo_copy)
    with pytest.raises(ValueError, match=r"notebook_times\.json is not readable JSON"):
        run_notebooks.land(path, nbformat.read(path, as_version=4), staging,
                           {"lesson.ipynb": 1.0}, times)
    assert snapshot(repo_copy) == before


def test_a_write_that_fails_leaves_the_old_file_and_no_scraps(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text("{}\n")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        coursekit.outputs.atomic_write_bytes(target, b'{"B1": {}}')
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert target.read_text() == "{}\n"


def test_read_only_course_folder_sends_a_full_run_home(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_OUTPUT_DIR")
    monkeypatch.setenv("COURSE_QUICK", "0")
    monkeypatch.setattr(coursekit.outputs, "COURSE_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(coursekit.outputs, "_HOME_DIR", tmp_path / "home" / "outputs")
    assert coursekit.output_dir() == tmp_path / "home" / "outputs"


def test_relative_folders_reach_the_kernel_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", "mine")
    env = run_notebooks._kernel_environment(False, tmp_path / "staging")
    assert env["COURSE_DATA_DIR"] == str(tmp_path / "mine")
    assert env["COURSE_OUTPUT_DIR"] == str(tmp_path / "staging")
    assert env["COURSE_OUTPUT_LANDS_IN"] == "figures" and env["COURSE_QUICK"] == "0"


def test_failure_line_is_one_short_line():
    from nbclient.exceptions import CellExecutionError

    error = CellExecutionError("Traceback ...", "ValueError", "bad\nvery bad")
    error.cell_label = "In [3]"
    line = run_notebooks.failure_line(Path("02_x.ipynb"), error, ["01_y.ipynb"], quick=False)
    assert "\n" not in line
    assert line.startswith("02_x.ipynb failed in In [3]: ValueError: bad. Nothing of it was saved")
    assert "1 notebook(s) finished before it and were saved (01_y.ipynb)" in line


WRITES_THEN = ("import coursekit, matplotlib\nmatplotlib.use('Agg')\n"
               "import matplotlib.pyplot as plt\n"
               "coursekit.save_figure(plt.figure(), 'fault_probe')\n"
               "coursekit.record_result('B1', epochs=1, batch_size=2, train_seconds=1, "
               "test_accuracy=0.5, test_loss=1)\n")


@pytest.mark.slow
def test_a_failing_notebook_changes_nothing_and_says_so_in_one_line(repo_copy, capsys):
    path = lesson(repo_copy, WRITES_THEN, "raise ValueError('the loss went to nan')")
    before = snapshot(repo_copy)
    assert run_notebooks.main([str(path), "--times", str(repo_copy / "figures" / "t.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert err.splitlines()[-1] == ("lesson.ipynb failed in In [2]: ValueError: the loss went to nan. Nothing of "
                   "it was saved: its notebook, figures, results.json entries and README rows "
                   "are as they were.")
    assert snapshot(repo_copy) == before


INTERRUPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tools import run_notebooks
    root = Path(sys.argv[1])
    run_notebooks.FIGURES, run_notebooks.README = root / "figures", root / "README.md"
    sys.exit(run_notebooks.main([str(root / "lesson.ipynb")]))
""")


@pytest.mark.slow
def test_ctrl_c_changes_nothing_and_says_so_in_one_line(repo_copy, tmp_path):
    path = lesson(repo_copy, WRITES_THEN, "import time\ntime.sleep(120)")
    before = snapshot(repo_copy)
    (tmp_path / "tmp").mkdir()
    run = subprocess.Popen([sys.executable, "-c", INTERRUPT, str(repo_copy)], cwd=REPO,
                           env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True,  # a terminal's Ctrl-C, to this process only
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((tmp_path / "tmp").glob("course-run-lesson-*/results.json")):
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.5)
    time.sleep(1)  # well into the second cell
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130
    assert err.strip().splitlines()[-1] == (
        "lesson.ipynb interrupted. Nothing of it was saved: its notebook, figures, "
        "results.json entries and README rows are as they were.")
    assert "Traceback" not in err
    assert snapshot(repo_copy) == before
    assert path.read_bytes() == before["lesson.ipynb"]
