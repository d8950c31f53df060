"""The helper package: verified data loading, outputs, facts and the run's report."""

import gzip
import hashlib
import io
import json
import logging
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import numpy as np
import pytest

import coursekit
from coursekit import CourseError, DataError, SettingError
from coursekit.paths import COURSE_ROOT
from helpers import idx_bytes, write_manifest

SHARED_DATA = COURSE_ROOT.parent / "shared" / "datasets"


# ----------------------------------------------------------------- helpers to make data


def small_sizes(monkeypatch, **sizes):
    """Let tiny look-alikes pass the size checks: {dataset: (train, test)}."""
    from coursekit.datasets import _EXPECTED
    for name, (train, test) in sizes.items():
        monkeypatch.setattr(_EXPECTED[name], "train", train)
        monkeypatch.setattr(_EXPECTED[name], "test", test)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A data folder holding a 6-image MNIST look-alike and its SHA256SUMS."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    small_sizes(monkeypatch, mnist=(6, 4))
    arrays = {  # images with MNIST's share of lit pixels (a fifth), so they pass as digits
        "train-images-idx3-ubyte.gz": rng.integers(1, 256, (6, 28, 28)) * (rng.random((6, 28, 28)) < 0.2),
        "train-labels-idx1-ubyte.gz": np.array([0, 1, 1, 2, 3, 9]),
        "t10k-images-idx3-ubyte.gz": rng.integers(1, 256, (4, 28, 28)) * (rng.random((4, 28, 28)) < 0.2),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1, 1]),
    }
    for name, array in arrays.items():
        (folder / name).write_bytes(idx_bytes(array))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return folder, arrays


# ------------------------------------------------------- outputs, facts, the run's report


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """This run's figures and models in tmp_path, as the runner would send them."""
    monkeypatch.setattr(coursekit.outputs, "_chosen", {})
    coursekit.outputs.use_output_folder(tmp_path)
    return tmp_path


@pytest.fixture
def keras():
    coursekit.quiet_tensorflow_import()
    import keras
    return keras


def test_importing_the_package_changes_nothing_and_brings_no_tensorflow(tmp_path):
    probe = ("import sys, coursekit; assert 'tensorflow' not in sys.modules; "
             "print(sorted(coursekit.__all__)[:1])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_save_figure_writes_a_readable_png_and_no_temporary_files(outputs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = coursekit.save_figure(fig, "a_curve")
    assert path == outputs / "a_curve.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in outputs.iterdir()] == ["a_curve.png"]
    assert stat.S_IMODE(path.stat().st_mode) & stat.S_IROTH  # for sharing, not mkstemp's 0600
    with pytest.raises(ValueError, match="figure name"):
        coursekit.save_figure(fig, "../escape")
    plt.close(fig)


def test_display_path_never_shows_a_machine_path(tmp_path):
    assert coursekit.display_path(COURSE_ROOT / "models" / "x.keras") == "models/x.keras"
    assert coursekit.display_path(tmp_path / "x.png") == "<output folder>/x.png"


@pytest.mark.parametrize("model_id, words, floor", [
    ("B1", "test accuracy 0.9224", "the tutorial's 0.9224"),
    ("B3", "test error 1.07%", "the tutorial's 0.9893"),
    ("B2", "curves only", "the course's target 0.97"),
    ("E1-augmented", "accuracy on another person's drawings 73.3%", "no floor"),
])
def test_each_model_says_what_its_tutorial_reported_and_whose_floor_it_has(model_id, words,
                                                                           floor):
    model = coursekit.facts.model(model_id)
    assert (model.tutorial, model.floor_words) == (words, floor)
    assert coursekit.tutorial(model_id) == model.reported


@pytest.mark.parametrize("fields, problem", [
    ({"floor": "tutorial"}, 'floor = "tutorial" needs a reported headline number'),
    ({"reported": {"headline": "test_accuracy"}}, "reported.headline names 'test_accuracy'"),
    ({"floor": "high"}, 'floor must be "tutorial", a number, or absent'),
])
def test_a_wrong_model_table_is_refused_naming_it(fields, problem):
    fields = {"floor_setting": fields.pop("floor", None), **fields}
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
        logger.warning("5 out of the last 129 calls to <function f at 0x7fb1> triggered "
                       "tf.function retracing. Tracing is expensive")
        logger.warning("something else")
    assert [record.getMessage() for record in caplog.records] == ["something else"]


def test_the_report_reads_results_from_the_lessons_variables(keras, outputs, monkeypatch):
    from coursekit import runtime

    model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(10)])
    monkeypatch.setitem(runtime.FIT_SECONDS, id(model), 4.0)
    namespace = {"mlp": model, "acc": 0.95, "loss": 0.2, "x": [0] * 1000}
    spec = {"B1": {"model": "mlp", "test_accuracy": "acc", "test_loss": "loss", "epochs": "2",
                   "train_samples": "len(x)"}}
    report = json.loads(runtime.report(spec, namespace, {"3.0": "95%"}, quick=False)
                        .removeprefix(runtime.REPORT_MARK))
    entry = report["results"]["B1"]
    assert report["prose"] == {"3.0": "95%"} and entry["train_seconds"] == 4.0
    assert (entry["precision"], entry["samples_per_s"]) == ("float32", 500.0)
    assert entry["train_gflop_per_sample"] == round(3 * 2 * 100 * 10 / 1e9, 5)
    with pytest.raises(CourseError, match="below a quick run's floor"):
        runtime.report(spec, {**namespace, "acc": 0.01}, {}, quick=True)


def test_training_flops_counts_conv_and_dense_layers(keras):
    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same"),      # 2*3*3*2*4*8*8 = 9,216
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),                          # 4*4*4 = 64 values
        keras.layers.Dense(10),                          # 2*64*10 = 1,280
    ])
    assert coursekit.results.training_flops(model) == 3 * (9_216 + 1_280)


def test_model_diagram_without_the_venv_on_path(keras, outputs, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="tiny")
    assert coursekit.save_model_diagram(model, "tiny").read_bytes()[:4] == b"\x89PNG"


def test_a_timing_run_can_force_float32(keras, monkeypatch):
    from coursekit import precision

    monkeypatch.setitem(precision.FORCED, "policy", "float32")
    try:
        assert coursekit.choose_precision() == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


# ----------------------------------------------------------------- local data folder


def test_local_folder_loads_what_keras_returns(tiny_mnist, capsys):
    folder, arrays = tiny_mnist
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("mnist")
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (6,) and y_test.shape == (4,) and y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    assert x_train.flags.writeable
    # these files are not the official ones: the reader is told so
    assert "local rebuild" in capsys.readouterr().out


def test_missing_file_names_the_file_and_the_fix(tiny_mnist):
    folder, _ = tiny_mnist
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is missing.*COURSE_DATA_DIR"):
        coursekit.load_data("mnist")


@pytest.mark.parametrize("listed", [True, False])
def test_a_file_is_refused_by_its_hash_before_parsing(tiny_mnist, listed):
    """Truncated after SHA256SUMS listed it, or not listed: named, with the hash expected."""
    folder, _ = tiny_mnist
    target = folder / "train-images-idx3-ubyte.gz"
    expected = hashlib.sha256(target.read_bytes()).hexdigest() if listed else "publisher's hash"
    target.write_bytes(target.read_bytes()[:100])
    if not listed:
        (folder.parent / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match=rf"{re.escape(str(target))} failed its SHA-256 check: .*{expected}.*"
                                        r"Copy it again"):
        coursekit.load_data("mnist")


def test_idx_header_that_promises_more_than_the_file_holds(tiny_mnist):
    folder, _ = tiny_mnist
    header = bytes([0, 0, 8, 1]) + np.array([50], dtype=">u4").tobytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + bytes(10)))
    write_manifest(folder.parent)
    with pytest.raises(DataError, match=r"header promises shape \(50,\) but the data size "
                                        r"differs\. Copy"):
        coursekit.load_data("mnist")


def test_data_dir_that_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SettingError, match=r"COURSE_DATA_DIR=.*nowhere.* does not exist.*unset it to download"):
        coursekit.load_data("mnist")


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        coursekit.load_data("imagenet")


# ----------------------------------------------------------------- CIFAR-10 archives


def cifar_folder(tmp_path, monkeypatch, payload=None) -> Path:
    """A data folder whose SHA256SUMS lists a cifar-10-python archive of 3 images per
    batch (or of a given pickled payload)."""
    rng = np.random.default_rng(1)
    path = tmp_path / "data" / "cifar-10" / "cifar-10-python-offline.tar.gz"
    path.parent.mkdir(parents=True)
    with tarfile.open(path, "w:gz") as archive:
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = pickle.dumps(payload or {b"data": rng.integers(0, 256, (3, 3072)).astype(np.uint8),
                                            b"labels": rng.integers(0, 10, 3).tolist()}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return path


def test_cifar_archive_matches_keras_layout(tmp_path, monkeypatch):
    cifar_folder(tmp_path, monkeypatch)
    small_sizes(monkeypatch, cifar10=(15, 3))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("cifar10")
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.dtype == np.uint8 and x_train.dtype == np.uint8


def test_cifar_pickles_run_no_code_even_from_a_listed_archive(tmp_path, monkeypatch):
    path = cifar_folder(tmp_path, monkeypatch, payload={b"data": os.system})
    with pytest.raises(DataError, match=rf"{path} .*refusing to load posix.system"):
        coursekit.load_data("cifar10")
    evil = path.read_bytes()
    shutil.rmtree(tmp_path / "data")
    cifar_folder(tmp_path, monkeypatch).write_bytes(evil)  # swapped after hashing: never opened
    with pytest.raises(DataError, match="failed its SHA-256 check"):
        coursekit.load_data("cifar10")


# ----------------------------------------------------------------- downloads


def test_a_download_is_verified_before_it_lands(tmp_path, capsys):
    served, target = tmp_path / "served.bin", tmp_path / "cache" / "file.bin"
    served.write_bytes(b"payload")
    digest, download = hashlib.sha256(b"payload").hexdigest(), coursekit.datasets._download_verified
    with pytest.raises(DataError, match="Nothing was saved"):
        download(served.as_uri(), target, "0" * 64)
    assert list(target.parent.iterdir()) == []
    target.write_bytes(b"pay")  # an interrupted copy from some other tool
    assert download(served.as_uri(), target, digest) == target
    assert target.read_bytes() == b"payload" and list(target.parent.iterdir()) == [target]
    assert "downloading it again" in capsys.readouterr().out
    served.unlink()
    assert download(served.as_uri(), target, digest) == target  # a verified copy is kept
    with pytest.raises(DataError, match="set COURSE_DATA_DIR"):
        download(served.as_uri(), tmp_path / "f", "0" * 64)


def test_without_data_dir_the_official_files_are_downloaded(tmp_path, monkeypatch):
    """Online users: the loader fetches the official files into Keras's cache."""
    calls = []

    def fake_download(url, destination, sha256):
        calls.append((url, destination.name, sha256))
        destination.parent.mkdir(parents=True, exist_ok=True)
        shape = (2, 28, 28) if "images" in destination.name else (2,)
        destination.write_bytes(idx_bytes(np.zeros(shape)))
        return destination

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(coursekit.datasets, "_download_verified", fake_download)
    (x_train, _), _ = coursekit.load_data("fashion_mnist")
    assert x_train.shape == (2, 28, 28)
    assert [c[1] for c in calls] == list(coursekit.datasets._IDX_FILES)
    assert all(c[0].startswith(coursekit.datasets._MNIST_BASE_URL) for c in calls)
    assert all(c[2] == coursekit.datasets._OFFICIAL_SHA256["fashion-mnist"][c[1]] for c in calls)


# ----------------------------------------------------------------- the real datasets


@pytest.mark.skipif(not (SHARED_DATA / "SHA256SUMS").is_file(),
                    reason="no ../shared/datasets beside the checkout")
@pytest.mark.parametrize("name, images, labels, first_train, first_test, source", [
    ("mnist", (28, 28), (), [5, 0, 4, 1, 9], [7, 2, 1], "official distribution files"),
    ("fashion_mnist", (28, 28), (), [9, 0, 0, 3, 0], [9, 2, 1], "official distribution files"),
    # the offline copy of CIFAR-10 is a rebuild; 6 is a frog, 3 a cat
    ("cifar10", (32, 32, 3), (1,), [6, 9, 9, 4, 1], [3, 8, 8], "local rebuild, not the official"),
])
def test_real_files_load_as_keras_gives_them(monkeypatch, capsys, name, images, labels,
                                             first_train, first_test, source):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data(name)
    train = 50000 if name == "cifar10" else 60000
    assert x_train.shape == (train, *images) and x_test.shape == (10000, *images)
    assert y_train.shape == (train, *labels) and y_test.shape == (10000, *labels)
    assert y_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    assert y_train.ravel()[:5].tolist() == first_train and y_test.ravel()[:3].tolist() == first_test
    assert source in capsys.readouterr().out
