"""The datasets: verified local copies or the official downloads, as Keras returns them.

Every file is checked by SHA-256 before a single byte of it is parsed. With
``COURSE_DATA_DIR`` set, the publishers' files are read from that folder; otherwise the
official files are downloaded as Keras does, into ``~/.keras/datasets``. Each loader
returns exactly what ``keras.datasets.<name>.load_data()`` returns.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .errors import DataError
from .facts import DATASET_TITLES
from .settings import DATA_ENV, folder_setting

__all__ = ["DATASETS", "load_data", "loaded_from"]

_MNIST_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# SHA-256 of the publishers' own files. For MNIST and Fashion-MNIST the publishers list
# MD5s (yann.lecun.com, zalandoresearch/fashion-mnist); these SHA-256s were computed
# from files whose MD5 matches those lists. The npz and CIFAR-10 hashes are the ones
# Keras itself checks.
_OFFICIAL_SHA256 = {
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

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# name for load_data -> its folder under COURSE_DATA_DIR (titles: facts.DATASET_TITLES)
DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist", "cifar10": "cifar-10"}

# dataset name -> where this process loaded it from (for record_result)
_LOADED_FROM: dict[str, str] = {}


def loaded_from(name: str) -> str:
    """Where this process loaded dataset ``name`` from, or '' if it has not."""
    return _LOADED_FROM.get(name, "")


def _sha256_of(path: Path) -> str:
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


def _verify_file(path: Path, folder: str, manifest: dict[str, str]) -> str:
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
    actual = _sha256_of(path)
    official = _OFFICIAL_SHA256.get(folder, {}).get(path.name)
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


def _read_idx(path: Path) -> np.ndarray:
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


def _read_cifar10_archive(path: Path):
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
    x_train, y_train, x_test, y_test = (_read_idx(folder / name) for name in _IDX_FILES)
    return (x_train, y_train), (x_test, y_test)


def _keras_cache_dir(subdir: str) -> Path:
    base = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(base) / "datasets" / subdir


def _download_verified(url: str, destination: Path, sha256: str) -> Path:
    """Download ``url`` to ``destination`` unless a verified copy is already there.

    The bytes go to a temporary name and are renamed into place only after their
    hash matches, so an interrupted download never looks like a complete file.
    """
    destination = Path(destination)
    if destination.is_file():
        if _sha256_of(destination) == sha256:
            return destination
        print(f"{destination.name}: cached copy failed its SHA-256 check; downloading it again.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        actual = _sha256_of(Path(tmp))
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
    folder = DATASETS[name]
    manifest = _read_manifest(data_dir)
    if name == "cifar10":
        archive = _find_cifar_archive(data_dir / folder, manifest)
        kind = _verify_file(archive, folder, manifest)
        arrays = _read_cifar10_archive(archive)
        files = [archive.name]
    else:
        kinds = {_verify_file(data_dir / folder / file, folder, manifest) for file in _IDX_FILES}
        kind = "official" if kinds == {"official"} else "manifest"
        arrays = _read_idx_set(data_dir / folder)
        files = list(_IDX_FILES)
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
    folder = DATASETS[name]
    hashes = _OFFICIAL_SHA256[folder]
    if name == "mnist":
        path = _download_verified(_MNIST_BASE_URL + "mnist.npz",
                                 _keras_cache_dir("") / "mnist.npz", hashes["mnist.npz"])
        with np.load(path, allow_pickle=False) as data:
            arrays = (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    elif name == "fashion_mnist":
        for file in _IDX_FILES:
            _download_verified(_MNIST_BASE_URL + file, _keras_cache_dir(folder) / file, hashes[file])
        arrays = _read_idx_set(_keras_cache_dir(folder))
    else:
        path = _download_verified(_CIFAR10_URL, _keras_cache_dir("") / "cifar-10-python.tar.gz",
                                 hashes["cifar-10-python.tar.gz"])
        arrays = _read_cifar10_archive(path)
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
    print(f"{DATASET_TITLES[name]}: {len(x_train):,} training and {len(x_test):,} test images "
          f"from {source}.")
    return arrays
