"""Chores every lesson needs and no learner has to study.

* the run mode: full recipe, or the quick mode the tests use (``COURSE_QUICK=1``);
* the datasets: read from a local folder (``COURSE_DATA_DIR``) or downloaded from
  the official hosts, and always checked by SHA-256 before a single byte is parsed;
* where figures, results and saved models go, written so that an interrupted run
  never leaves a half-written file behind.

Each loader returns exactly what ``keras.datasets.<name>.load_data()`` returns.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
FIGURES_DIR = REPO_ROOT / "figures"
MODELS_DIR = REPO_ROOT / "models"
RESULTS_FILE = "results.json"

QUICK_ENV = "COURSE_QUICK"
DATA_ENV = "COURSE_DATA_DIR"
OUTPUT_ENV = "COURSE_OUTPUT_DIR"


class CourseError(Exception):
    """A problem the user can fix; the message says which file or setting and how."""


class DataError(CourseError):
    """A dataset file is missing, damaged or not what it claims to be."""


class SettingError(CourseError):
    """An environment variable has a value the course cannot use."""


# --------------------------------------------------------------------------- run mode


def quick_mode() -> bool:
    """True when ``COURSE_QUICK=1``: small slices and one epoch, as the tests run."""
    value = os.environ.get(QUICK_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise SettingError(
        f"{QUICK_ENV}={value!r} is not a run mode. Use {QUICK_ENV}=1 for the quick "
        f"test run, or unset it (or set it to 0) for the full recipe."
    )


def folder_setting(env_name: str, default: Path | None, *,
                   expected: str = "train/ and test/, each with one subfolder of images per "
                                   "class (e.g. train/circle/*.png)",
                   otherwise: str = "use the course's own data") -> Path | None:
    """The folder named by environment variable ``env_name``, else ``default``.

    A value that is set but is not an existing folder stops with a message naming the
    variable, what the folder should hold, and what unsetting it does, rather than
    falling back silently to the default.
    """
    value = os.environ.get(env_name, "").strip()
    if not value:
        return None if default is None else Path(default)
    path = Path(value).expanduser()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a folder"
        raise SettingError(f"{env_name}={value!r} {what}. Point it at a folder holding "
                           f"{expected}, or unset it to {otherwise}.")
    return path


def output_dir() -> Path:
    """Where figures and results go.

    A full run writes to the repository's ``figures/``. A quick run must never
    overwrite those committed files, so it writes to ``COURSE_OUTPUT_DIR`` (the tests
    set it) or to a folder under the system's temporary directory.
    """
    override = os.environ.get(OUTPUT_ENV, "").strip()
    if override:
        path = Path(override)
    elif quick_mode():
        path = Path(tempfile.gettempdir()) / "keras-course-quick"
    else:
        path = FIGURES_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_path(path: Path) -> str:
    """A path fit to print in a notebook: relative to the course, never a machine path."""
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f"<output folder>/{path.name}"


_UMASK = os.umask(0)
os.umask(_UMASK)
_PLAIN_FILE_MODE = 0o666 & ~_UMASK


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _PLAIN_FILE_MODE)  # mkstemp makes 0600 files; these are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig, name: str) -> Path:
    """Save a matplotlib figure as ``<name>.png`` in :func:`output_dir`."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits, '-' and '_'")
    buffer = io.BytesIO()
    # A fixed timestamp-free PNG so that re-running a notebook changes a figure's
    # bytes only when its pixels change.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    path = output_dir() / f"{name}.png"
    _atomic_write_bytes(path, buffer.getvalue())
    return path


def model_path(name: str) -> Path:
    """Where a lesson saves a trained model: ``models/`` in a full run, else a temp folder."""
    out = output_dir()
    folder = MODELS_DIR if out == FIGURES_DIR else out / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def record_result(model_id: str, *, model: str, dataset: str, epochs: int, batch_size: int,
                  train_seconds: float, test_accuracy: float, test_loss: float,
                  tutorial: str, keras_model=None, train_samples: int | None = None,
                  **extra) -> dict:
    """Store one model's result in ``results.json`` (merged by model id) and return it.

    ``tutorial`` is what the source tutorial reported, so the README can show both.
    The data source (official files, local rebuild, download) is added from what
    :func:`load_data` saw in this process. Given the model and the number of training
    images, the training throughput is stored too (see :func:`training_flops`).
    """
    if keras_model is not None and train_samples:
        samples_per_s = train_samples * epochs / train_seconds
        flops = training_flops(keras_model)
        extra.update(train_samples=int(train_samples), samples_per_s=round(samples_per_s, 1),
                     train_gflop_per_sample=round(flops / 1e9, 5),
                     train_gflop_per_s=round(flops * samples_per_s / 1e9, 2))
    entry = {
        "model": model,
        "dataset": dataset,
        "data_source": _LOADED_FROM.get(dataset, extra.pop("data_source", "")),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "train_seconds": round(float(train_seconds), 1),
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "tutorial": tutorial,
        "quick_mode": quick_mode(),
        **extra,
    }
    path = output_dir() / RESULTS_FILE
    results = json.loads(path.read_text()) if path.exists() else {}
    results[model_id] = entry
    text = json.dumps(dict(sorted(results.items())), indent=2) + "\n"
    _atomic_write_bytes(path, text.encode())
    return entry


def training_flops(model) -> float:
    """Floating-point operations to train on one image: about 3x the forward pass.

    The forward pass counts the multiply-adds of Conv2D and Dense layers (2 FLOPs
    each); pooling, activations and the optimizer are small next to them. Training
    adds the two backward products of each layer, hence the usual factor of 3.
    """
    forward = 0
    for layer in getattr(model, "layers", []):
        kind = type(layer).__name__
        if hasattr(layer, "layers"):
            forward += training_flops(layer) / 3
        elif kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            forward += 2 * kh * kw * cin * cout * height * width
        elif kind == "Dense":
            fan_in, fan_out = layer.kernel.shape
            forward += 2 * fan_in * fan_out
    return 3.0 * forward


# --------------------------------------------------------------------------- datasets

MNIST_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# SHA-256 of the publishers' own files. For MNIST and Fashion-MNIST the publishers list
# MD5s (yann.lecun.com, zalandoresearch/fashion-mnist); these SHA-256s were computed
# from files whose MD5 matches those lists. The npz and CIFAR-10 hashes are the ones
# Keras itself checks.
OFFICIAL_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar-10": {
        "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    },
}

IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

DATASETS = {
    # name for load_data -> (folder under COURSE_DATA_DIR, title for messages)
    "mnist": ("mnist", "MNIST"),
    "fashion_mnist": ("fashion-mnist", "Fashion-MNIST"),
    "cifar10": ("cifar-10", "CIFAR-10"),
}

# dataset name -> where this process loaded it from (for record_result)
_LOADED_FROM: dict[str, str] = {}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(data_dir: Path) -> dict[str, str]:
    """``SHA256SUMS`` of a data folder as {relative path: hash}; empty if there is none."""
    manifest = data_dir / "SHA256SUMS"
    if not manifest.is_file():
        return {}
    entries = {}
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line.strip())
        if not match:
            raise DataError(
                f"{manifest}, line {number}: expected '<sha256>  <path>' as written by "
                f"`sha256sum`; found {line!r}. Regenerate it with `sha256sum */* > SHA256SUMS`."
            )
        entries[match.group(2).strip()] = match.group(1).lower()
    return entries


def verify_file(path: Path, folder: str, manifest: dict[str, str]) -> str:
    """Check ``path`` by SHA-256 and say what it is: ``'official'`` or ``'manifest'``.

    The publisher's hash wins; a file that is not the official one is accepted only
    when the folder's ``SHA256SUMS`` lists it with a matching hash.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path} is missing. Copy the {folder} files into {path.parent} (see "
            f"README, 'Data'), or unset {DATA_ENV} to download the official files."
        )
    actual = sha256_of(path)
    official = OFFICIAL_SHA256.get(folder, {}).get(path.name)
    if actual == official:
        return "official"
    listed = manifest.get(f"{folder}/{path.name}")
    if listed is not None and actual == listed:
        return "manifest"
    expected = " or ".join(
        f"{digest} ({where})" for digest, where in
        ((official, "publisher's hash"), (listed, "SHA256SUMS")) if digest
    ) or "a hash, but none is published or listed in SHA256SUMS"
    raise DataError(
        f"{path} failed its SHA-256 check: expected {expected}, got {actual}. The file "
        f"is truncated, damaged or not the {folder} distribution file. Copy it again "
        f"from the original source (or delete it and unset {DATA_ENV} to download it)."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read one gzip'd IDX file (the MNIST distribution format) into a uint8 array."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}).") from error
    if len(raw) < 8 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw[4:header_size], dtype=">u4"))
    if len(raw) - header_size != int(np.prod(shape)):
        raise DataError(f"{path}: header promises shape {shape} but the data size differs.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape).copy()


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches: plain containers and NumPy arrays, nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def read_cifar10_archive(path: Path):
    """Read a ``cifar-10-python`` tar.gz exactly as ``keras.datasets.cifar10`` does.

    Call only on an archive whose hash has been checked: the batches are pickles.
    """
    def batch(archive, member):
        try:
            data = archive.extractfile(f"cifar-10-batches-py/{member}").read()
        except (KeyError, AttributeError) as error:
            raise DataError(f"{path} has no cifar-10-batches-py/{member}.") from error
        record = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
        images = np.asarray(record[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        return images, np.asarray(record[b"labels"], dtype=np.uint8)

    with tarfile.open(path, "r:gz") as archive:
        parts = [batch(archive, f"data_batch_{i}") for i in range(1, 6)]
        x_test, y_test = batch(archive, "test_batch")
    x_train = np.concatenate([images for images, _ in parts])
    y_train = np.concatenate([labels for _, labels in parts])
    return ((x_train.transpose(0, 2, 3, 1), y_train.reshape(-1, 1)),
            (x_test.transpose(0, 2, 3, 1), y_test.reshape(-1, 1)))


def _read_idx_set(folder: Path):
    x_train, y_train, x_test, y_test = (read_idx(folder / name) for name in IDX_FILES)
    return (x_train, y_train), (x_test, y_test)


def _keras_cache_dir(subdir: str) -> Path:
    base = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(base) / "datasets" / subdir


def download_verified(url: str, destination: Path, sha256: str) -> Path:
    """Download ``url`` to ``destination`` unless a verified copy is already there.

    The bytes go to a temporary name and are renamed into place only after their
    hash matches, so an interrupted download never looks like a complete file.
    """
    destination = Path(destination)
    if destination.is_file():
        if sha256_of(destination) == sha256:
            return destination
        print(f"{destination.name}: cached copy failed its SHA-256 check; downloading it again.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        actual = sha256_of(Path(tmp))
        if actual != sha256:
            raise DataError(
                f"{url} downloaded, but its SHA-256 is {actual}, not {sha256}. Nothing was "
                f"saved. Try again later, or download it by hand into {destination.parent} "
                f"and point {DATA_ENV} at a folder laid out as the README describes."
            )
        os.replace(tmp, destination)
    except OSError as error:
        raise DataError(
            f"Could not download {url} ({error}). Without internet access, set {DATA_ENV} "
            f"to a folder holding the dataset files (see README, 'Data')."
        ) from error
    finally:
        Path(tmp).unlink(missing_ok=True)
    return destination


def _data_dir_from_env() -> Path | None:
    return folder_setting(DATA_ENV, None,
                          expected="mnist/, fashion-mnist/ and cifar-10/ (see README, 'Data')",
                          otherwise="download the official files")


def _load_local(name: str, data_dir: Path):
    folder, title = DATASETS[name]
    manifest = _read_manifest(data_dir)
    if name == "cifar10":
        archive = _find_cifar_archive(data_dir / folder, manifest)
        kind = verify_file(archive, folder, manifest)
        arrays = read_cifar10_archive(archive)
        files = [archive.name]
    else:
        kinds = {verify_file(data_dir / folder / file, folder, manifest) for file in IDX_FILES}
        kind = "official" if kinds == {"official"} else "manifest"
        arrays = _read_idx_set(data_dir / folder)
        files = list(IDX_FILES)
    if kind == "official":
        source = "the official distribution files, checked against the publisher's SHA-256"
    else:
        source = ("a local rebuild, not the official files: checked against the folder's "
                  "SHA256SUMS")
    return arrays, source, files


def _find_cifar_archive(folder: Path, manifest: dict[str, str]) -> Path:
    official = folder / "cifar-10-python.tar.gz"
    if official.exists():
        return official
    listed = sorted(p for p in manifest if p.startswith("cifar-10/") and p.endswith(".tar.gz"))
    if listed:
        return folder / Path(listed[0]).name
    raise DataError(
        f"{official} is missing (and the folder's SHA256SUMS lists no other CIFAR-10 "
        f"archive). Copy cifar-10-python.tar.gz there, or unset {DATA_ENV} to download it."
    )


def _load_online(name: str):
    folder, _ = DATASETS[name]
    hashes = OFFICIAL_SHA256[folder]
    if name == "mnist":
        path = download_verified(MNIST_BASE_URL + "mnist.npz",
                                 _keras_cache_dir("") / "mnist.npz", hashes["mnist.npz"])
        with np.load(path, allow_pickle=False) as data:
            arrays = (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    elif name == "fashion_mnist":
        for file in IDX_FILES:
            download_verified(MNIST_BASE_URL + file, _keras_cache_dir(folder) / file, hashes[file])
        arrays = _read_idx_set(_keras_cache_dir(folder))
    else:
        path = download_verified(CIFAR10_URL, _keras_cache_dir("") / "cifar-10-python.tar.gz",
                                 hashes["cifar-10-python.tar.gz"])
        arrays = read_cifar10_archive(path)
    return arrays, "the official files, downloaded and checked against their SHA-256"


def load_data(name: str):
    """``keras.datasets.<name>.load_data()``, from a verified local folder when one is set.

    Returns ``(x_train, y_train), (x_test, y_test)`` with Keras's shapes and dtypes,
    and prints one line saying where the data came from.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    data_dir = _data_dir_from_env()
    if data_dir is None:
        arrays, source = _load_online(name)
    else:
        arrays, source, _ = _load_local(name, data_dir)
        source += f" ({DATA_ENV})"
    (x_train, _), (x_test, _) = arrays
    _LOADED_FROM[name] = source
    print(f"{DATASETS[name][1]}: {len(x_train):,} training and {len(x_test):,} test images "
          f"from {source}.")
    return arrays


# --------------------------------------------------------------------------- start-up


_STARTUP_NOISE = re.compile(
    r"(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on)"
)


def quiet_tensorflow_import() -> None:
    """Import TensorFlow without its start-up INFO lines reaching the notebook.

    TensorFlow 2.21 writes two INFO lines (with a timestamp and a process id) to the
    C-level stderr on import, before any log-level setting applies. They would clutter
    every lesson and differ on every run, so they are dropped here; anything else
    TensorFlow writes while importing is passed on.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Level 3 also hides TensorFlow 2.21's harmless "NodeDef mentions attribute
    # use_unbounded_threadpool" ERROR lines, printed by every fit() with validation
    # data. Real failures still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  (imported for its side effect)
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines():
                if line.strip() and not _STARTUP_NOISE.search(line):
                    print(line, file=sys.stderr)


# --------------------------------------------------------------------------- diagrams


def save_model_diagram(model, name: str) -> Path:
    """Draw ``model`` as a layer diagram (what ``keras.utils.plot_model`` draws).

    ``plot_model`` insists on the system's Graphviz ``dot`` program. This uses the same
    ``keras.utils.model_to_dot`` graph and renders it with ``dot`` when the system has
    it, else with ``graphviz-pure``, the pip-installable port the course installs.
    """
    import keras

    # graphviz-pure sits beside the kernel's Python, on PATH or not (a venv used
    # without activating it).
    venv_bin = str(Path(sys.executable).parent)
    program = shutil.which("dot") or shutil.which("graphviz-pure", path=venv_bin) \
        or shutil.which("graphviz-pure")
    if program is None:
        raise CourseError(
            "Drawing a model diagram needs Graphviz: `pip install graphviz-pure` (as "
            "requirements.txt does) or install Graphviz from your system's packages."
        )
    graph = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, dpi=70)
    path = output_dir() / f"{name}.png"
    _atomic_write_bytes(path, graph.create(prog=program, format="png"))
    return path


# --------------------------------------------------------------------------- image folders
# (lesson 08) Checks a folder of images laid out for keras.utils.image_dataset_from_directory
# before Keras reads it, so that a learner's own drawings fail with a message naming the file
# and the fix, instead of a TensorFlow traceback or a silently wrong dataset.

# What image_dataset_from_directory reads (by file name); it skips every other file.
KERAS_IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_KERAS_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}


class ImageFolderReport:
    """What :func:`check_image_folder` found: classes, counts, and what Keras will convert."""

    def __init__(self, root: Path, classes: list[str], counts: dict, notes: list[str]):
        self.root, self.classes, self.counts, self.notes = root, classes, counts, notes

    def __str__(self) -> str:
        lines = [f"{len(self.classes)} classes: {self.classes}"]
        for split, per_class in self.counts.items():
            detail = ", ".join(f"{name} {n}" for name, n in per_class.items())
            lines.append(f"{split}: {sum(per_class.values())} images ({detail})")
        lines += [f"note: {note}" for note in self.notes] or ["note: nothing to convert"]
        return "\n".join(lines)


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _class_folders(split_dir: Path) -> list[str]:
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout_hint(root: Path, split: str) -> str:
    """Why ``root/split`` might be missing, in the common cases."""
    subfolders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subfolders) == 1 and (subfolders[0] / split).is_dir():
        return f" The zip seems to have unpacked into an extra folder: use {subfolders[0]} instead."
    if subfolders and any(f.suffix.lower() in KERAS_IMAGE_EXTENSIONS
                          for sub in subfolders for f in sub.iterdir() if f.is_file()):
        return (" Its subfolders hold images directly: this looks like one split (train or "
                "test) rather than the folder above them.")
    return ""


def _check_image(path: Path, shown: str, image_size: tuple[int, int], found: dict) -> None:
    """Open one image fully; raise DataError if Keras could not use it, else note conversions."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            fmt, mode, size = image.format, image.mode, image.size
            rgba = image.convert("RGBA") if mode != "RGB" else None
    except UnidentifiedImageError as error:
        raise DataError(f"{shown} is not an image (Pillow cannot identify its format). "
                        f"Delete it or replace it with a PNG drawing.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DataError(f"{shown} is a damaged image ({error}). Save the drawing again "
                        f"as PNG, or delete the file.") from error
    if fmt not in _KERAS_IMAGE_FORMATS:
        raise DataError(f"{shown} is a {fmt} file under an image name; Keras reads only "
                        f"PNG, JPEG, GIF and BMP. Convert it to PNG.")
    if rgba is not None:
        pixels = np.asarray(rgba, dtype=np.int16)
        alpha = pixels[..., 3:] / 255.0
        if (alpha < 1).any():
            # Keras drops the alpha channel: what is under transparent pixels shows.
            on_white = pixels[..., :3] * alpha + 255 * (1 - alpha)
            if np.abs(on_white - pixels[..., :3]).max() > 32:
                raise DataError(
                    f"{shown} has transparent pixels. Keras drops the alpha channel, so the "
                    f"colour hidden under them would show and the drawing would look "
                    f"different. Save it with a white background (no transparency).")
        found.setdefault(f"mode {mode}", []).append(shown)
    if size != (image_size[1], image_size[0]):
        found.setdefault(f"size {size[0]}x{size[1]}", []).append(shown)


def check_image_folder(path: Path, splits=("train", "test"),
                       image_size: tuple[int, int] = (24, 24)) -> ImageFolderReport:
    """Check a folder laid out as ``<split>/<class>/<image>`` before Keras reads it.

    Stops with :class:`DataError` (naming the file or folder and the fix) on a wrong
    layout, a class missing from a split, an empty class folder, a file that is not an
    image, a damaged image or one whose transparency would be lost. Returns a report of
    the classes, the image counts and what ``image_dataset_from_directory(...,
    color_mode="rgb", image_size=image_size)`` will convert (grey or RGBA to RGB,
    other sizes resized), and of files it will skip.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder. Expected a folder holding "
                        f"{' and '.join(s + '/' for s in splits)} with one subfolder per class.")
    classes_by_split, counts, notes, found = {}, {}, [], {}
    for split in splits:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DataError(
                f"{root} has no {split}/ folder. Expected {split}/<class>/<image> (e.g. "
                f"{split}/circle/1.png) for each of {', '.join(s + '/' for s in splits)}."
                + _layout_hint(root, split))
        loose = [p.name for p in split_dir.iterdir()
                 if p.is_file() and p.suffix.lower() in KERAS_IMAGE_EXTENSIONS]
        if loose:
            raise DataError(f"{split_dir} holds images directly ({loose[0]}, ...). Put each "
                            f"image in a subfolder named after its class, e.g. {split}/circle/.")
        classes = _class_folders(split_dir)
        if len(classes) < 2:
            raise DataError(f"{split_dir} has {len(classes)} class folder(s) {classes}; a "
                            f"classifier needs at least two, e.g. {split}/circle and {split}/triangle.")
        classes_by_split[split] = classes
        counts[split] = {}
        for name in classes:
            class_dir = split_dir / name
            files = _visible_files(class_dir)
            images = [f for f in files if f.suffix.lower() in KERAS_IMAGE_EXTENSIONS]
            for other in sorted(set(files) - set(images)):
                notes.append(f"skipped {split}/{other.relative_to(split_dir).as_posix()}: "
                             f"not a file type Keras reads ({', '.join(KERAS_IMAGE_EXTENSIONS)})")
            if not images:
                raise DataError(f"{class_dir} is empty (no {'/'.join(KERAS_IMAGE_EXTENSIONS)} "
                                f"files). Add images of '{name}' or remove the folder from "
                                f"every split.")
            for image in images:
                _check_image(image, str(image), image_size, found)
            counts[split][name] = len(images)
    first, *rest = splits
    for split in rest:
        if classes_by_split[split] != classes_by_split[first]:
            raise DataError(
                f"{root}: {first}/ has classes {classes_by_split[first]} but {split}/ has "
                f"{classes_by_split[split]}. Class numbers come from the sorted folder names, "
                f"so every split needs the same class folders.")
    for kind, files in sorted(found.items()):
        what = kind.split(" ", 1)[1]
        example = Path(files[0]).relative_to(root).as_posix()
        if kind.startswith("mode"):
            notes.append(f"{len(files)} {what} image(s) (e.g. {example}) will be read as RGB")
        else:
            notes.append(f"{len(files)} image(s) of {what} (e.g. {example}) will be resized "
                         f"to {image_size[1]}x{image_size[0]}")
    return ImageFolderReport(root, classes_by_split[first], counts, notes)
