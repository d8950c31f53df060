"""The helper package: outputs, facts, the run's report, and data from verified files."""

import gzip
import hashlib
import io
import json
import logging
import os
import pickle
import re
import stat
import subprocess
import sys
import tarfile
import types

import numpy as np
import pytest

import coursekit
from coursekit import CourseError, DataError
from coursekit.paths import COURSE_ROOT
from helpers import idx_bytes, write_manifest

SHARED_DATA = COURSE_ROOT.parent / "shared" / "datasets"


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
    probe = ("import sys, coursekit; assert 'tensorflow' not in sys.modules, 'tensorflow'; "
             "[getattr(coursekit, name) for name in coursekit.__all__]")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0 and list(tmp_path.iterdir()) == [], done.stderr


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
    # printed, a path never shows the machine's folders
    assert coursekit.display_path(path) == "<output folder>/a_curve.png"
    assert coursekit.display_path(COURSE_ROOT / "models" / "x.keras") == "models/x.keras"


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
        logger.warning("5 out of the last 129 calls to <function f at 0x7fb1> triggered "
                       "tf.function retracing. Tracing is expensive")
        logger.warning("something else")
    assert [record.getMessage() for record in caplog.records] == ["something else"]


def test_the_report_reads_results_from_the_lessons_variables(keras, outputs, monkeypatch):
    from coursekit import runtime

    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same"),      # 2*3*3*2*4*8*8 = 9,216 FLOPs
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),                          # 4*4*4 = 64 values
        keras.layers.Dense(10),                          # 2*64*10 = 1,280 FLOPs
    ])
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


def test_model_diagram_without_the_venv_on_path(keras, outputs, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="tiny")
    assert coursekit.save_model_diagram(model, "tiny").read_bytes()[:4] == b"\x89PNG"


# ------------------------------------------------------------------- data, local and fetched


def small_sizes(monkeypatch, **sizes):
    """Let tiny look-alikes pass the size checks: {dataset: (train, test)}."""
    for name, (train, test) in sizes.items():
        monkeypatch.setattr(coursekit.datasets._EXPECTED[name], "train", train)
        monkeypatch.setattr(coursekit.datasets._EXPECTED[name], "test", test)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A listed 6-image MNIST look-alike in a data folder: (its mnist folder, {file: array})."""
    rng = np.random.default_rng(0)
    # a fifth of the pixels lit, as in MNIST's digits
    digits = lambda n: rng.integers(1, 256, (n, 28, 28)) * (rng.random((n, 28, 28)) < 0.2)  # noqa: E731
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    small_sizes(monkeypatch, mnist=(6, 4))
    arrays = {"train-images-idx3-ubyte.gz": digits(6), "train-labels-idx1-ubyte.gz": [0, 1, 1, 2, 3, 9],
              "t10k-images-idx3-ubyte.gz": digits(4), "t10k-labels-idx1-ubyte.gz": [7, 2, 1, 1]}
    for name, array in arrays.items():
        (folder / name).write_bytes(idx_bytes(array))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return folder, arrays


def test_local_folder_loads_what_keras_returns(tiny_mnist, capsys):
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("mnist")
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8 and x_train.flags.writeable
    assert y_train.shape == (6,) and y_test.shape == (4,) and y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_test, tiny_mnist[1]["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, tiny_mnist[1]["train-labels-idx1-ubyte.gz"])
    assert "local rebuild" in capsys.readouterr().out  # not the official files: said so
    with pytest.raises(ValueError, match="unknown dataset"):
        coursekit.load_data("imagenet")


@pytest.mark.parametrize("fault, message", [
    ("missing", r"t10k-labels-idx1-ubyte\.gz is missing.*COURSE_DATA_DIR"),
    ("short", r"header promises shape \(50,\) but the data size differs\. Copy"),
    # cut after SHA256SUMS listed it, or not listed at all: refused before it is parsed
    ("cut", r"{images} failed its SHA-256 check: .*{digest}.*Copy it again"),
    ("cut, unlisted", r"{images} failed its SHA-256 check: .*publisher's hash.*Copy it again"),
])
def test_a_damaged_file_is_named_with_the_fix(tiny_mnist, fault, message):
    folder = tiny_mnist[0]
    images = folder / "train-images-idx3-ubyte.gz"
    digest = hashlib.sha256(images.read_bytes()).hexdigest()
    if fault == "missing":
        (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    elif fault == "short":  # an IDX header promising 50 labels, and 10 bytes
        header = bytes([0, 0, 8, 1, 0, 0, 0, 50])
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + bytes(10)))
        write_manifest(folder.parent)
    else:
        images.write_bytes(images.read_bytes()[:100])
        if "unlisted" in fault:
            (folder.parent / "SHA256SUMS").unlink()
    message = message.format(images=re.escape(str(images)), digest=digest)
    with pytest.raises(DataError, match=message):
        coursekit.load_data("mnist")


def cifar_folder(tmp_path, monkeypatch, payload=None):
    """A listed cifar-10-python archive of 3 images a batch (or of ``payload``) in a data folder."""
    rng = np.random.default_rng(1)
    path = tmp_path / "data" / "cifar-10" / "cifar-10-python-offline.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
                     b"labels": rng.integers(0, 10, 3).tolist()}
            data = pickle.dumps(payload or batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return path


def test_cifar_archive_loads_as_keras_gives_it_and_runs_no_code(tmp_path, monkeypatch):
    cifar_folder(tmp_path, monkeypatch)
    small_sizes(monkeypatch, cifar10=(15, 3))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("cifar10")
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.dtype == np.uint8 and x_train.dtype == np.uint8
    # a pickle that would call a function is refused, even from a listed archive
    path = cifar_folder(tmp_path, monkeypatch, payload={b"data": os.system})
    with pytest.raises(DataError, match=rf"{path} .*refusing to load posix.system"):
        coursekit.load_data("cifar10")
    evil = path.read_bytes()
    cifar_folder(tmp_path, monkeypatch).write_bytes(evil)  # swapped after hashing: never opened
    with pytest.raises(DataError, match="failed its SHA-256 check"):
        coursekit.load_data("cifar10")


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
    calls = []

    def fake_download(url, destination, sha256):
        calls.append((url, destination.name, sha256))
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(idx_bytes(np.zeros((2, 28, 28) if "images" in url else 2)))
        return destination

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(coursekit.datasets, "_download_verified", fake_download)
    assert coursekit.load_data("fashion_mnist")[0][0].shape == (2, 28, 28)
    datasets = coursekit.datasets
    assert [name for _, name, _ in calls] == list(datasets._IDX_FILES)
    assert all(url.startswith(datasets._MNIST_BASE_URL)
               and digest == datasets._OFFICIAL_SHA256["fashion-mnist"][name]
               for url, name, digest in calls)


@pytest.mark.skipif(not (SHARED_DATA / "SHA256SUMS").is_file(),
                    reason="no ../shared/datasets beside the checkout")
@pytest.mark.parametrize("name, first_train, first_test, source", [
    ("mnist", [5, 0, 4, 1, 9], [7, 2, 1], "official distribution files"),
    ("fashion_mnist", [9, 0, 0, 3, 0], [9, 2, 1], "official distribution files"),
    # the offline copy of CIFAR-10 is a rebuild; 6 is a frog, 3 a cat
    ("cifar10", [6, 9, 9, 4, 1], [3, 8, 8], "local rebuild, not the official"),
])
def test_real_files_load_as_keras_gives_them(monkeypatch, capsys, name, first_train, first_test,
                                             source):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data(name)
    train, image, label = (50000, (32, 32, 3), (1,)) if name == "cifar10" else (60000, (28, 28), ())
    assert x_train.shape == (train, *image) and x_test.shape == (10000, *image)
    assert y_train.shape == (train, *label) and y_test.shape == (10000, *label)
    assert y_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    assert y_train.ravel()[:5].tolist() == first_train and y_test.ravel()[:3].tolist() == first_test
    assert source in capsys.readouterr().out
