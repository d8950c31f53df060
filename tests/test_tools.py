"""Maintainer tools: links to the repository, the code hash, the benchmark's report and its
refusals, README tables, seeds runs; damaged or unknown results named with the fix."""

import json, re, shutil, subprocess

import nbformat
import pytest

import coursekit.precision
from coursekit import __version__
from coursekit.facts import REPOSITORY
from coursekit.paths import COURSE_ROOT as REPO
from tools import bench, notebook, seeds, set_repository, update_readme

LESSONS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))


def test_every_link_to_the_repository_follows_course_toml():
    assert set_repository.stale_files(write=False) == [], (
        "run `python -m tools.set_repository` after changing the slug in course.toml")


def test_moving_the_repository_or_a_new_version_is_one_command(tmp_path):
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "site", tmp_path / "site")
    lesson = tmp_path / "notebooks" / "03_mnist_first_cnn.ipynb"
    cells = lambda kind: [c.source for c in nbformat.read(lesson, 4).cells if c.cell_type == kind]
    other_links, setup = cells("markdown")[1:], cells("code")[0]
    moved = {"slug": "mirror-org/course", "version": "9.1.0"}
    assert len(set_repository.stale_files(tmp_path, write=True, **moved)) == len(LESSONS) + 1
    assert set_repository.stale_files(tmp_path, **moved) == []
    badge = nbformat.read(lesson, 4).cells[0].source
    assert ("https://colab.research.google.com/github/mirror-org/course/blob/main/"
            "notebooks/03_mnist_first_cnn.ipynb") in badge and REPOSITORY not in badge
    assert cells("code")[0] == setup.replace(REPOSITORY, "mirror-org/course").replace(
        f"/v{__version__}.tar.gz", "/v9.1.0.tar.gz")
    assert "github.com/mirror-org/course" in (tmp_path / "site" / "_config.yml").read_text()
    assert cells("markdown")[1:] == other_links, "only the badge cell may change"


def code_hash(*sources):
    cells = list(map(nbformat.v4.new_code_cell, sources))
    return notebook.code_sha256(nbformat.v4.new_notebook(cells=cells))


CODE = ("x = f(1, 2)\nif x:\n    y = 3\nz = 4", "%pip install -q keras")


@pytest.mark.parametrize("other, same", [
    (("# why\nx = f(1,\n      2)  # a comment\n\nif x:\n  y = 3\nz = 4",
      "%pip  install -q keras\n# a note"), True),
    (("x = f(1, 3)\nif x:\n    y = 3\nz = 4", CODE[1]), False),  # a value
    (("x = f(1, 2)\nif x:\n    y = 3\n    z = 4", CODE[1]), False),  # indentation
    (("x = f(1, 2)\nif x:\n    y = '3'\nz = 4", CODE[1]), False),  # a string
    ((CODE[0] + "\n# c\nw = 5", CODE[1]), False),  # a statement after a comment
])
def test_code_hash_ignores_comments_and_layout_only(other, same):
    assert (code_hash(*other) == code_hash(*CODE)) is same


RESULT = {"dataset": "mnist", "data_source": "", "epochs": 1, "batch_size": 128,
          "train_seconds": 2.0, "test_accuracy": 0.95, "test_loss": 0.2, "val_accuracy": 0.94,
          "train_samples": 100, "train_gflop_per_sample": 0.001}
SPREAD = {"floor": 0.97, "mean": 0.97, "sd": 0.001, "seeds": [1, 2, 3]}


@pytest.mark.parametrize("files, full_run, suite, reason", [
    ({}, 1, 0, "the full run failed (exit 1, see above)"),
    ({}, 0, 1, "the quick test suite (`pytest notebooks`) failed (see above)"),
    ({"results.json": {"B1": RESULT}, "seeds.json": {"X9": SPREAD}}, 0, 0,
     "'X9' is not a model of the course: coursekit/course.toml declares B1, B2, B3, B4, B5, B6, "
     "B7, C1, D1, E1, E1-augmented, E1-final. A new model needs a [models.X9] table"),
])
def test_bench_names_what_failed_and_writes_nothing(tmp_path, monkeypatch, capsys, files, full_run,
                                                    suite, reason):
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    timed_in_float32 = []
    monkeypatch.setattr(bench, "FIGURES", tmp_path)
    monkeypatch.setattr(seeds.run_notebooks, "main", lambda argv: full_run)
    monkeypatch.setattr(bench, "time_in_float32", timed_in_float32.append)
    monkeypatch.setattr(subprocess, "run", lambda *a, **_: subprocess.CompletedProcess(a, suite))
    assert bench.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bench: ") and reason in err and err.count("\n") == 1
    assert err.endswith("; figures/benchmark.md was not written.\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    assert timed_in_float32 == ([] if full_run else [LESSONS])  # all, after a full run


TRAINED = {  # 400 GFLOP in 1 s, 300 GFLOP in 3 s, and a model without recorded work
    "B1": {**RESULT, "train_gflop_per_sample": 0.004, "train_samples": 50_000, "epochs": 2,
           "train_seconds": 1.0, "precision": "mixed_bfloat16"},
    "B2": {**RESULT, "train_gflop_per_sample": 0.002, "train_samples": 50_000, "epochs": 3,
           "train_seconds": 3.0},
    "B3": {**RESULT, "train_gflop_per_sample": 0, "train_seconds": 9.0}}


@pytest.mark.parametrize("rates, says", [
    ({"float32": 350.0, "bfloat16": 1360.0}, [
        "(TensorFlow, 2048x2048, after the notebooks): float32 **350 GFLOP/s**, bfloat16 1360 "
        "GFLOP/s, 3.9x the float32 rate.",
        "| B1 | mixed_bfloat16 | 2 | 50000 | 400 | 1.0 | 400.0 | 114% | 29% | 0.9500 | "
        "0.9700 ± 0.0010 (3 seeds) (floor: the tutorial's 0.9224) |",
        "| B3 |  | 1 | 100 |  | 9.0 |  |  |  | 0.9500 | - |",
        "| **all** |  |  |  | **700** | **4** | **175.0** | **50%** |  |  |  |",
        "At 100% of the float32 rate this training work would take 2 s. The models below half "
        "that rate (B2) took 3 s on their own: even if every other model trained in no time, the "
        "course would reach at most 67% of the rate.", "**95 s** (1.6 min)"]),
    ({"float32": 150.0, "bfloat16": 300.0}, [  # no model below half the rate
        "At 100% of the float32 rate this training work would take 5 s.\n"]),
])
def test_bench_reports_throughput_against_the_measured_rates_and_its_bound(monkeypatch, rates,
                                                                           says):
    monkeypatch.setattr(coursekit.precision, "gpus", lambda: [])  # without starting TensorFlow
    text = bench.report(TRAINED, {"B1": SPREAD}, rates, 95.0)
    assert [s for s in says if s not in text] == []


def test_readme_tables_are_rewritten_between_their_markers_only():
    readme = ("intro\n<!-- results:start -->\nold\n<!-- results:end -->\nmiddle\n"
              "<!-- times:start -->\n<!-- times:end -->\nend\n")
    tables = {"B1": RESULT}, {"B1": SPREAD}, {"02_mnist_mlp.ipynb": 90}  # results, seeds, times
    new = update_readme.updated_readme(readme, *tables)
    assert new.startswith("intro\n<!-- results:start -->\n<!-- generated by") and "old" not in new
    assert ("| **0.9500** | 0.9700 ± 0.0010 (3 seeds) | 1 | 128 | 2 s |\n<!-- results:end -->\n"
            "middle\n") in new
    assert re.search(r"\n\| 02 \| \d+ min \| 1\.5 min \| [-\d.]+ min? \|\n", new)
    assert new.endswith("<!-- times:end -->\nend\n")
    assert update_readme.updated_readme(new, *tables) == new
    with pytest.raises(SystemExit, match="needs the markers <!-- times:start --> and <!-- times:e"):
        update_readme.updated_readme(readme.replace("<!-- times:start -->", ""), {}, {})


@pytest.mark.parametrize("tool, argv, name, text, says", [
    (update_readme, [], "results.json", '{"B1": {"mean": 0.9',
     r"results.json is not valid JSON .*git checkout -- figures/results.json.*delete it"),
    (seeds, ["02_mnist_mlp.ipynb", "--seeds", "1"], "seeds.json", "<<<<<<< HEAD\n",
     r"seeds.json holds git merge-conflict markers .*git checkout -- figures/seeds.json"),
], ids=["update_readme-json", "seeds-merge-conflict"])
def test_a_tool_names_a_damaged_file_and_the_fix_and_writes_nothing(
        tmp_path, monkeypatch, capsys, tool, argv, name, text, says):
    readme = shutil.copy(REPO / "README.md", tmp_path / "README.md").read_bytes()
    (tmp_path / name).write_text(text)
    for variable in ("README", "RESULTS"):
        monkeypatch.setattr(update_readme, variable, tmp_path / vars(update_readme)[variable].name)
    monkeypatch.setattr(seeds, "SEEDS_FILE", tmp_path / "seeds.json")
    monkeypatch.setattr(seeds.run_notebooks, "execute", lambda *a, **k: (None, {"results": {}}, 1))
    assert tool.main(argv) == 1
    assert re.search(says, capsys.readouterr().err)
    assert (tmp_path / "README.md").read_bytes() == readme and (tmp_path / name).read_text() == text


@pytest.mark.parametrize("candidate", [[], ["--set", "LR=0.1"]])
def test_seeds_records_every_seed_and_a_candidate_run_shows_no_test_accuracy(
        tmp_path, monkeypatch, capsys, candidate):
    accuracies, asked = iter([0.93, 0.95]), []

    def execute(path, parameters, figures, solutions):  # lesson 02 trains B1 (and E1: left out)
        asked.append((path.name, parameters, solutions))
        b1 = {**RESULT, "test_accuracy": next(accuracies), "val_accuracy": parameters["SEED"] / 10}
        return None, {"results": {"B1": b1, "E1": RESULT}}, 1.0

    monkeypatch.setattr(seeds.run_notebooks, "execute", execute)
    out = tmp_path / "candidate.json"
    argv = ["02_mnist_mlp.ipynb", "--seeds", "1", "2", "--out", str(out), *candidate]
    assert seeds.main(argv) == 0
    settings = {"LR": 0.1} if candidate else {}
    assert asked == [("02_mnist_mlp.ipynb", {**settings, "SEED": seed}, False) for seed in (1, 2)]
    assert out.read_text() == json.dumps({"B1": {  # in this order, as seeds.json has it
        "seeds": [1, 2], "test_accuracy": [0.93, 0.95], "val_accuracy": [0.1, 0.2], "mean": 0.94,
        "sd": 0.0141, "min": 0.93, "floor": 0.9224, **({"settings": settings} if candidate else {})
    }}, indent=2) + "\n"
    assert capsys.readouterr().out.splitlines() == [  # a candidate's test accuracy unread
        f"02_mnist_mlp.ipynb, seed {seed}: B1 validation {seed / 10:.4f} (1 s)" for seed in (1, 2)
    ] + ([] if candidate else ["B1: mean 0.9400 ± 0.0141 (min 0.9300) meets the floor 0.9224"])
