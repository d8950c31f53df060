"""The helper package: verified data loading, outputs, facts and the run's report."""

import gzip
import hashlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import coursekit
from coursekit import CourseError, DataError, SettingError
from coursekit.paths import COURSE_ROOT
from helpers import idx_bytes, write_manifest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


# ----------------------------------------------------------------- helpers to make data


def small_sizes(monkeypatch, **sizes):
    """Let tiny look-alikes pass the size checks: {dataset: (train, test)}."""
    from coursekit.datasets import _EXPECTED
    for name, (train, test) in sizes.items():
        monkeypatch.setattr(_EXPECTED[name], "train", train)
        monkeypatch.setattr(_EXPECTED[name], "test", test)


def digits_like(rng, count):
    """Images with MNIST's share of lit pixels (about a fifth), so they pass as digits."""
    return rng.integers(1, 256, (count, 28, 28)) * (rng.random((count, 28, 28)) < 0.2)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A data folder holding a 6-image MNIST look-alike and its SHA256SUMS."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    small_sizes(monkeypatch, mnist=(6, 4))
    arrays = {
        "train-images-idx3-ubyte.gz": digits_like(rng, 6),
        "train-labels-idx1-ubyte.gz": np.array([0, 1, 1, 2, 3, 9]),
        "t10k-images-idx3-ubyte.gz": digits_like(rng, 4),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1, 1]),
    }
    for name, array in arrays.items():
        (folder / name).write_bytes(idx_bytes(array))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return folder, arrays


def cifar_archive(path: Path, n: int = 3, payload=None) -> None:
    """A cifar-10-python layout with n images per batch (or a given pickled payload)."""
    rng = np.random.default_rng(1)
    with tarfile.open(path, "w:gz") as archive:
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            record = payload if payload is not None else {
                b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                b"labels": list(rng.integers(0, 10, n).tolist()),
            }
            data = pickle.dumps(record, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))



# ------------------------------------------------------- outputs, facts, the run's report


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """This run's figures and models in tmp_path, as the runner would send them."""
    monkeypatch.setattr(coursekit.outputs, "_chosen", {})
    coursekit.outputs.use_output_folder(tmp_path)
    return tmp_path


def test_importing_the_package_changes_nothing_and_brings_no_tensorflow(tmp_path):
    probe = ("import sys, coursekit; assert 'tensorflow' not in sys.modules; "
             "print(sorted(coursekit.__all__)[:1])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_save_figure_writes_a_readable_png_and_no_temporary_files(outputs):
    import stat

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


def test_an_unknown_model_id_says_where_models_are_declared():
    with pytest.raises(CourseError, match=r"'B9' is not a model of the course: "
                       r"coursekit/course\.toml declares B1, .*needs a \[models\.B9\] table"):
        coursekit.tutorial("B9")


def test_only_tensorflows_retracing_warning_is_dropped(monkeypatch, caplog):
    import logging
    import types

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


def test_the_report_reads_results_from_the_lessons_variables(outputs, monkeypatch):
    coursekit.quiet_tensorflow_import()
    import keras

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


def test_training_flops_counts_conv_and_dense_layers():
    coursekit.quiet_tensorflow_import()
    import keras

    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same"),      # 2*3*3*2*4*8*8 = 9,216
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),                          # 4*4*4 = 64 values
        keras.layers.Dense(10),                          # 2*64*10 = 1,280
    ])
    assert coursekit.results.training_flops(model) == 3 * (9_216 + 1_280)


def test_model_diagram_without_the_venv_on_path(outputs, monkeypatch):
    coursekit.quiet_tensorflow_import()
    import keras

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="tiny")
    assert coursekit.save_model_diagram(model, "tiny").read_bytes()[:4] == b"\x89PNG"


def test_a_timing_run_can_force_float32(monkeypatch):
    coursekit.quiet_tensorflow_import()
    import keras

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


def test_truncated_file_is_refused_before_parsing(tiny_mnist):
    folder, _ = tiny_mnist
    target = folder / "train-images-idx3-ubyte.gz"
    expected = hashlib.sha256(target.read_bytes()).hexdigest()
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(DataError) as error:
        coursekit.load_data("mnist")
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and expected in message
    assert "Copy it again" in message


def test_altered_byte_is_refused(tiny_mnist):
    folder, _ = tiny_mnist
    target = folder / "train-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match="failed its SHA-256 check"):
        coursekit.load_data("mnist")


def test_file_not_in_any_manifest_is_refused(tiny_mnist):
    folder, _ = tiny_mnist
    (folder.parent / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match=r"failed its SHA-256 check"):
        coursekit.load_data("mnist")


def test_listed_file_that_is_not_idx_gives_a_clear_error(tiny_mnist):
    folder, _ = tiny_mnist
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    write_manifest(folder.parent)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is not a readable gzip"):
        coursekit.load_data("mnist")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x0d\x01abcd"))
    write_manifest(folder.parent)
    with pytest.raises(DataError, match="bad magic number"):
        coursekit.load_data("mnist")


def test_idx_header_that_lies_about_its_size(tiny_mnist):
    folder, _ = tiny_mnist
    header = bytes([0, 0, 8, 1]) + np.array([50], dtype=">u4").tobytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + bytes(10)))
    write_manifest(folder.parent)
    with pytest.raises(DataError, match="header promises shape"):
        coursekit.load_data("mnist")


def test_malformed_manifest_line(tiny_mnist):
    folder, _ = tiny_mnist
    (folder.parent / "SHA256SUMS").write_text("deadbeef mnist/whatever\n")
    with pytest.raises(DataError, match=r"SHA256SUMS, line 1"):
        coursekit.load_data("mnist")


def test_data_dir_that_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SettingError, match=r"COURSE_DATA_DIR=.*nowhere.* does not exist.*unset it to download"):
        coursekit.load_data("mnist")


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        coursekit.load_data("imagenet")


# ----------------------------------------------------------------- CIFAR-10 archives


def test_cifar_archive_matches_keras_layout(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "cifar-10").mkdir(parents=True)
    cifar_archive(root / "cifar-10" / "cifar-10-python-offline.tar.gz", n=3)
    write_manifest(root)
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    small_sizes(monkeypatch, cifar10=(15, 3))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("cifar10")
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.dtype == np.uint8 and x_train.dtype == np.uint8


def test_cifar_pickle_is_never_opened_before_its_hash_matches(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "cifar-10").mkdir(parents=True)
    archive = root / "cifar-10" / "cifar-10-python-offline.tar.gz"
    cifar_archive(archive, n=2)
    write_manifest(root)
    cifar_archive(archive, payload={b"data": os.system})  # swapped after hashing
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    with pytest.raises(DataError, match="failed its SHA-256 check"):
        coursekit.load_data("cifar10")


def test_cifar_unpickler_refuses_code_even_from_a_listed_archive(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    cifar_archive(archive, payload={b"data": os.system})
    with pytest.raises(DataError, match="evil.tar.gz .*refusing to load posix.system"):
        coursekit.datasets._read_cifar10_archive(archive)


# ----------------------------------------------------------------- downloads


def test_download_is_verified_then_moved_into_place(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    target = tmp_path / "cache" / "file.bin"
    assert coursekit.datasets._download_verified(source.as_uri(), target, digest) == target
    assert target.read_bytes() == b"payload"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_download_with_wrong_hash_leaves_nothing_behind(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(b"tampered")
    target = tmp_path / "cache" / "file.bin"
    with pytest.raises(DataError, match="Nothing was saved"):
        coursekit.datasets._download_verified(source.as_uri(), target, "0" * 64)
    assert list(target.parent.iterdir()) == []


def test_damaged_cache_is_downloaded_again(tmp_path, capsys):
    source = tmp_path / "served.bin"
    source.write_bytes(b"good")
    target = tmp_path / "file.bin"
    target.write_bytes(b"goo")  # an interrupted copy from some other tool
    coursekit.datasets._download_verified(source.as_uri(), target, hashlib.sha256(b"good").hexdigest())
    assert target.read_bytes() == b"good"
    assert "downloading it again" in capsys.readouterr().out


def test_unreachable_host_says_how_to_work_offline(tmp_path):
    with pytest.raises(DataError, match="set COURSE_DATA_DIR"):
        coursekit.datasets._download_verified((tmp_path / "absent").as_uri(), tmp_path / "f", "0" * 64)


def test_without_data_dir_the_official_files_are_downloaded(tmp_path, monkeypatch):
    """Online users: the loader fetches the official files into Keras's cache."""
    calls = []

    def fake_download(url, destination, sha256):
        calls.append((url, destination.name, sha256))
        destination.parent.mkdir(parents=True, exist_ok=True)
        name = destination.name.replace("t10k", "test")
        shape = (2, 28, 28) if "images" in name else (2,)
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


needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "SHA256SUMS").is_file(), reason="no ../shared/datasets beside the checkout"
)


@needs_shared
@pytest.mark.parametrize("name, shape", [("mnist", (28, 28)), ("fashion_mnist", (28, 28))])
def test_real_files_are_recognised_as_official(monkeypatch, capsys, name, shape):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data(name)
    assert x_train.shape == (60000, *shape) and x_test.shape == (10000, *shape)
    assert y_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    assert "official distribution files" in capsys.readouterr().out


@needs_shared
def test_real_mnist_first_labels(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (_, y_train), (_, y_test) = coursekit.load_data("mnist")
    # The first training digits of MNIST are 5, 0, 4, 1, 9; the first test digits 7, 2, 1.
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:3].tolist() == [7, 2, 1]


@needs_shared
def test_real_cifar_rebuild_is_reported_as_a_rebuild(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (x_train, y_train), (x_test, y_test) = coursekit.load_data("cifar10")
    assert x_train.shape == (50000, 32, 32, 3) and y_test.shape == (10000, 1)
    assert "local rebuild, not the official files" in capsys.readouterr().out
    # CIFAR-10's first training label is 6 (frog), its first test label 3 (cat).
    assert y_train[0, 0] == 6 and y_test[0, 0] == 3


