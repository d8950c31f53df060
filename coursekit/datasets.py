"""The datasets as ``keras.datasets.<name>.load_data()`` returns them, from ``COURSE_DATA_DIR`` or
downloaded: each file checked by SHA-256 before it is parsed, then what it holds."""

import gzip, hashlib, math, os, pickle, re, shutil, tarfile, tempfile, urllib.request, zlib
from pathlib import Path

import numpy as np

from .errors import DataError
from .facts import DATASET_TITLES
from .images import unreadable
from .settings import DATA_ENV, data_dir_setting

__all__ = ["DATASETS", "load_data", "loaded_from"]

_MNIST_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# The publishers' files, as `sha256sum` lists them: Keras checks the npz's and CIFAR-10's; the
# others are of files whose MD5 matches the publishers' lists (yann.lecun.com, zalandoresearch).
_OFFICIAL_SHA256 = {path: digest for digest, path in map(str.split, """
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  mnist/train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  mnist/train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  mnist/t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  mnist/t10k-labels-idx1-ubyte.gz
731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1  mnist/mnist.npz
3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84  fashion-mnist/train-images-idx3-ubyte.gz
a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845  fashion-mnist/train-labels-idx1-ubyte.gz
346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073  fashion-mnist/t10k-images-idx3-ubyte.gz
67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5  fashion-mnist/t10k-labels-idx1-ubyte.gz
6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce  cifar-10/cifar-10-python.tar.gz
""".strip().splitlines())}
_OFFICIAL_FILE_BY_HASH = {digest: path for path, digest in _OFFICIAL_SHA256.items()}
_IDX_FILES = tuple(Path(path).name for path in _OFFICIAL_SHA256 if path.startswith("fashion"))
_CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
_CIFAR_BATCH_BYTES = 32 << 20  # a batch's pickle: 31,039,532 bytes
_IDX_MAX_BYTES = 60_000 * 28 * 28  # MNIST's largest file: 60,000 images of 28x28 bytes
_OTHER_HASHES = {32: " (an MD5: use sha256sum)", 40: " (a SHA-1: use sha256sum)"}
_REGENERATE = "Regenerate it in the data folder with `sha256sum */* > SHA256SUMS`."

DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist", "cifar10": "cifar-10"}
_LOADED_FROM: dict[str, str] = {}  # dataset name -> where this process loaded it from


def loaded_from(name: str) -> str:
    """Where this process loaded dataset ``name`` from, or '' if it has not."""
    return _LOADED_FROM.get(name, "")


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _inside(path: Path, root: Path) -> Path:
    """``path``, refused before it is read if a symbolic link takes it out of ``root``."""
    try:
        target = path.resolve()
    except RuntimeError:  # a symlink loop
        target = None
    if target is None or not target.is_relative_to(root.resolve()):
        raise DataError(f"{path} is a symbolic link {f'to {target}' if target else 'that loops'}, "
                        f"outside the data folder {root}, so it was not read. Copy the file "
                        f"itself into {path.parent}.")
    return path


def _read_manifest(data_dir: Path) -> dict[str, str]:
    """``SHA256SUMS`` as {<folder>/<file>: hash} ({} if none), in any form a shell writes."""
    manifest = _inside(data_dir / "SHA256SUMS", data_dir)
    if not manifest.is_file():
        return {}
    raw = manifest.read_bytes()
    try:  # PowerShell 5's `>` writes UTF-16 with a byte-order mark; other shells, UTF-8
        text = raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{manifest} is not text in UTF-8 or UTF-16 ({error}). "
                        f"{_REGENERATE}") from error
    entries, lines = {}, {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        gnu = re.fullmatch(r"\\?([0-9a-fA-F]+)(?:\s+\*?(.*))?", line)  # as sha256sum writes
        bsd = re.fullmatch(r"SHA256 ?\((.*)\) ?= ?([0-9a-fA-F]+)", line)
        digest, name = gnu.groups() if gnu else bsd.groups()[::-1] if bsd else ("", "")
        name = re.sub(r"^(\./)+", "", (name or "").strip().replace("\\", "/"))
        digest = digest.lower()
        problem = next((message for wrong, message in (
            (not (gnu or bsd), "expected '<sha256>  <folder>/<file>' as written by `sha256sum`"),
            (len(digest) != 64, f"the hash has {len(digest)} hex digits, a SHA-256 has 64"
                                f"{_OTHER_HASHES.get(len(digest), '')}"),
            (not name, "the hash is followed by no file name"),
            (re.search(r"\s", name), "more than one word follows the hash; a line lists one file"),
            (name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"),
             "the path leaves the data folder; list <folder>/<file> inside it"),
            (entries.get(name, digest) != digest,
             f"{name} is listed with another hash on line {lines.get(name)}")) if wrong), None)
        if problem:
            raise DataError(f"{manifest}, line {number}: {problem}; found {line!r}. {_REGENERATE}")
        entries[name], lines[name] = digest, number
    return entries


def _verify_file(path: Path, folder: str, manifest: dict[str, str], fix: str) -> str:
    """Check ``path`` by SHA-256: ``'official'``, or ``'manifest'`` if SHA256SUMS vouches."""
    if not path.is_file():
        raise DataError(f"{path} is missing. {fix}")
    name = f"{folder}/{path.name}"
    actual, official = _sha256_of(path), _OFFICIAL_SHA256.get(name)
    if actual == official:
        return "official"
    if actual in _OFFICIAL_FILE_BY_HASH:  # even if SHA256SUMS lists it
        raise DataError(f"{path} is {_OFFICIAL_FILE_BY_HASH[actual]} (its SHA-256 is the "
                        f"publisher's hash for that file), not {name}. {fix}")
    if actual == (listed := manifest.get(name)):
        return "manifest"
    expected = " or ".join(f"{digest} ({where})" for digest, where in (
        (official, "publisher's hash"), (listed, "SHA256SUMS")) if digest)  # one at least
    raise DataError(f"{path} failed its SHA-256 check: expected {expected}, got {actual}: it is "
                    f"cut short, damaged or another file. {fix}")


def _read_idx(path: Path) -> np.ndarray:
    """A gzip'd IDX file (MNIST's) as uint8, refused past MNIST's largest before it inflates."""
    fix = "Copy the file again from the original source."
    try:
        with gzip.open(path, "rb") as handle:
            head = handle.read(4)
            ndim = head[3] if len(head) == 4 and head[:3] == b"\x00\x00\x08" else 0
            if not 1 <= ndim <= 4 or len(dims := handle.read(4 * ndim)) < 4 * ndim:
                raise DataError(f"{path}: not an IDX file of unsigned bytes (its header is wrong "
                                f"or cut short). {fix}")
            shape = tuple(int(n) for n in np.frombuffer(dims, dtype=">u4"))
            if (size := math.prod(shape)) > _IDX_MAX_BYTES:
                raise DataError(f"{path}: its header promises shape {shape}, {size:,} bytes, "
                                f"more than any MNIST file holds ({_IDX_MAX_BYTES:,}). {fix}")
            array = np.empty(size, np.uint8)  # filled 1 MB at a time
            done = sum(handle.readinto(array[at:at + (1 << 20)]) for at in range(0, size, 1 << 20))
            if done < size or handle.read(1):
                raise DataError(f"{path}: header promises shape {shape} but the data size "
                                f"differs{'' if done < size else ' (it inflates to more)'}. {fix}")
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}). {fix}") from error
    return array.reshape(shape)


def _bounded_array(*args) -> np.ndarray:
    """What NumPy's pickles build arrays with, ``_reconstruct`` or ``ndarray``, bounded."""
    shape, dtype = args[-2:]
    if math.prod(shape) * np.dtype(dtype).itemsize > _CIFAR_BATCH_BYTES:
        raise pickle.UnpicklingError(f"refusing to build an array of shape {shape}, larger than "
                                     f"a whole CIFAR-10 batch")
    return np.ndarray(shape, dtype)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches: plain containers and NumPy arrays no larger than a batch."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               *((f"numpy.{core}.multiarray", "_reconstruct") for core in ("core", "_core"))}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")
        return (_bounded_array if name in ("ndarray", "_reconstruct")
                else super().find_class(module, name))


def _read_cifar10_archive(path: Path):
    """A hash-checked ``cifar-10-python`` tar.gz, each batch bounded, unpickled, then checked."""
    batches, seen = {}, {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for count, member in enumerate(archive):  # member by member, as stored
                if count > 64 or member.size > _CIFAR_BATCH_BYTES:
                    raise ValueError(f"it holds {member.name} ({member.size:,} bytes, entry "
                                     f"{count + 1}); CIFAR-10's holds 9 entries of at most 31 MB")
                name = member.name.removeprefix("cifar-10-batches-py/")
                if name not in _CIFAR_BATCHES or not member.isfile():
                    continue
                record = _ArrayUnpickler(archive.extractfile(member), encoding="bytes").load()
                images, labels = record[b"data"], np.asarray(record[b"labels"], np.uint8)
                shape = getattr(images, "shape", type(images).__name__)
                if shape != (len(labels), 3072) or images.dtype != np.uint8:
                    raise ValueError(f"{member.name} holds {shape} for {len(labels)} labels; a "
                                     f"batch holds 3,072 bytes per image")
                sample = images[::10].astype(np.float32)  # 1,000 images across the batch
                mean, spread = float(sample.mean()), float(sample.std())
                if not (64 < mean < 192 and spread > 32):
                    raise ValueError(f"the pixels of {member.name} average {mean:.0f} with a "
                                     f"spread of {spread:.0f}; CIFAR-10's photographs average "
                                     f"about 121 with a spread of about 64")
                if (digest := hashlib.sha256(sample.tobytes()).digest()) in seen:
                    raise ValueError(f"{member.name} holds the same images as {seen[digest]}; "
                                     f"CIFAR-10's six batches all differ")
                seen[digest], batches[name] = member.name, (images.reshape(-1, 3, 32, 32), labels)
        if missing := [name for name in _CIFAR_BATCHES if name not in batches]:
            raise ValueError(f"it has no cifar-10-batches-py/{missing[0]}")
    except (EOFError, OSError, zlib.error, tarfile.TarError, pickle.UnpicklingError, ValueError,
            KeyError, IndexError, TypeError, AttributeError, OverflowError) as error:
        detail = error if type(error) is ValueError else f"{type(error).__name__}: {error}"
        raise DataError(f"{path} is not the CIFAR-10 python archive, or is damaged ({detail}). "
                        f"Copy it again from the original source.") from error
    x_train, y_train = (np.concatenate(part) for part in zip(*map(batches.get, _CIFAR_BATCHES[:5])))
    x_test, y_test = batches["test_batch"]
    return [x_train.transpose(0, 2, 3, 1), y_train.reshape(-1, 1),
            x_test.transpose(0, 2, 3, 1), y_test.reshape(-1, 1)]


# Images per split. MNIST, Fashion-MNIST: same file names and sizes, but non-zero pixels in the
# first 1,000 (or 100, or all) images 18-20% vs 49-50%, and only Fashion as many of each class.
_COUNTS = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000)}
_FINGERPRINT_IMAGES, _NONZERO_SPLIT = 1_000, 1 / 3


def _check_arrays(name: str, arrays: list, paths: list[Path], fix: str) -> None:
    """Refuse arrays that are not ``name``'s though their files (``paths``, in order) hash right."""
    title, fashion = DATASET_TITLES[name], name == "fashion_mnist"
    image, label = ((32, 32, 3), (1,)) if name == "cifar10" else ((28, 28), ())
    for split, count, x, y, x_file, y_file in zip(
            ("train", "test"), _COUNTS[name], arrays[::2], arrays[1::2], paths[::2], paths[1::2]):
        for file, array, shape, what in ((x_file, x, image, "images"),
                                         (y_file, y, label, "labels")):
            if array.shape != (count, *shape):
                hint = ("are the images and labels files swapped?" if array.ndim != 1 + len(shape)
                        else "is it from the other split or another dataset?")
                raise DataError(f"{file} holds an array of shape {array.shape}; {title}'s {split} "
                                f"{what} have shape {(count, *shape)} ({hint}). {fix}")
        if int(y.max()) > 9:
            raise DataError(f"{y_file} holds the label {int(y.max())}; {title}'s labels are 0 to "
                            f"9. {fix}")
        if name == "cifar10":
            continue
        share = float(np.mean(x[:_FINGERPRINT_IMAGES] != 0))
        if (share > _NONZERO_SPLIT) != fashion:
            raise DataError(f"{x_file} does not hold {title}'s images: {share:.0%} of the pixels "
                            f"in its first images are not black (MNIST's digits: about 19%; "
                            f"Fashion-MNIST's clothes: about 49%). {fix}")
        if (len(set(np.bincount(y.ravel(), minlength=10))) == 1) != fashion:
            raise DataError(f"{y_file} {'does not have' if fashion else 'has'} exactly "
                            f"as many labels of each class, as Fashion-MNIST does: these are not "
                            f"{title}'s labels. {fix}")


def _download_verified(url: str, destination: Path, sha256: str) -> Path:
    """``url`` at ``destination``, verified: renamed into place only once its hash matches."""
    if destination.is_file():
        if _sha256_of(destination) == sha256:
            return destination
        print(f"{destination.name}: cached copy failed its SHA-256 check; downloading it again.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        if (actual := _sha256_of(Path(tmp))) != sha256:
            raise OSError(f"its SHA-256 is {actual}, not {sha256}; nothing was saved")
        os.replace(tmp, destination)
    except OSError as error:
        raise DataError(f"Could not download {url} ({error}). Try again later, or set {DATA_ENV} "
                        f"to a folder holding the dataset files (see README, 'Data').") from error
    finally:
        Path(tmp).unlink(missing_ok=True)
    return destination


def _load_local(name: str, data_dir: Path):
    folder, manifest = data_dir / DATASETS[name], _read_manifest(data_dir)
    fix = (f"Copy the {DATASET_TITLES[name]} files into {folder} (see README, 'Data'), or "
           f"unset {DATA_ENV} to download the official files.")
    if name == "cifar10":  # the official archive, or a rebuild listed in SHA256SUMS
        listed = sorted(p for p in manifest if re.fullmatch(r"cifar-10/[^/]+\.tar\.gz", p))
        official = (folder / "cifar-10-python.tar.gz").exists() or not listed
        paths = [folder / ("cifar-10-python.tar.gz" if official else Path(listed[0]).name)] * 4
    else:
        paths = [folder / file for file in _IDX_FILES]
    # every file is checked (no link out of the folder, then its hash) before any is read
    kinds = {_verify_file(_inside(path, data_dir), folder.name, manifest, fix)
             for path in dict.fromkeys(paths)}
    arrays = _read_cifar10_archive(paths[0]) if name == "cifar10" else list(map(_read_idx, paths))
    _check_arrays(name, arrays, paths, fix)
    return arrays, ("the official distribution files, checked against the publisher's SHA-256"
                    if kinds == {"official"} else "a local rebuild, not the official files: "
                    "checked against the folder's SHA256SUMS") + f" ({DATA_ENV})"


def _load_online(name: str):
    cache = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    if name == "mnist":
        path = _download_verified(_MNIST_BASE_URL + "mnist.npz", cache / "mnist.npz",
                                  _OFFICIAL_SHA256["mnist/mnist.npz"])
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    elif name == "fashion_mnist":
        arrays = list(map(_read_idx, [_download_verified(
            _MNIST_BASE_URL + file, cache / "fashion-mnist" / file,
            _OFFICIAL_SHA256[f"fashion-mnist/{file}"]) for file in _IDX_FILES]))
    else:
        arrays = _read_cifar10_archive(_download_verified(
            _CIFAR10_URL, cache / "cifar-10-python.tar.gz",
            _OFFICIAL_SHA256["cifar-10/cifar-10-python.tar.gz"]))
    return arrays, "the official files, downloaded and checked against their SHA-256"


def load_data(name: str):
    """``keras.datasets.<name>.load_data()``, from verified files; prints where they came from."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    if (data_dir := data_dir_setting()) is None:
        arrays, source = _load_online(name)
    else:
        try:
            arrays, source = _load_local(name, data_dir)
        except PermissionError as error:
            raise unreadable(error) from error
    _LOADED_FROM[name] = source
    print(f"{DATASET_TITLES[name]}: {len(arrays[0]):,} training and {len(arrays[2]):,} test "
          f"images from {source}.")
    return tuple(zip(arrays[::2], arrays[1::2]))  # (x_train, y_train), (x_test, y_test)
