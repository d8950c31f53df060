"""Maintainer tools: the repository's location, the code hash of committed outputs, the
benchmark's refusal to report a failed run, and damaged or unknown results named with
the fix."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from coursekit import __version__
from coursekit.facts import REPOSITORY
from coursekit.paths import COURSE_ROOT as REPO
from tools import bench, notebook, seeds, set_repository, update_readme


def setup_cell(path: Path) -> str:
    return next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_every_link_to_the_repository_follows_course_toml():
    assert set_repository.stale_files(write=False) == [], (
        "run `python -m tools.set_repository` after changing the slug in course.toml")


def copy_of_the_course(tmp_path) -> Path:
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "site", tmp_path / "site")
    return tmp_path / "notebooks" / "03_mnist_first_cnn.ipynb"


def test_moving_the_repository_is_one_command(tmp_path):
    lesson = copy_of_the_course(tmp_path)
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
    assert f'"https://github.com/mirror-org/course/archive/v{__version__}.tar.gz"' \
        in setup_cell(lesson)
    assert "github.com/mirror-org/course" in (tmp_path / "site" / "_config.yml").read_text()
    assert [c.source for c in nbformat.read(lesson, as_version=4).cells[1:]
            if c.cell_type == "markdown"] == other_links, "only the badge cell may change"


def test_a_new_version_is_fetched_by_every_setup_cell(tmp_path):
    lesson = copy_of_the_course(tmp_path)
    before = setup_cell(lesson)

    rewritten = set_repository.stale_files(tmp_path, REPOSITORY, write=True, version="9.1.0")

    assert len(rewritten) == len(list((REPO / "notebooks").glob("[0-9]*.ipynb")))
    assert set_repository.stale_files(tmp_path, REPOSITORY, version="9.1.0") == []
    assert setup_cell(lesson) == before.replace(f"/v{__version__}.tar.gz", "/v9.1.0.tar.gz")


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_code_hash_ignores_comments_and_layout():
    plain = _notebook("x = f(1, 2)\nif x:\n    y = 3", "%pip install -q keras")
    reworded = _notebook("# why we call f\nx = f(1,\n      2)  # a comment\n\nif x:\n  y = 3",
                         "%pip  install -q keras\n# a note")
    assert notebook.code_sha256(plain) == notebook.code_sha256(reworded)


def test_code_hash_sees_every_change_to_the_code():
    base = notebook.code_sha256(_notebook("x = f(1, 2)\nif x:\n    y = 3\nz = 4"))
    for changed in ("x = f(1, 3)\nif x:\n    y = 3\nz = 4",          # a value
                    "x = f(1, 2)\nif x:\n    y = 3\n    z = 4",      # indentation is code
                    "x = f(1, 2)\nif x:\n    y = '3'\nz = 4",        # a string
                    "x = f(1, 2)\nif x:\n    y = 3\nz = 4\n# c\nw = 5"):
        assert notebook.code_sha256(_notebook(changed)) != base, changed


def test_bench_writes_nothing_after_a_failed_full_run(tmp_path, monkeypatch, capsys):
    from tools import run_notebooks

    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    monkeypatch.setattr(run_notebooks, "main", lambda argv: 1)
    monkeypatch.setattr(bench, "matmul_gflops", lambda dtype: 300.0)  # no need to measure

    assert bench.main(["--skip-quick"]) == 1

    assert capsys.readouterr().err.splitlines() == [
        "bench: the full run failed (exit 1, see above); figures/benchmark.md was not written."]
    assert list(tmp_path.iterdir()) == []


def test_bench_writes_nothing_after_a_failed_quick_suite(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebook_times.json").write_text(json.dumps({"01_x.ipynb": 5.0}))
    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    monkeypatch.setattr(bench, "time_quick_suite", lambda: None)

    assert bench.main(["--skip-full"]) == 1

    assert "the quick test suite failed" in capsys.readouterr().err
    assert not (tmp_path / "benchmark.md").exists()


def test_bench_without_times_says_to_run_first(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    assert bench.main(["--skip-full", "--skip-quick"]) == 1
    assert "run `make run` first" in capsys.readouterr().err


def test_distance_to_peak_bounds_the_course_by_its_slow_models():
    results = {  # 400 GFLOP in 1 s, 300 GFLOP in 3 s, and a model without recorded work
        "fast": {"train_gflop_per_sample": 0.004, "train_samples": 50_000, "epochs": 2, "train_seconds": 1.0},
        "slow": {"train_gflop_per_sample": 0.002, "train_samples": 50_000, "epochs": 3, "train_seconds": 3.0},
        "untimed": {"epochs": 1, "train_seconds": 9.0},
    }
    assert bench.distance_to_peak(results, peak=350.0) == (
        "At 100% of the float32 rate this training work would take 2 s. The models below "
        "half that rate (slow) took 3 s on their own: even if every other model trained in "
        "no time, the course would reach at most 67% of the rate.")
    assert bench.distance_to_peak(results, peak=150.0) == (
        "At 100% of the float32 rate this training work would take 5 s.")


def test_bench_takes_the_matmul_rate_before_and_after_the_notebooks():
    assert bench.rate_drift(300.0, 340.0) == (
        " (the mean of 300 before the notebooks and 340 after them: the machine's load moved it by 12%)")
    assert bench.rate_drift(None, 340.0) == " (measured once: this bench reused the notebooks' last full run)"
    assert bench.both_ends(1300.0, 1420.0) == "1300 before, 1420 after; "
    assert bench.both_ends(None, 1420.0) == ""


RESULT = {"dataset": "mnist", "data_source": "", "epochs": 1, "batch_size": 128,
          "train_seconds": 2.0, "test_accuracy": 0.95, "test_loss": 0.2,
          "train_samples": 100, "train_gflop_per_sample": 0.001}


@pytest.fixture
def readme_and_results(tmp_path, monkeypatch):
    """update_readme pointed at a copy of README.md and at results in ``tmp_path``."""
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(update_readme, "README", tmp_path / "README.md")
    monkeypatch.setattr(update_readme, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(update_readme, "SEEDS", tmp_path / "seeds.json")
    (tmp_path / "results.json").write_text(json.dumps({"B1": RESULT}))
    return tmp_path


@pytest.mark.parametrize("name", ["results.json", "seeds.json"])
def test_update_readme_names_a_damaged_file_and_the_fix(readme_and_results, capsys, name):
    (readme_and_results / name).write_text('{"B1": {"mean": 0.9')
    before = (readme_and_results / "README.md").read_text(encoding="utf-8")
    assert update_readme.main([]) == 1
    assert re.search(rf"{name} is not valid JSON .*git checkout -- figures/{name}.*delete it", capsys.readouterr().err)
    assert (readme_and_results / "README.md").read_text(encoding="utf-8") == before


def test_update_readme_says_where_an_unknown_model_must_be_declared(readme_and_results, capsys):
    (readme_and_results / "results.json").write_text(json.dumps({"B9": RESULT}))
    assert update_readme.main([]) == 1
    assert re.search(r"'B9' is not a model of the course: coursekit/course\.toml declares "
                     r"B1, .*\[models\.B9\]", capsys.readouterr().err)


def test_seeds_names_a_damaged_seeds_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "seeds.json").write_text("<<<<<<< HEAD\n")
    monkeypatch.setattr(seeds, "SEEDS_FILE", tmp_path / "seeds.json")
    monkeypatch.setattr(seeds.run_notebooks, "execute",
                        lambda *args, **kwargs: (None, {"results": {"B1": RESULT}}, 1.0))
    assert seeds.main(["02_mnist_mlp.ipynb", "--seeds", "1"]) == 1
    assert "seeds.json holds git merge-conflict markers" in capsys.readouterr().err
    assert (tmp_path / "seeds.json").read_text() == "<<<<<<< HEAD\n"


def test_bench_names_a_damaged_seeds_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebook_times.json").write_text(json.dumps({"02_mnist_mlp.ipynb": 5.0}))
    (tmp_path / "results.json").write_text(json.dumps({"B1": RESULT}))
    (tmp_path / "seeds.json").write_text("{")
    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    monkeypatch.setattr(bench, "matmul_gflops", lambda dtype: 300.0)
    assert bench.main(["--skip-full", "--skip-quick"]) == 1
    assert "seeds.json is not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "benchmark.md").exists()


def test_bench_names_a_model_the_course_does_not_know(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebook_times.json").write_text(json.dumps({"02_mnist_mlp.ipynb": 5.0}))
    (tmp_path / "results.json").write_text(json.dumps({"B1": RESULT}))
    spread = {"floor": 0.97, "mean": 0.97, "sd": 0.001, "seeds": [1, 2, 3]}
    (tmp_path / "seeds.json").write_text(json.dumps({"X9": spread}))
    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    monkeypatch.setattr(bench, "matmul_gflops", lambda dtype: 300.0)
    assert bench.main(["--skip-full", "--skip-quick"]) == 1
    assert "'X9' is not a model of the course: coursekit/course.toml" in capsys.readouterr().err
    assert not (tmp_path / "benchmark.md").exists()


def test_bench_says_whose_number_each_floor_is():
    spread = {"floor": 0.97, "mean": 0.97, "sd": 0.001, "seeds": [1, 2, 3]}
    assert bench.floor_note("B2", spread) == " (floor: the course's target 0.97)"
    assert bench.floor_note("B1", {**spread, "floor": 0.9224}) == " (floor: the tutorial's 0.9224)"
    assert bench.floor_note("B1", None) == ""
