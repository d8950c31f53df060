"""The helper package: outputs, facts, TensorFlow's noise, and the run's report."""

import json, logging, re, stat, subprocess, sys, types

import pytest

import coursekit
from coursekit import CourseError
from coursekit.paths import COURSE_ROOT


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """This run's figures and models in tmp_path, as the runner would send them."""
    monkeypatch.setattr(coursekit.outputs, "_chosen", {})
    coursekit.outputs.use_output_folder(tmp_path)
    return tmp_path


def test_importing_the_package_changes_nothing_and_brings_no_tensorflow(tmp_path):
    probe = ("import sys, coursekit; assert 'tensorflow' not in sys.modules, 'tensorflow'; "
             "[getattr(coursekit, name) for name in coursekit.__all__]")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0 and list(tmp_path.iterdir()) == [], done.stderr


def test_save_figure_writes_a_readable_png_and_no_temporary_files(outputs):
    from matplotlib.figure import Figure  # no pyplot: no window, nothing to close

    path = coursekit.save_figure(fig := Figure(), "a_curve")  # empty: the file is what is tested
    assert path == outputs / "a_curve.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in outputs.iterdir()] == ["a_curve.png"]
    assert stat.S_IMODE(path.stat().st_mode) & stat.S_IROTH  # for sharing, not mkstemp's 0600
    with pytest.raises(ValueError, match="figure name"):
        coursekit.save_figure(fig, "../escape")
    # printed, a path never shows the machine's folders
    assert coursekit.display_path(path) == "<output folder>/a_curve.png"
    assert coursekit.display_path(COURSE_ROOT / "models" / "x.keras") == "models/x.keras"


@pytest.mark.parametrize("model_id, words, floor", [
    ("B1", "test accuracy 0.9224", "the tutorial's 0.9224"),
    ("B3", "test error 1.07%", "the tutorial's 0.9893"),
    ("B2", "curves only", "the course's target 0.97"),
    ("E1-augmented", "accuracy on another person's drawings 73.3%", "no floor"),
])
def test_each_model_says_what_its_tutorial_reported_and_its_floor(model_id, words, floor):
    model = coursekit.facts.model(model_id)
    assert (model.tutorial, model.floor_words) == (words, floor)
    assert coursekit.tutorial(model_id) == model.reported


@pytest.mark.parametrize("fields, problem", [
    ({"floor_setting": "tutorial"}, 'floor = "tutorial" needs a reported headline number'),
    ({"reported": {"headline": "test_accuracy"}}, "reported.headline names 'test_accuracy'"),
    ({"floor_setting": "high"}, 'floor must be "tutorial", a number, or absent'),
])
def test_a_wrong_model_table_is_refused_naming_it(fields, problem):
    with pytest.raises(CourseError, match=rf"course\.toml, \[models\.X\]: {re.escape(problem)}"):
        coursekit.facts.ModelFacts(id="X", title="", dataset="mnist", lesson="",
                                   quick_floor=0.5, **fields)


def test_only_tensorflows_retracing_warning_is_dropped(monkeypatch, caplog):
    logger = logging.getLogger("tensorflow")
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    coursekit.quiet_tensorflow_import()
    coursekit.quiet_tensorflow_import()  # a second call adds no second filter
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING):
        logger.warning("5 of the last 129 calls to <function f> triggered tf.function retracing.")
        logger.warning("something else")
    assert [record.getMessage() for record in caplog.records] == ["something else"]


def test_a_models_report_reads_the_lessons_variables_and_its_diagram_draws(outputs, monkeypatch):
    coursekit.quiet_tensorflow_import()
    import keras
    from coursekit import runtime

    model = keras.Sequential([  # FLOPs: convolution 2*3*3*2*4*8*8 = 9,216, dense 2*4*4*4*10 = 1,280
        keras.Input((8, 8, 2)), keras.layers.Conv2D(4, 3, padding="same"),
        keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert coursekit.results.training_flops(model) == 3 * (9_216 + 1_280)
    monkeypatch.setitem(runtime.FIT_SECONDS, id(model), 4.0)
    namespace = {"cnn": model, "acc": 0.95, "loss": 0.2, "x": [0] * 1000}
    spec = {"B1": {"model": "cnn", "test_accuracy": "acc", "test_loss": "loss", "epochs": "2",
                   "train_samples": "len(x)"}}
    report = json.loads(runtime.report(spec, namespace, {"3.0": "95%"}, quick=False)
                        .removeprefix(runtime.REPORT_MARK))
    entry = report["results"]["B1"]
    assert report["prose"] == {"3.0": "95%"} and entry["train_seconds"] == 4.0
    assert (entry["precision"], entry["samples_per_s"]) == ("float32", 500.0)
    assert entry["train_gflop_per_sample"] == round(3 * 10_496 / 1e9, 5)
    with pytest.raises(CourseError, match="below a quick run's floor"):
        runtime.report(spec, {**namespace, "acc": 0.01}, {}, quick=True)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # the venv not activated: graphviz-pure not on it
    assert coursekit.save_model_diagram(model, "cnn").read_bytes()[:4] == b"\x89PNG"

