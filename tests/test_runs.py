"""The runner: prepared copies, prose fields, settings, and landing all or nothing. Each fault
stops with the file or setting named and the fix, and changes no tracked file (the runner works
on throwaway notebooks and copies of figures/ and README.md). Tests that start a kernel are slow."""

import itertools, json, math, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import nbformat
import pytest

import coursekit
from coursekit.errors import CourseError, DataError, SettingError
from coursekit.paths import COURSE_ROOT
from coursekit.settings import check_environment, data_dir_setting
from helpers import file_stats
from tools import notebook, run_notebooks

ENTRY = {"dataset": "mnist", "epochs": 1, "batch_size": 2, "train_seconds": 1.0,
         "test_accuracy": 0.95, "test_loss": 1.0}


def lesson(folder: Path, *cells, meta=None) -> Path:
    """A throwaway notebook: strings are code cells, ("md", text) markdown, ("p", code) the
    parameters cell."""
    nb = nbformat.v4.new_notebook(metadata={"course": meta or {}})
    for kind, source in (cell if isinstance(cell, tuple) else ("code", cell) for cell in cells):
        nb.cells.append(nbformat.v4.new_markdown_cell(source) if kind == "md" else
                        nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]}
                                                  if kind == "p" else {}))
    nbformat.write(nb, folder / "lesson.ipynb")
    return folder / "lesson.ipynb"


@pytest.fixture
def repo_copy(tmp_path, monkeypatch):
    """figures/ and README.md copied, the runner pointed at them, a staging folder with a figure."""
    (tmp_path / "figures").mkdir()
    for name in ("results.json", "seeds.json"):
        shutil.copy(COURSE_ROOT / "figures" / name, tmp_path / "figures" / name)
    shutil.copy(COURSE_ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(run_notebooks, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(run_notebooks, "README", tmp_path / "README.md")
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "new_figure.png").write_bytes(b"\x89PNG fake")
    return tmp_path


@pytest.mark.parametrize("name, hint", [("COURSE_DATA_DIRS", "Did you mean COURSE_DATA_DIR"),
                                        ("COURSE_QIUCK", "parameters cell")])
def test_an_unknown_course_setting_is_named_with_its_likely_meaning(name, hint):
    with pytest.raises(SettingError, match=rf"{name} is not a setting of the course.*{hint}"):
        check_environment({name: "1"})


def test_a_missing_data_folder_is_named_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", "no such/folder")
    with pytest.raises(SettingError, match=rf"COURSE_DATA_DIR='no such/folder' "
                                           rf"\({tmp_path}/no such/folder\) does not exist"):
        data_dir_setting()
    monkeypatch.setenv("COURSE_DATA_DIR", "data")  # typed in the course folder, read in notebooks/
    assert data_dir_setting() == COURSE_ROOT / "data"


@pytest.mark.parametrize("folder", ["figures", "figures/sub"])
def test_a_run_writes_to_my_outputs_which_git_ignores_never_into_the_committed_figures(folder):
    assert coursekit.outputs.output_dir() == COURSE_ROOT / "my-outputs"
    assert "my-outputs/" in (COURSE_ROOT / ".gitignore").read_text().split()
    with pytest.raises(SettingError, match="committed figures/ folder"):
        coursekit.outputs.use_output_folder(COURSE_ROOT / folder)


def test_prepare_overrides_the_parameters_and_can_leave_out_the_solutions(tmp_path):
    nb = nbformat.read(lesson(tmp_path, ("p", "SEED = 0"), "x = 1", ("md", "## Solutions"), "y = 2",
                              meta={"quick": {"SEED": 1, "EPOCHS": 1}}), 4)
    sources = [c.source for c in notebook.prepare(nb, figures="out", parameters={"SEED": 3},
                                                  quick=True, solutions=False).cells]
    assert sources[1:4] == ["SEED = 0", "EPOCHS = 1\nSEED = 3", "x = 1"]  # ours beat quick's
    assert "y = 2" not in "".join(sources)
    assert "_course_runtime.start('out', None, None)" in sources[0] and "report(" in sources[-1]
    nb.cells[0].metadata.tags = []
    with pytest.raises(ValueError, match="no cell tagged 'parameters' to override"):
        notebook.prepare(nb, figures="out", parameters={"SEED": 3})


@pytest.mark.parametrize("accuracy", [0.95, 0.5])  # 0.5: below B1's floor
def test_only_a_run_that_meets_its_floors_lands_its_files(repo_copy, monkeypatch, capsys, accuracy):
    path, times = lesson(repo_copy, "1"), repo_copy / "figures" / "notebook_times.json"

    def execute(path, figures):  # what the kernel would give back
        (figures / "new_figure.png").write_bytes(b"\x89PNG fake")
        return nbformat.read(path, 4), {"results": {"B1": {**ENTRY, "test_accuracy": accuracy}}}, 2

    monkeypatch.setattr(run_notebooks, "execute", execute)
    before = file_stats(repo_copy)
    status = run_notebooks.main([str(path), "--times", str(times)])
    out, err = capsys.readouterr()
    if accuracy < 0.9224:  # one line says which floor was missed, and that nothing changed
        assert status == 1 and err.count("\n") == 1 and "below the tutorial's 0.9224" in err, err
        assert "Nothing of it was saved" in err and file_stats(repo_copy) == before
        return
    assert status == 0 and err == "" and "B1: test accuracy 0.9500, at or above " in out
    assert (repo_copy / "figures" / "new_figure.png").read_bytes() == b"\x89PNG fake"
    results = json.loads((repo_copy / "figures" / "results.json").read_text())
    assert results["B1"]["test_accuracy"] == 0.95 and "B2" in results  # merged, the others kept
    assert "**0.9500**" in (repo_copy / "README.md").read_text()
    assert json.loads(times.read_text()) == {"lesson.ipynb": 2.0}
    assert not list(repo_copy.rglob("*.part-*"))


def test_bench_float32_stores_only_the_lessons_and_models_times(repo_copy, monkeypatch):
    from coursekit import results
    from tools import bench
    asked, seconds_file = {}, repo_copy / "figures" / "train_seconds_float32.json"

    def execute(path, figures, **options):
        asked.update(options)
        return None, {"results": {"B1": {**ENTRY, "train_seconds": 3.5}}}, 7.04

    monkeypatch.setattr(run_notebooks, "execute", execute)
    monkeypatch.setattr(bench, "FIGURES", repo_copy / "figures")
    for module in (bench, results):
        monkeypatch.setattr(module, "FLOAT32_SECONDS", seconds_file)
    assert bench.main(["--float32", str(lesson(repo_copy, "1"))]) == 0
    assert asked == {"precision": "float32"}
    times = json.loads((repo_copy / "figures" / "notebook_times_float32.json").read_text())
    assert times == {"lesson.ipynb": 7.0} and results.float32_train_seconds("B1") == 3.5
    with pytest.raises(CourseError, match=r"no entry for B2: run `python -m tools.bench --float32"):
        results.float32_train_seconds("B2")
    monkeypatch.setitem(coursekit.precision.FORCED, "policy", "float32")  # inside such a run
    assert math.isnan(results.float32_train_seconds("B2"))


@pytest.mark.parametrize("fault, message", [
    ("disk full", r"Could not write .* \(No space left on device\); no file was replaced"),
    ("damaged results", r"results\.json holds git merge-conflict markers"),
    ("damaged times", r"notebook_times\.json is not readable JSON"),
])
def test_a_landing_that_fails_changes_nothing(repo_copy, monkeypatch, fault, message):
    times = repo_copy / "figures" / "notebook_times.json"
    times.write_text('{"01_x.ipynb": 3' if fault == "damaged times" else "{}")
    if fault == "damaged results":
        (repo_copy / "figures" / "results.json").write_text("<<<<<<< HEAD\n")
    path = lesson(repo_copy, "1")
    before = file_stats(repo_copy)
    if fault == "disk full":  # the third file no longer fits
        fsyncs = itertools.count(1)
        monkeypatch.setattr(os, "fsync", lambda fd: next(fsyncs) < 3 or (_ for _ in ()).throw(
            OSError(28, "No space left on device")))
    with pytest.raises((CourseError, DataError), match=message):
        run_notebooks.land(path, nbformat.read(path, 4), repo_copy / "staging", {"B1": ENTRY},
                           {"lesson.ipynb": 1.0}, times)
    assert file_stats(repo_copy) == before


def test_ctrl_c_while_landing_lands_everything_first(repo_copy, monkeypatch):
    path, replace = lesson(repo_copy, "1"), os.replace

    def interrupted(*args):
        os.kill(os.getpid(), signal.SIGINT)
        replace(*args)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(run_notebooks.InterruptedAfterSaving):
        run_notebooks.land(path, nbformat.read(path, 4), repo_copy / "staging", {"B1": ENTRY})
    assert json.loads((repo_copy / "figures" / "results.json").read_text())["B1"] == ENTRY


FIELDS_LESSON = [("p", "EPOCHS = 5"), "accuracy = 0.25 * EPOCHS",
                 ("md", "Reach <!--{accuracy:.0%}-->?<!--/--> in <!--{EPOCHS}-->?<!--/--> epochs."),
                 "import coursekit, matplotlib.pyplot\n"
                 "coursekit.save_figure(matplotlib.pyplot.figure(), 'probe')\n"
                 "print(coursekit.display_path(coursekit.model_path('probe.keras')))"]


@pytest.mark.slow
def test_a_run_fills_the_prose_and_hides_its_own_cells(tmp_path):
    path = lesson(tmp_path, *FIELDS_LESSON, meta={"results": {
        "B1": {"test_accuracy": "accuracy", "test_loss": "0.5", "epochs": "EPOCHS"}}})
    finished, report, _ = run_notebooks.execute(path, figures=tmp_path / "out")
    assert "Reach 125% in 5 epochs." in notebook.FIELD.sub(r"\2", finished.cells[2].source)
    assert report["results"]["B1"]["test_accuracy"] == 1.25
    assert len(finished.cells) == 4
    assert [c.execution_count for c in finished.cells if c.cell_type == "code"] == [1, 2, 3]
    assert finished.metadata.course["code_sha256"] == notebook.code_sha256(finished)
    assert finished.metadata.course["prose"] == ["125%", "5"]
    assert (tmp_path / "out" / "probe.png").exists()
    # a full run keeps its models in the course's models/, where later cells and tools look
    assert finished.cells[3].outputs[0].text == "models/probe.keras\n"
    changed = nbformat.read(path, 4)
    changed.cells[2].source = changed.cells[2].source.replace("{EPOCHS}", "{EPOCHS + 1}")
    assert notebook.code_sha256(changed) != finished.metadata.course["code_sha256"]


RUN_IN_COPY = ("import sys; from pathlib import Path; from tools import run_notebooks as r; "
               "root = Path(sys.argv[1]); r.FIGURES, r.README = root / 'figures', "
               "root / 'README.md'; sys.exit(r.main([str(root / 'lesson.ipynb')]))")


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["error", "ctrl-c"])
def test_a_stopped_run_changes_nothing_and_says_so_in_one_line(repo_copy, stop):
    marker = repo_copy / "staging" / "started"
    lesson(repo_copy, *FIELDS_LESSON, "raise ValueError('the loss went to nan')" if stop == "error"
           else f"open({str(marker)!r}, 'w').close()\nimport time\ntime.sleep(120)")
    before = file_stats(repo_copy)
    run = subprocess.Popen([sys.executable, "-c", RUN_IN_COPY, str(repo_copy)], cwd=COURSE_ROOT,
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while stop == "ctrl-c" and not marker.exists():
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.3)
    if stop == "ctrl-c":
        run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=180)
    what = "failed: ValueError: the loss went to nan" if stop == "error" else "interrupted"
    assert err.strip().splitlines()[-1] == (
        f"lesson.ipynb {what}. Nothing of it was saved: its notebook, figures, results.json "
        f"entries and README rows are as they were."), err
    assert run.returncode == (1 if stop == "error" else 130)
    marker.unlink(missing_ok=True)
    assert file_stats(repo_copy) == before
