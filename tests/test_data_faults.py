"""Fault injection, data side: each fault in the data or an image folder a careful user can
meet stops with the file named and the fix, and no tracked file changes (issues 14, 30).

Faults in the data are made from copies of the real files when the offline datasets are
in ../shared/datasets beside the course folder, or from tiny look-alikes built here.
"""

import gzip
import hashlib
import io
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import coursekit
from coursekit import DataError
from coursekit.datasets import _EXPECTED, DATASETS
from helpers import deny, idx_bytes, write_manifest
from coursekit.paths import COURSE_ROOT

REPO = COURSE_ROOT
SHARED_DATA = REPO.parent / "shared" / "datasets"
needs_shared = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(),
                                  reason="needs the offline datasets in ../shared/datasets")
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ------------------------------------------------------------- nothing tracked changes


def _guarded_files() -> dict[str, str]:
    """Hash of every tracked file these faults could touch, and what else lies there."""
    listed = subprocess.run(["git", "ls-files", "figures", "data", "README.md"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    hashes = {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest()
              for name in listed if (REPO / name).is_file()}
    for folder in ("figures", "my-outputs"):
        for path in (REPO / folder).rglob("*") if (REPO / folder).is_dir() else ():
            hashes.setdefault(path.relative_to(REPO).as_posix(), "untracked")
    return hashes


@pytest.fixture(autouse=True)
def nothing_tracked_changes():
    """Every fault here must leave figures/, data/ and README.md as they were."""
    before = _guarded_files()
    yield
    assert _guarded_files() == before, "a fault changed a tracked file or left one in figures/"


# ------------------------------------------------------------------ data: what it is


def copy_dataset(tmp_path, monkeypatch, *folders) -> Path:
    root = tmp_path / "data"
    for folder in folders:
        shutil.copytree(SHARED_DATA / folder, root / folder)
        for path in (root / folder).iterdir():
            path.chmod(0o644)
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    return root


@needs_shared
def test_official_file_under_another_name_is_named_as_what_it_is(tmp_path, monkeypatch):
    root = copy_dataset(tmp_path, monkeypatch, "mnist")
    labels = root / "mnist"
    (labels / IDX[1]).rename(labels / "swap")
    (labels / IDX[3]).rename(labels / IDX[1])
    (labels / "swap").rename(labels / IDX[3])
    write_manifest(root)  # even when the learner's SHA256SUMS vouches for the swap
    with pytest.raises(DataError, match=r"mnist/train-labels-idx1-ubyte\.gz is mnist's "
                                        r"t10k-labels-idx1-ubyte\.gz .*Copy mnist's own"):
        coursekit.load_data("mnist")


@needs_shared
def test_fashion_files_under_mnist_names_are_refused(tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(SHARED_DATA / "fashion-mnist", root / "mnist")
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    with pytest.raises(DataError, match=r"mnist/train-images-idx3-ubyte\.gz is "
                                        r"fashion-mnist's train-images"):
        coursekit.load_data("mnist")
    # Re-packed (so no publisher's hash matches) and listed in SHA256SUMS: the pixels tell.
    for name in IDX:
        path = root / "mnist" / name
        raw = gzip.decompress(path.read_bytes())
        path.chmod(0o644)
        path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=1))
    write_manifest(root)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz does not hold MNIST's "
                                        r"images: 49% .*Fashion-MNIST's clothes"):
        coursekit.load_data("mnist")


def tiny_idx_folder(tmp_path, monkeypatch, arrays: dict, name="mnist", sizes=(6, 4)) -> Path:
    folder = tmp_path / "data" / DATASETS[name]
    folder.mkdir(parents=True)
    for file, array in arrays.items():
        (folder / file).write_bytes(array if isinstance(array, bytes) else idx_bytes(array))
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(_EXPECTED[name], "train", sizes[0])
    monkeypatch.setattr(_EXPECTED[name], "test", sizes[1])
    return folder


def digits(count, lit=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (count, 28, 28)) * (rng.random((count, 28, 28)) < lit)


GOOD = {IDX[0]: digits(6), IDX[1]: [0, 1, 2, 3, 4, 4], IDX[2]: digits(4), IDX[3]: [5, 6, 7, 7]}


@pytest.mark.parametrize("change, message", [
    ({IDX[1]: [0, 1, 2, 3]}, r"6 train images, each with a label; found 6 images in "
                             r".*train-images.* and 4 labels in .*train-labels"),
    ({IDX[0]: [0, 1, 2, 3, 4, 4], IDX[1]: digits(6)},
     r"train-images-idx3-ubyte\.gz holds an array of shape \(6,\) \(that is labels, not "
     r"images: are the files swapped\?\)"),
    ({IDX[3]: [5, 6, 7, 10]}, r"t10k-labels-idx1-ubyte\.gz holds the label 10; MNIST's "
                              r"labels are 0 to 9"),
    ({IDX[2]: np.zeros((4, 32, 32))}, r"t10k-images-idx3-ubyte\.gz holds an array of shape "
                                      r"\(4, 32, 32\); MNIST's test images are 4 x \(28, 28\)"),
    ({IDX[0]: digits(6, lit=0.6)}, r"train-images-idx3-ubyte\.gz does not hold MNIST's images"),
])
def test_listed_files_that_are_not_the_dataset_are_refused(tmp_path, monkeypatch, change,
                                                          message):
    tiny_idx_folder(tmp_path, monkeypatch, {**GOOD, **change})
    with pytest.raises(DataError, match=message + r".*Copy the MNIST files into .*again"):
        coursekit.load_data("mnist")


def test_balanced_labels_are_fashion_mnists_not_mnists(tmp_path, monkeypatch):
    tiny_idx_folder(tmp_path, monkeypatch, {**GOOD, IDX[0]: digits(10), IDX[1]: range(10)},
                    sizes=(10, 4))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz has exactly as many "
                                        r"labels of each class, as Fashion-MNIST does"):
        coursekit.load_data("mnist")


def test_tiny_good_folder_passes(tmp_path, monkeypatch):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    (x_train, _), _ = coursekit.load_data("mnist")
    assert x_train.shape == (6, 28, 28)


@pytest.mark.parametrize("damage, problem", [
    (lambda raw: raw[:10] + bytes(b ^ 0x5A for b in raw[10:40]) + raw[40:], "not a readable"),
    (lambda raw: raw[: len(raw) // 2], "not a readable gzip"),                 # EOFError
    (lambda raw: b"not gzip at all", "not a readable gzip"),                   # BadGzipFile
    (lambda raw: gzip.compress(b"\x00\x00\x08"), r"bad magic number"),         # cut header
    (lambda raw: gzip.compress(gzip.decompress(raw) + bytes(99)),
     r"header promises shape \(6, 28, 28\) but the data size differs \(it inflates to more\)"),
    (lambda raw: gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10**6, 28, 28)),
     r"promises shape \(1000000, 28, 28\), 784,000,000 bytes, more than any MNIST file"),
])
def test_damaged_idx_archive_names_the_file(tmp_path, monkeypatch, damage, problem):
    folder = tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    path = folder / IDX[0]
    path.write_bytes(damage(path.read_bytes()))
    write_manifest(tmp_path / "data")
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}:? .*{problem}.*Copy"):
        coursekit.load_data("mnist")


# Peak memory from VmHWM: getrusage's maxrss would carry over pytest's own peak
# through fork and exec.
MEASURE = textwrap.dedent("""
    import re, sys
    import coursekit
    try:
        eval(sys.argv[1])
    except coursekit.DataError as error:
        print(error)
    status = open("/proc/self/status").read()
    print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024)
""")


def message_and_peak_mb(call: str) -> tuple[str, int]:
    """What ``call`` says, run in a fresh Python, and the most memory it held (MB)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, call], capture_output=True,
                          text=True, check=True)
    message, peak_mb = done.stdout.strip().rsplit("\n", 1)
    return message, int(peak_mb)


@needs_proc
def test_a_gzip_inflating_far_past_its_header_is_refused_in_little_memory(tmp_path,
                                                                         monkeypatch):
    """The issue measured 2.1 GB for a 1 GiB bomb: it was inflated before its header was read."""
    path = tiny_idx_folder(tmp_path, monkeypatch, GOOD) / IDX[0]
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(gzip.decompress(idx_bytes(digits(6))))  # the header promises 6 images
        for _ in range(256):
            out.write(bytes(1 << 20))                      # then 256 MB more
    write_manifest(tmp_path / "data")
    message, peak_mb = message_and_peak_mb("coursekit.load_data('mnist')")
    assert f"{path}: header promises shape (6, 28, 28)" in message and "inflates" in message
    assert peak_mb < 120, f"peak {peak_mb} MB"


def cifar_bytes(batches=None, n=2) -> bytes:
    """A cifar-10-python archive of random batches of n images; ``batches`` replaces some
    or adds members: their bytes, or a size for that many zero bytes."""
    rng = np.random.default_rng(1)
    members = dict.fromkeys([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, data in {**members, **(batches or {})}.items():
            data = bytes(data) if isinstance(data, int) else data or pickle.dumps({
                b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                b"labels": rng.integers(0, 10, n).tolist()}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cifar_folder(tmp_path, monkeypatch, archive: bytes) -> Path:
    """A data folder holding ``archive`` as CIFAR-10's, listed in its SHA256SUMS."""
    path = tmp_path / "data" / "cifar-10" / "cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(archive)
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return path


def builds(*call) -> bytes:
    """A batch whose pickle is a few bytes that would build ``call``'s array."""
    class Build:
        def __reduce__(self):
            return call
    return pickle.dumps({b"data": Build(), b"labels": [1]}, protocol=2)


def batch(pixels, n=2) -> bytes:
    return pickle.dumps({b"data": np.asarray(pixels, np.uint8).reshape(n, 3072),
                         b"labels": [1] * n}, protocol=2)


@pytest.mark.parametrize("archive, cause", [
    (cifar_bytes()[:300], "EOFError|ReadError|OSError"),
    (b"\x1f\x8b" + bytes(200), "ReadError|OSError|BadGzipFile"),
    (cifar_bytes({"data_batch_3": b"\x80\x02garbage"}), "UnpicklingError|KeyError|EOFError"),
    (cifar_bytes({"test_batch": pickle.dumps({b"data": np.zeros(100, np.uint8),
                                              b"labels": [1]}, protocol=2)}), "ValueError"),
    (cifar_bytes({"test_batch": pickle.dumps({b"labels": [1]}, protocol=2)}), "KeyError"),
    # allow-listed calls that would build 2 GB from a few bytes
    (cifar_bytes({"data_batch_2": builds(np._core.multiarray._reconstruct,
                                         (np.ndarray, (1 << 31,), b"B"))}),
     r"UnpicklingError: refusing to build an array of shape \(2147483648,\)"),
    (cifar_bytes({"data_batch_2": builds(np.ndarray, ((1 << 31,), "u1"))}),
     r"UnpicklingError: refusing to build an array of shape \(2147483648,\)"),
])
def test_damaged_cifar_archive_names_the_archive(tmp_path, monkeypatch, archive, cause):
    path = cifar_folder(tmp_path, monkeypatch, archive)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))} cannot be decoded as the "
                                        rf"CIFAR-10 python archive \(({cause})"):
        coursekit.load_data("cifar10")


SAME = batch(np.random.default_rng(2).integers(0, 256, 2 * 3072))


@pytest.mark.parametrize("batches, problem", [
    ({f"data_batch_{i}": SAME for i in range(1, 6)},
     r"cifar-10-batches-py/data_batch_2 holds the same images as cifar-10-batches-py/"
     r"data_batch_1; CIFAR-10's six batches all differ"),
    ({"data_batch_3": batch(np.full(2 * 3072, 128))},
     r"the pixels of cifar-10-batches-py/data_batch_3 average 128 with a spread of 0"),
    ({"data_batch_4": 33 << 20}, r"is not the CIFAR-10 archive: it holds cifar-10-batches-py/"
                                 r"data_batch_4 \(34,603,008 bytes"),
    ({f"extra_{i}": b"" for i in range(70)}, r"is not the CIFAR-10 archive: .* entry 66\)"),
])
def test_listed_cifar_archive_that_is_not_cifar_is_refused(tmp_path, monkeypatch, batches,
                                                           problem):
    path = cifar_folder(tmp_path, monkeypatch, cifar_bytes(batches))
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}:? {problem}.*Copy the archive"):
        coursekit.load_data("cifar10")


def test_cifar_archive_with_too_few_images_is_refused(tmp_path, monkeypatch):
    cifar_folder(tmp_path, monkeypatch, cifar_bytes(n=2))
    with pytest.raises(DataError, match=r"CIFAR-10 has 50,000 train images, each with a "
                                        r"label; found 10 images in .*cifar-10-python\.tar\.gz"):
        coursekit.load_data("cifar10")


@pytest.mark.parametrize("listed", [f"mnist/{IDX[0]}", "SHA256SUMS"])
def test_data_linking_out_of_its_folder_is_refused_unread(tmp_path, monkeypatch, listed):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    link, outside = tmp_path / "data" / listed, tmp_path / "elsewhere"
    link.rename(outside)
    link.symlink_to(outside)
    hashed = []
    monkeypatch.setattr(coursekit.datasets, "_sha256_of", hashed.append)
    with pytest.raises(DataError, match=rf"{re.escape(str(link))} is a symbolic link to "
                                        r".*elsewhere, outside the data folder .*Copy the file"):
        coursekit.load_data("mnist")
    assert hashed == []


@pytest.mark.parametrize("denied", [f"mnist/{IDX[2]}", "SHA256SUMS", "mnist"])
def test_unreadable_data_is_named_with_the_permission(tmp_path, monkeypatch, denied):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    deny(monkeypatch, tmp_path / "data" / denied)
    with pytest.raises(DataError, match=rf"{re.escape(str(tmp_path / 'data' / denied))}\S* "
                                        r"cannot be read: permission denied.*chmod"):
        coursekit.load_data("mnist")


# ------------------------------------------------------------------ SHA256SUMS as written


@pytest.mark.parametrize("prefix, newline, encoding", [
    ("./", "\n", "utf-8"),          # `sha256sum ./*/*`
    ("", "\r\n", "utf-8"),          # saved on Windows
    ("", "\n", "utf-8-sig"),        # with a byte-order mark
    ("", "\r\n", "utf-16"),         # PowerShell 5: `sha256sum */* > SHA256SUMS`
    ("", "\n", "utf-16-le"),        # UTF-16 without its mark
    (".\\", "\r\n", "utf-8"),       # Windows separators
])
def test_manifest_as_shells_write_it(tmp_path, monkeypatch, prefix, newline, encoding):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    write_manifest(tmp_path / "data", prefix, newline, encoding)
    if prefix == ".\\":
        text = (tmp_path / "data" / "SHA256SUMS").read_text().replace("mnist/", "mnist\\")
        (tmp_path / "data" / "SHA256SUMS").write_text(text)
    (x_train, _), _ = coursekit.load_data("mnist")
    assert len(x_train) == 6


def test_bsd_style_manifest(tmp_path, monkeypatch):
    folder = tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    (tmp_path / "data" / "SHA256SUMS").write_text("".join(
        f"SHA256 (mnist/{name}) = {hashlib.sha256((folder / name).read_bytes()).hexdigest()}\n"
        for name in IDX))
    coursekit.load_data("mnist")


@pytest.mark.parametrize("line, problem", [
    ("d41d8cd98f00b204e9800998ecf8427e  mnist/x.gz", r"32 hex digits.*an MD5"),
    ("a" * 64, r"the hash is followed by no file name"),
    ("mnist/x.gz: OK", r"expected '<sha256>  <folder>/<file>'"),
    ("a" * 63 + "  mnist/x.gz", r"63 hex digits, a SHA-256 has 64"),
    ("a" * 64 + "  mnist/x.gz  copied from the USB stick", r"more than one word follows"),
    ("a" * 64 + "  ../mnist/x.gz", r"the path leaves the data folder"),
    ("a" * 64 + "  /data/mnist/x.gz", r"the path leaves the data folder"),
    ("a" * 64 + f"  mnist/{IDX[0]}", rf"mnist/{IDX[0]} is listed with another hash on line 3"),
])
def test_manifest_line_says_what_is_wrong(tmp_path, monkeypatch, line, problem):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    manifest = tmp_path / "data" / "SHA256SUMS"
    manifest.write_text(manifest.read_text() + line + "\n")
    with pytest.raises(DataError, match=rf"SHA256SUMS, line 5: .*{problem}.*Regenerate it"):
        coursekit.load_data("mnist")


def test_manifest_in_an_unknown_encoding(tmp_path, monkeypatch):
    tiny_idx_folder(tmp_path, monkeypatch, GOOD)
    (tmp_path / "data" / "SHA256SUMS").write_bytes(b"\xff\xfe\x00\xd8" + b"\xa0" * 9)
    with pytest.raises(DataError, match=r"SHA256SUMS is not text in UTF-8 or UTF-16"):
        coursekit.load_data("mnist")


# ------------------------------------------------------------------ the image folder


def png_bytes(size=(24, 24), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_broken_crc(png: bytes, kind: bytes) -> bytes:
    at = png.index(kind)
    end = at + 4 + struct.unpack(">I", png[at - 4:at])[0]
    return png[:end] + bytes([png[end] ^ 0xFF]) + png[end + 1:]


def png_header_only(width, height) -> bytes:
    """A PNG that claims a size: all a header check may look at."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.fixture
def shapes(tmp_path):
    root = tmp_path / "drawings"
    for split in ("train", "test"):
        for name in ("circle", "square"):
            (root / split / name).mkdir(parents=True)
            (root / split / name / "1.png").write_bytes(png_bytes())
    return root


def test_png_with_a_broken_pixel_chunk_checksum_is_named(shapes):
    bad = shapes / "train" / "circle" / "2.png"
    bad.write_bytes(with_broken_crc(png_bytes(), b"IDAT"))
    with pytest.raises(DataError, match=rf"{bad} is a damaged image: TensorFlow, which Keras "
                                        r"uses to read images, cannot decode it \(Invalid PNG"):
        coursekit.check_image_folder(shapes)


def test_png_with_a_broken_text_chunk_checksum_is_named(shapes):
    png = png_bytes()
    at = png.index(b"IDAT") - 4
    bad = shapes / "test" / "square" / "2.png"
    bad.write_bytes(with_broken_crc(png[:at] + chunk(b"tEXt", b"Title\x00x") + png[at:], b"tEXt"))
    with pytest.raises(DataError, match=rf"{bad} is a damaged image: .*checksum"):
        coursekit.check_image_folder(shapes)


@pytest.mark.parametrize("hidden, fix", [
    ("._circle_01.png", r"macOS metadata file .*find .* -name '\._\*' -delete"),
    (".ipynb_checkpoints/1-checkpoint.png", r"Jupyter keeps .*Delete the folder"),
    (".secret.PNG", r"is a hidden file.*Delete it"),
])
def test_hidden_image_files_keras_would_count_are_refused(shapes, hidden, fix):
    path = shapes / "train" / "circle" / hidden
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\x00\x05\x16\x07" + bytes(60))  # what an AppleDouble file holds
    with pytest.raises(DataError, match=rf"{re.escape(path.name)} (?=.*{fix})(?=.*Keras reads "
                                        r"every file ending in an image extension.*'circle')"):
        coursekit.check_image_folder(shapes)


def test_keras_counts_hidden_image_files_and_skips_others(shapes):
    """Why the check refuses ._x.png: Keras 3 lists it as a drawing; .DS_Store it skips."""
    import keras

    (shapes / "train" / "circle" / "._1.png").write_bytes(b"\x00\x05\x16\x07")
    (shapes / "train" / "circle" / ".DS_Store").write_bytes(b"\x00")
    found = keras.utils.image_dataset_from_directory(shapes / "train", image_size=(24, 24))
    assert sorted(Path(p).name for p in found.file_paths) == ["._1.png", "1.png", "1.png"]
    (shapes / "train" / "circle" / "._1.png").unlink()
    assert sum(coursekit.check_image_folder(shapes).counts["train"].values()) == 2


@pytest.mark.parametrize("size, message", [
    ((8000, 8000), r"is 8000x8000 pixels\. Keras would decode every pixel"),
    ((14000, 14000), r"is far too large an image \(Image size \(196000000 pixels\)"),
])
def test_huge_image_is_refused_by_name_from_its_header(shapes, size, message):
    big = shapes / "train" / "square" / "scan.png"
    big.write_bytes(png_header_only(*size))
    with pytest.raises(DataError, match=rf"{big} {message}.*at most 5000x5000"):
        coursekit.check_image_folder(shapes)


def big_png(path):
    image = Image.new("RGBA", (8000, 8000), (255, 255, 255, 255))
    image.paste((0, 0, 0, 0), (0, 0, 4000, 4000))  # transparent: the costly path before
    image.save(path, compress_level=1)


def many_frames(path, frames=40, side=2500):
    """A 200 kB GIF of 40 frames that TensorFlow decodes in full (860 MB) to keep one."""
    buffer = io.BytesIO()
    Image.new("P", (side, side), 0).save(buffer, "GIF")
    data = buffer.getvalue()
    start = 13 + (3 << (data[10] & 7) + 1 if data[10] & 0x80 else 0)  # after the palette
    path.write_bytes(data[:start] + data[start:-1] * frames + b";")


@needs_proc
@pytest.mark.parametrize("name, make, message", [
    ("0_big.png", big_png, "0_big.png is 8000x8000 pixels"),
    ("0_moving.gif", many_frames, "0_moving.gif is an animated GIF (more than one frame)"),
])
def test_checking_a_costly_image_takes_little_memory(shapes, name, make, message):
    """The issue measured 6 GB for the PNG, 2.9 GB for an animated GIF; now the header
    alone refuses them."""
    make(shapes / "train" / "circle" / name)
    said, peak_mb = message_and_peak_mb(f"coursekit.check_image_folder({str(shapes)!r})")
    assert message in said
    assert peak_mb < 300, f"peak {peak_mb} MB"


def saved(image, fmt, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def drawing() -> Image.Image:
    """A black stroke on white, as a palette image (colour 0 white, 1 black)."""
    image = Image.new("P", (24, 24), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    image.paste(1, (6, 11, 18, 13))
    return image


@pytest.mark.parametrize("name, data, problem", [
    ("see-through.gif", saved(drawing(), "GIF", transparency=0),  # TensorFlow: all black
     r"has transparent pixels, which TensorFlow .* read differently\. Flatten it onto a "
     r"white background"),
    ("deep.png", saved(Image.fromarray(np.full((24, 24), 40_000, np.uint16)), "PNG"),
     r"is a 16-bit PNG, which TensorFlow .* read differently .*Save it as an 8-bit PNG"),
    ("palette.bmp", saved(drawing(), "BMP"),  # TensorFlow ignores a BMP's palette
     r"is a BMP image \(mode P\) that TensorFlow .* decode to different pixels"),
    ("moving.gif", saved(drawing(), "GIF", save_all=True, append_images=[drawing().rotate(90)]),
     r"is an animated GIF \(more than one frame\).*Save the one drawing as a still PNG"),
])
def test_images_keras_and_load_img_would_see_apart_are_refused(shapes, name, data, problem):
    path = shapes / "train" / "square" / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))} {problem}"):
        coursekit.check_image_folder(shapes)


@pytest.mark.parametrize("name", ["circle", "square"])  # the first class crashed lesson 08
def test_a_class_nested_in_a_subfolder_is_refused_with_the_layout(shapes, name):
    nested = shapes / "train" / name / "batch1" / "1.png"
    nested.parent.mkdir()
    (shapes / "train" / name / "1.png").rename(nested)
    with pytest.raises(DataError, match=rf"{re.escape(str(nested))} sits in a subfolder of the "
                                        rf"class folder .*{name}: .*Expected one folder per "
                                        r"class directly under train/ and test/"):
        coursekit.check_image_folder(shapes)


@pytest.mark.parametrize("target", ["..", ".", "loop"])
def test_a_link_looping_back_in_a_split_is_not_a_class(shapes, target):
    link = shapes / "train" / "loop"
    link.symlink_to(target)
    with pytest.raises(DataError, match=rf"{re.escape(str(link))} is a symbolic link that "
                                        r"loops back .*Remove the link"):
        coursekit.check_image_folder(shapes)


@pytest.mark.parametrize("denied", ["train/circle", "test/square/1.png"])
def test_unreadable_image_folder_or_file_is_named_not_called_empty(shapes, monkeypatch,
                                                                  denied):
    deny(monkeypatch, shapes / denied)
    with pytest.raises(DataError, match=rf"{re.escape(str(shapes / denied))} cannot be read: "
                                        r"permission denied.*chmod"):
        coursekit.check_image_folder(shapes)
