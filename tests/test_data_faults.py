"""Fault injection, data side: each fault a careful user can meet in the data or an image
folder stops with the file named and the fix, and no tracked file changes (issues 14, 30).
Faults are made in tiny look-alikes, and in copies of ../shared/datasets when it is there."""

import gzip
import hashlib
import io
import pickle
import re
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import coursekit
from coursekit import DataError
from coursekit.datasets import _EXPECTED
from coursekit.paths import COURSE_ROOT as REPO
from helpers import deny, idx_bytes, write_manifest

SHARED_DATA = REPO.parent / "shared" / "datasets"
IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def guarded_files() -> dict[str, str]:
    """Hash of each tracked file a fault could touch; any other file in figures/, my-outputs/."""
    tracked = subprocess.run(["git", "ls-files", "figures", "data", "README.md"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    return {**{path.relative_to(REPO).as_posix(): "untracked" for folder in ("figures",
               "my-outputs") for path in (REPO / folder).rglob("*")},
            **{name: hashlib.sha256((REPO / name).read_bytes()).hexdigest()
               for name in tracked if (REPO / name).is_file()}}


@pytest.fixture(autouse=True)
def nothing_tracked_changes():
    before = guarded_files()
    yield
    assert guarded_files() == before, "a fault changed a tracked file or left one in figures/"


# ------------------------------------------------------------------ the datasets


def digits(count, lit=0.2):
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, (count, 28, 28)) * (rng.random((count, 28, 28)) < lit)


LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]  # never as many of each class: MNIST's, not Fashion's


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> Path:
    """The mnist/ folder of a data folder whose SHA256SUMS lists a 10 + 4 image look-alike."""
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name, array in zip(IDX, (digits(10), LABELS, digits(4), [5, 6, 7, 7])):
        (folder / name).write_bytes(idx_bytes(array))
    write_manifest(folder.parent)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder.parent))
    monkeypatch.setattr(_EXPECTED["mnist"], "train", 10)
    monkeypatch.setattr(_EXPECTED["mnist"], "test", 4)
    return folder


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="needs ../shared/datasets")
@pytest.mark.parametrize("source, change, problem", [
    ("mnist", lambda mnist: [(mnist / a).rename(mnist / b) for a, b in (  # even when listed
        (IDX[1], "swap"), (IDX[3], IDX[1]), ("swap", IDX[3]))],
     rf"mnist/{IDX[1]} is mnist's {IDX[3]} .*Copy mnist's own"),
    ("fashion-mnist", lambda mnist: None, rf"mnist/{IDX[0]} is fashion-mnist's {IDX[0]}"),
    # re-packed, so no publisher's hash matches, and listed in SHA256SUMS: the pixels tell
    ("fashion-mnist", lambda mnist: [(mnist / name).write_bytes(gzip.compress(gzip.decompress(
        (mnist / name).read_bytes()), 1, mtime=1)) for name in IDX],
     rf"{IDX[0]} does not hold MNIST's images: 49% .*Fashion-MNIST's clothes"),
])
def test_real_files_of_another_name_or_dataset_are_refused(tmp_path, monkeypatch, source,
                                                          change, problem):
    mnist = tmp_path / "data" / "mnist"
    mnist.mkdir(parents=True)
    for path in (SHARED_DATA / source).iterdir():
        (mnist / path.name).write_bytes(path.read_bytes())
    change(mnist)
    write_manifest(mnist.parent)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mnist.parent))
    with pytest.raises(DataError, match=problem):
        coursekit.load_data("mnist")


@pytest.mark.parametrize("file, content, problem", [
    # listed in SHA256SUMS, yet not MNIST
    (1, [0, 1, 2, 3], r"shape \(4,\); MNIST's train labels have shape \(10,\) \(is it from the "
                      r"other split"),
    (0, LABELS, r"shape \(10,\); MNIST's train images .*\(are the images and labels files swapped"),
    (3, np.zeros((4, 2)), r"shape \(4, 2\); MNIST's test labels have shape \(4,\) \(are the"),
    (2, np.zeros((4, 32, 32)), r"shape \(4, 32, 32\); MNIST's test images have shape \(4, 28, 28\)"),
    (3, [5, 6, 7, 10], r"holds the label 10; MNIST's labels are 0 to 9"),
    (0, digits(10, lit=0.6), r"does not hold MNIST's images"),
    (1, range(10), r"has exactly as many labels of each class, as Fashion-MNIST does"),
    # damaged after SHA256SUMS was written again
    (0, lambda raw: raw[:10] + bytes(b ^ 0x5A for b in raw[10:40]) + raw[40:], "not a readable"),
    (0, lambda raw: raw[: len(raw) // 2], "not a readable gzip"),                 # EOFError
    (0, lambda raw: b"not gzip at all", "not a readable gzip"),                   # BadGzipFile
    (0, lambda raw: gzip.compress(b"\x00\x00\x08"), r"bad magic number"),
    (0, lambda raw: gzip.compress(bytes([0, 0, 8, 3, 0, 0])), r"the IDX header is cut short"),
    (0, lambda raw: gzip.compress(gzip.decompress(raw) + bytes(99)),
     r"header promises shape \(10, 28, 28\) but the data size differs \(it inflates to more\)"),
    (0, lambda raw: gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10**6, 28, 28)),
     r"promises shape \(1000000, 28, 28\), 784,000,000 bytes, more than any MNIST file"),
])
def test_a_listed_idx_file_that_is_not_mnist_is_named(tiny, file, content, problem):
    path = tiny / IDX[file]
    path.write_bytes(content(path.read_bytes()) if callable(content) else idx_bytes(content))
    write_manifest(tiny.parent)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}:? .*{problem}.*Copy"):
        coursekit.load_data("mnist")


def cifar_bytes(batches={}, n=2) -> bytes:
    """A cifar-10-python archive of random batches of n images; ``batches`` replaces or adds
    members (bytes, or a size for that many zero bytes), or leaves one out (None)."""
    rng, buffer = np.random.default_rng(1), io.BytesIO()
    members = {name: pickle.dumps({b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                                   b"labels": rng.integers(0, 10, n).tolist()}, protocol=2)
               for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]}
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, data in {**members, **batches}.items():
            if data is not None:
                data = bytes(data) if isinstance(data, int) else data
                info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def batch(data, labels=(1, 1)) -> bytes:
    """A batch's pickle: ``data`` is its images, or a call that would build them."""
    if isinstance(data, tuple):  # a few bytes that would build ``data``'s array
        data = type("Build", (), {"__reduce__": lambda self, call=data: call})()
    return pickle.dumps({b"data": data, b"labels": list(labels)}, protocol=2)


SAME, UNDECODABLE = batch(np.random.default_rng(2).integers(0, 256, (2, 3072), np.uint8)), (
    r"cannot be decoded as the CIFAR-10 python archive \(")


@pytest.mark.parametrize("archive, problem", [
    (None, r"is missing\."),
    (cifar_bytes()[:300], UNDECODABLE + "(EOFError|ReadError|OSError)"),
    (b"\x1f\x8b" + bytes(200), UNDECODABLE + "(ReadError|OSError|BadGzipFile)"),
    (cifar_bytes({"data_batch_3": b"\x80\x02garbage"}), UNDECODABLE + "(Unpickling|Key|EOF)Error"),
    (cifar_bytes({"test_batch": batch(np.zeros(100, np.uint8), [1])}), UNDECODABLE + "ValueError"),
    (cifar_bytes({"test_batch": pickle.dumps({b"labels": [1]})}), UNDECODABLE + "KeyError"),
    # allow-listed calls that would build 2 GB from a few bytes
    *[(cifar_bytes({"data_batch_2": batch(call, [1])}), UNDECODABLE + r"UnpicklingError: refusing "
       r"to build an array of shape \(2147483648,\)") for call in (
        (np._core.multiarray._reconstruct, (np.ndarray, (1 << 31,), b"B")),
        (np.ndarray, ((1 << 31,), "u1")))],
    # listed in SHA256SUMS, yet not CIFAR-10
    (cifar_bytes({f"data_batch_{i}": SAME for i in range(1, 6)}), r"cifar-10-batches-py/"
     r"data_batch_2 holds the same images as cifar-10-batches-py/data_batch_1; CIFAR-10's six"),
    (cifar_bytes({"data_batch_3": batch(np.full((2, 3072), 128, np.uint8))}),
     r"the pixels of cifar-10-batches-py/data_batch_3 average 128 with a spread of 0"),
    (cifar_bytes({"data_batch_4": 33 << 20}),
     r"is not the CIFAR-10 archive: it holds cifar-10-batches-py/data_batch_4 \(34,603,008 bytes"),
    (cifar_bytes({f"extra_{i}": b"" for i in range(70)}), r"is not the CIFAR-10 archive: .* 66\)"),
    (cifar_bytes({"test_batch": None}), r"has no cifar-10-batches-py/test_batch"),
    (cifar_bytes(), r"shape \(10, 32, 32, 3\); CIFAR-10's train images have shape \(50000, 32"),
])
def test_a_listed_cifar_archive_that_is_not_cifar_is_named(tmp_path, monkeypatch, archive,
                                                           problem):
    path = tmp_path / "data" / "cifar-10" / "cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    if archive is not None:
        path.write_bytes(archive)
    write_manifest(tmp_path / "data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}:? .*{problem}.*[Cc]opy"):
        coursekit.load_data("cifar10")


@pytest.mark.parametrize("listed, loops", [(f"mnist/{IDX[0]}", False), ("SHA256SUMS", False),
                                           (f"mnist/{IDX[0]}", True)])
def test_data_linking_out_of_its_folder_is_refused_unread(tiny, monkeypatch, listed, loops):
    link, outside = tiny.parent / listed, tiny.parent.parent / "elsewhere"
    link.rename(outside)
    link.symlink_to(link if loops else outside)
    hashed = []
    monkeypatch.setattr(coursekit.datasets, "_sha256_of", hashed.append)
    with pytest.raises(DataError, match=rf"{re.escape(str(link))} is a symbolic link (to .*"
                                        r"elsewhere|that loops), outside the data folder .*Copy"):
        coursekit.load_data("mnist")
    assert hashed == []


@pytest.mark.parametrize("denied", [f"data/mnist/{IDX[2]}", "data/SHA256SUMS", "data/mnist",
                                    "drawings/train/circle", "drawings/test/square/1.png"])
def test_an_unreadable_file_or_folder_is_named_with_the_fix(tiny, shapes, monkeypatch, denied):
    deny(monkeypatch, shapes.parent / denied)
    with pytest.raises(DataError, match=rf"{re.escape(str(shapes.parent / denied))}\S* cannot "
                                        r"be read: permission denied.*chmod"):
        coursekit.check_image_folder(shapes) if "drawings" in denied else coursekit.load_data("mnist")


@pytest.mark.parametrize("encoding, line", [
    ("utf-8", r"\1  \2/\3"),            # as `sha256sum */*` writes it
    ("utf-8", r"\1  ./\2/\3"),          # `sha256sum ./*/*`
    ("utf-8", r"\1 *\2/\3\r"),          # binary mode, saved on Windows
    ("utf-8-sig", r"\1  \2/\3"),        # with a byte-order mark
    ("utf-16", r"\1  \2/\3\r"),         # PowerShell 5: `sha256sum */* > SHA256SUMS`
    ("utf-16-le", r"\1  \2/\3"),        # UTF-16 without its mark
    ("utf-8", r"\1  .\\\2\\\3\r"),      # Windows separators
    ("utf-8", r"SHA256 (\2/\3) = \1"),  # BSD
])
def test_manifest_as_shells_write_it(tiny, encoding, line):
    manifest = tiny.parent / "SHA256SUMS"
    manifest.write_bytes(re.sub(r"(\w+)  (\w+)/(\S+)", line, manifest.read_text()).encode(encoding))
    assert len(coursekit.load_data("mnist")[0][0]) == 10


@pytest.mark.parametrize("line, problem", [
    ("d41d8cd98f00b204e9800998ecf8427e  mnist/x.gz", r", line 5: .*32 hex digits.*an MD5"),
    ("a" * 40 + "  mnist/x.gz", r", line 5: .*40 hex digits.*a SHA-1"),
    ("a" * 64, r", line 5: .*the hash is followed by no file name"),
    ("mnist/x.gz: OK", r", line 5: .*expected '<sha256>  <folder>/<file>'"),
    ("a" * 63 + "  mnist/x.gz", r", line 5: .*63 hex digits, a SHA-256 has 64"),
    ("a" * 64 + "  mnist/x.gz  copied from the USB stick", r", line 5: .*more than one word"),
    ("a" * 64 + "  ../mnist/x.gz", r", line 5: .*the path leaves the data folder"),
    ("a" * 64 + "  /data/mnist/x.gz", r", line 5: .*the path leaves the data folder"),
    ("a" * 64 + f"  mnist/{IDX[0]}", rf", line 5: .*mnist/{IDX[0]} is listed with another hash "
                                     r"on line 3"),
    (b"\xff\xfe\x00\xd8" + b"\xa0" * 9, r" is not text in UTF-8 or UTF-16"),
])
def test_a_manifest_line_says_what_is_wrong(tiny, line, problem):
    manifest = tiny.parent / "SHA256SUMS"
    text = line if isinstance(line, bytes) else (manifest.read_text() + line + "\n").encode()
    manifest.write_bytes(text)
    with pytest.raises(DataError, match=rf"SHA256SUMS{problem}.*Regenerate it"):
        coursekit.load_data("mnist")


# ------------------------------------------------------------------ the image folder


def saved(image, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_broken_crc(png: bytes, kind: bytes) -> bytes:
    at = png.index(kind)
    end = at + 4 + struct.unpack(">I", png[at - 4:at])[0]
    return png[:end] + bytes([png[end] ^ 0xFF]) + png[end + 1:]


def png_header_only(width, height) -> bytes:
    """A PNG that claims a size: all a header check may look at."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6,
            0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def drawing() -> Image.Image:
    """A black stroke on white, as a palette image (colour 0 white, 1 black)."""
    image = Image.new("P", (24, 24), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    image.paste(1, (6, 11, 18, 13))
    return image


WHITE = saved(Image.new("RGB", (24, 24), "white"))
TEXT = WHITE.index(b"IDAT") - 4  # where a text chunk goes, before the pixels
COUNTED = r"Keras reads every file ending in an image extension, hidden or not, as .*'circle'\. "
OTHERWISE = r"which TensorFlow .* read differently"


@pytest.fixture
def shapes(tmp_path) -> Path:
    """A good little image folder: one white PNG per class and split."""
    for split in ("train", "test"):
        for name in ("circle", "square"):
            (tmp_path / "drawings" / split / name).mkdir(parents=True)
            (tmp_path / "drawings" / split / name / "1.png").write_bytes(WHITE)
    return tmp_path / "drawings"


@pytest.mark.parametrize("name, data, problem", [
    ("circle/2.png", with_broken_crc(WHITE, b"IDAT"),
     r"is a damaged image: TensorFlow, which Keras uses to read images, cannot decode it \(Invalid"),
    ("square/2.png", with_broken_crc(WHITE[:TEXT] + chunk(b"tEXt", b"Title\x00x") + WHITE[TEXT:],
                                     b"tEXt"), r"is a damaged image: .*checksum"),
    ("circle/._circle_01.png", b"\x00\x05\x16\x07" + bytes(60),  # an AppleDouble file's start
     rf"is a macOS metadata file .*{COUNTED}Delete every such file: `find .* -name '\._\*' -delete"),
    ("circle/.ipynb_checkpoints/1-checkpoint.png", WHITE, rf"is a copy Jupyter keeps .*{COUNTED}"
                                                          r"Delete the folder"),
    ("circle/.secret.PNG", WHITE, rf"is a hidden file.*{COUNTED}Delete it"),
    ("square/scan.png", png_header_only(8000, 8000),
     r"is 8000x8000 pixels\. Keras would decode every pixel.*at most 5000x5000"),
    ("square/scan.png", png_header_only(14000, 14000),
     r"is far too large an image \(Image size \(196000000 pixels\).*at most 5000x5000"),
    ("square/see-through.gif", saved(drawing(), "GIF", transparency=0),  # TensorFlow: all black
     rf"has transparent pixels, {OTHERWISE}\. Flatten it onto a white background"),
    ("square/deep.png", saved(Image.fromarray(np.full((24, 24), 40_000, np.uint16))),
     rf"is a 16-bit PNG, {OTHERWISE} .*Save it as an 8-bit PNG"),
    ("square/palette.bmp", saved(drawing(), "BMP"),  # TensorFlow ignores a BMP's palette
     r"is a BMP image \(mode P\) that TensorFlow .* decode to different pixels"),
    ("square/moving.gif", saved(drawing(), "GIF", save_all=True, append_images=[drawing().rotate(90)]),
     r"is an animated GIF \(more than one frame\).*Save the one drawing as a still PNG"),
    # a layout Keras reads otherwise than lesson 08 (the first class crashed it)
    *[(f"{name}/batch1/1.png", WHITE, rf"sits in a subfolder of the class folder .*{name}: .*"
       r"Expected one folder per class directly under train/ and test/")
      for name in ("circle", "square")],
    *[("loop", target, r"is a symbolic link that loops back .*Remove the link")
      for target in ("..", ".", "loop")],
])
def test_a_faulty_image_or_layout_is_named_with_the_fix(shapes, name, data, problem):
    path = shapes / "train" / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(data, str):
        path.symlink_to(data)
    else:
        path.write_bytes(data)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))} {problem}"):
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


def gzip_bomb(tmp_path):
    with gzip.open(tmp_path / "data" / "mnist" / IDX[0], "wb", compresslevel=1) as out:
        out.write(gzip.decompress(idx_bytes(digits(10))))  # the header promises 10 images
        for _ in range(256):
            out.write(bytes(1 << 20))                       # then 256 MB more
    write_manifest(tmp_path / "data")


def big_png(tmp_path):
    image = Image.new("RGBA", (8000, 8000), (255, 255, 255, 255))
    image.paste((0, 0, 0, 0), (0, 0, 4000, 4000))  # transparent: the costly path before
    image.save(tmp_path / "drawings" / "train" / "circle" / "0_big.png", compress_level=1)


def many_frames(tmp_path, frames=40, side=2500):
    """A 200 kB GIF of 40 frames that TensorFlow decodes in full (860 MB) to keep one."""
    data = saved(Image.new("P", (side, side), 0), "GIF")
    start = 13 + (3 << (data[10] & 7) + 1 if data[10] & 0x80 else 0)  # after the palette
    (tmp_path / "drawings" / "train" / "circle" / "0_moving.gif").write_bytes(
        data[:start] + data[start:-1] * frames + b";")


# Peak memory from VmHWM: getrusage's maxrss would carry over pytest's own peak through exec.
MEASURE = """import re, sys, coursekit
try:
    eval(sys.argv[1])
except coursekit.DataError as error:
    print(error)
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) // 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("make, call, message, most_mb", [  # the issue measured 2.1, 6, 2.9 GB
    (gzip_bomb, "load_data('mnist')", f"{IDX[0]}: header promises shape (10, 28, 28) but the "
                                      f"data size differs (it inflates to more)", 120),
    (big_png, "check_image_folder({shapes!r})", "0_big.png is 8000x8000 pixels", 300),
    (many_frames, "check_image_folder({shapes!r})",
     "0_moving.gif is an animated GIF (more than one frame)", 300),
])
def test_a_costly_file_is_refused_in_little_memory(tiny, shapes, make, call, message, most_mb):
    make(shapes.parent)
    done = subprocess.run([sys.executable, "-c", MEASURE, "coursekit." + call.format(
        shapes=str(shapes))], capture_output=True, text=True, check=True)
    said, peak_mb = done.stdout.strip().rsplit("\n", 1)
    assert message in said and int(peak_mb) < most_mb, f"peak {peak_mb} MB: {said}"
