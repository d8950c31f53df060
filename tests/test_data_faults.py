"""Each fault a careful user can meet in the data or an image folder stops naming the file and the
fix, and writes nothing (issues 14, 30): in tiny look-alikes, and copies of ../shared/datasets."""

import gzip, io, os, pickle, re, struct, subprocess, sys, tarfile, zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import coursekit
from coursekit import DataError, datasets
from coursekit.paths import COURSE_ROOT as REPO
from helpers import deny, file_stats, idx_bytes, write_manifest

SHARED_DATA = REPO.parent / "shared" / "datasets"
IDX = datasets._IDX_FILES  # train images, train labels, test images, test labels
X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = (f"mnist/{name}" for name in IDX)
LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]  # never as many of each class: MNIST's, not Fashion's


@pytest.fixture(autouse=True)
def nothing_in_the_course_changes():
    """No fault writes a file in figures/, data/ or my-outputs/."""
    folders = [REPO / name for name in ("figures", "data", "my-outputs")]
    before = list(map(file_stats, folders))
    yield
    assert list(map(file_stats, folders)) == before, "a fault wrote into the course's folders"


def digits(count, lit=0.2):
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, (count, 28, 28)) * (rng.random((count, 28, 28)) < lit)


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> Path:
    """A data folder whose SHA256SUMS lists a 10 + 4 image MNIST look-alike, which is also served
    as Fashion-MNIST's publisher; MNIST and CIFAR-10 are expected at 10 + 4 and 10 + 2 images."""
    data = tmp_path / "data"
    for folder in ("mnist", "cifar-10"):
        (data / folder).mkdir(parents=True)
    for name, array in zip(IDX, (digits(10), LABELS, digits(4), [5, 6, 7, 7])):
        (data / "mnist" / name).write_bytes(idx_bytes(array))
    write_manifest(data)
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setattr(datasets, "_COUNTS", {"mnist": (10, 4), "cifar10": (10, 2)})
    monkeypatch.setattr(datasets, "_MNIST_BASE_URL", (data / "mnist").as_uri() + "/")
    monkeypatch.setattr(datasets, "_OFFICIAL_SHA256", datasets._OFFICIAL_SHA256 | {
        f"fashion-{name}": digest for name, digest in datasets._read_manifest(data).items()})
    return data


def cifar_bytes(batches={}, n=2) -> bytes:
    """A cifar-10-python archive of n random images a batch; ``batches`` replaces, adds or drops."""
    rng, buffer = np.random.default_rng(1), io.BytesIO()
    members = {name: batch(rng.integers(0, 256, (n, 3072), np.uint8), rng.integers(0, 10, n))
               for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]}
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, data in {**members, **batches}.items():
            if data is not None:
                info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def batch(data, labels=(1, 1)) -> bytes:
    """A batch's pickle: ``data`` is its images, or a call that would build them."""
    if isinstance(data, tuple):
        data = type("Build", (), {"__reduce__": lambda self, call=data: call})()
    return pickle.dumps({b"data": data, b"labels": [int(n) for n in labels]}, protocol=2)


SHARED = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="needs ../shared/datasets")
SAME = batch(np.random.default_rng(2).integers(0, 256, (2, 3072), np.uint8))
UNDECODABLE = r"is not the CIFAR-10 python archive, or is damaged \("
CIFAR, FASHION = "cifar-10/cifar-10-python.tar.gz", f"fashion-mnist/{IDX[0]}"


@pytest.mark.parametrize("file, content, problem", [
    # listed in SHA256SUMS, yet not MNIST
    (Y_TRAIN, idx_bytes([0, 1, 2, 3]), r"shape \(4,\); MNIST's train labels have shape \(10,\)"),
    (X_TRAIN, idx_bytes(LABELS), r"shape \(10,\); MNIST's train images .*\(are the images and"),
    (X_TEST, idx_bytes(np.zeros((4, 32, 32))), r"shape \(4, 32, 32\); MNIST's test images have"),
    (Y_TEST, idx_bytes([5, 6, 7, 10]), r"holds the label 10; MNIST's labels are 0 to 9"),
    (X_TRAIN, idx_bytes(digits(10, lit=0.6)), r"not hold MNIST's images: 6\d% .* Fashion-MNIST's"),
    (Y_TRAIN, idx_bytes(range(10)), r"has exactly as many labels of each class, as Fashion-MNIST"),
    pytest.param(X_TRAIN, lambda raw: (SHARED_DATA / FASHION).read_bytes(),
                 rf"is fashion-mnist/{IDX[0]} \(its SHA-256 is the publisher's", marks=SHARED),
    # missing, or damaged after SHA256SUMS was written again
    (Y_TEST, None, r"is missing\."),
    (X_TRAIN, lambda raw: raw[:10] + bytes(b ^ 0x5A for b in raw[10:40]) + raw[40:], "readable"),
    (X_TRAIN, lambda raw: raw[: len(raw) // 2], "not a readable gzip"),              # EOFError
    (X_TRAIN, b"not gzip at all", "not a readable gzip"),                            # BadGzipFile
    (X_TRAIN, gzip.compress(b"\x00\x00\x08"), r"not an IDX file .*header is wrong"),
    (X_TRAIN, gzip.compress(bytes([0, 0, 8, 3, 0, 0])), r"header is wrong or cut short"),
    (Y_TRAIN, gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 50, 9])), r"shape \(50,\) but .*differs\."),
    (X_TRAIN, gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10**6, 28, 28)),
     r"promises shape \(1000000, 28, 28\), 784,000,000 bytes, more than any MNIST file"),
    # a line added to SHA256SUMS, as no shell writes it
    ("SHA256SUMS", "d41d8cd98f00b204e9800998ecf8427e  mnist/x", r"32 hex .* has 64 \(an MD5"),
    ("SHA256SUMS", "a" * 40 + "  mnist/x", r"line 5: .*40 hex digits.*a SHA-1"),
    ("SHA256SUMS", "a" * 64, r"line 5: .*the hash is followed by no file name"),
    ("SHA256SUMS", "mnist/x.gz: OK", r"line 5: .*expected '<sha256>  <folder>/<file>'"),
    ("SHA256SUMS", "a" * 64 + "  mnist/x copied from the USB stick", r"more than one word"),
    ("SHA256SUMS", "a" * 64 + "  ../mnist/x", r"line 5: .*the path leaves the data folder"),
    ("SHA256SUMS", "a" * 64 + "  /data/mnist/x", r"line 5: .*the path leaves the data"),
    ("SHA256SUMS", "a" * 64 + f"  {X_TRAIN}", rf"{X_TRAIN} is listed .*hash on line 3"),
    ("SHA256SUMS", b"\xff\xfe\x00\xd8" + b"\xa0" * 9, r"is not text in UTF-8 or UTF-16"),
    # a CIFAR-10 archive missing, damaged, or listed in SHA256SUMS yet not CIFAR-10
    (CIFAR, None, r"is missing\."),
    (CIFAR, cifar_bytes()[:300], UNDECODABLE + "(EOFError|ReadError|OSError)"),
    (CIFAR, b"\x1f\x8b" + bytes(200), UNDECODABLE + "(ReadError|OSError|BadGzipFile)"),
    (CIFAR, cifar_bytes({"test_batch": batch(np.zeros(9, np.uint8), [1])}), r"holds \(9,\) for 1"),
    (CIFAR, cifar_bytes({"test_batch": pickle.dumps({b"labels": [1]})}), UNDECODABLE + "KeyError"),
    (CIFAR, cifar_bytes({"data_batch_1": batch((os.system, ("true",)))}),  # runs a command
     UNDECODABLE + rf"UnpicklingError: refusing to load {os.system.__module__}\.system"),
    *[(CIFAR, cifar_bytes({"data_batch_2": batch(call, [1])}), UNDECODABLE + r"UnpicklingError: "
       r"refusing to build an array of shape \(2147483648,\)") for call in (  # 2 GB from bytes
        (np._core.multiarray._reconstruct, (np.ndarray, (1 << 31,), b"B")),
        (np.ndarray, ((1 << 31,), "u1")))],
    (CIFAR, cifar_bytes({"data_batch_1": SAME, "data_batch_2": SAME}), "_2 holds the same"),
    (CIFAR, cifar_bytes({"data_batch_3": batch(np.full((2, 3072), 128, np.uint8))}),
     r"the pixels of cifar-10-batches-py/data_batch_3 average 128 with a spread of 0"),
    (CIFAR, cifar_bytes({"data_batch_4": bytes(33 << 20)}), r"data_batch_4 \(34,603,008 bytes"),
    (CIFAR, cifar_bytes({f"extra_{i}": b"" for i in range(70)}), r"not the CIFAR-10 .*entry 66\)"),
    (CIFAR, cifar_bytes({"test_batch": None}), r"has no cifar-10-batches-py/test_batch"),
    (CIFAR, cifar_bytes(n=3), r"shape \(15, 32, 32, 3\); CIFAR-10's train images have shape \(10,"),
])
def test_a_listed_file_that_is_not_the_dataset_is_named(tiny, file, content, problem):
    path = tiny / file
    if isinstance(content, str):  # a line added to SHA256SUMS
        content = path.read_bytes() + content.encode() + b"\n"
    if content is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(content(path.read_bytes()) if callable(content) else content)
    if file != "SHA256SUMS":
        write_manifest(tiny)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}[:,]? .*{problem}.*([Cc]opy|Reg)"):
        coursekit.load_data("cifar10" if file == CIFAR else "mnist")


@pytest.mark.parametrize("encoding, line", [
    ("utf-8", r"\1  \2/\3"),            # as `sha256sum */*` writes it
    ("utf-8", r"\1  ./\2/\3"),          # `sha256sum ./*/*`
    ("utf-8", r"\1 *\2/\3\r"),          # binary mode, saved on Windows
    ("utf-8-sig", r"\1  \2/\3"),        # with a byte-order mark
    ("utf-16", r"\1  \2/\3\r"),         # PowerShell 5: `sha256sum */* > SHA256SUMS`
    ("utf-8", r"\1  .\\\2\\\3\r"),      # Windows separators
    ("utf-8", r"SHA256 (\2/\3) = \1"),  # BSD
])
def test_look_alikes_listed_as_shells_write_it_load_as_keras_gives_them(tiny, encoding, line):
    (tiny / "cifar-10" / "cifar-10-python-offline.tar.gz").write_bytes(cifar_bytes())  # own name
    write_manifest(tiny)
    text = re.sub(r"(\w+)  ([\w-]+)/(\S+)", line, (tiny / "SHA256SUMS").read_text())
    (tiny / "SHA256SUMS").write_bytes(text.encode(encoding))
    arrays = sum(coursekit.load_data("mnist") + coursekit.load_data("cifar10"), ())
    assert [a.shape for a in arrays] == [(10, 28, 28), (10,), (4, 28, 28), (4,),
                                         (10, 32, 32, 3), (10, 1), (2, 32, 32, 3), (2, 1)]
    assert all(a.dtype == np.uint8 and a.flags.writeable for a in arrays)
    assert (arrays[2] == digits(4)).all() and arrays[1].tolist() == LABELS
    assert all(datasets.loaded_from(name).startswith("a local rebuild, not the official files")
               for name in ("mnist", "cifar10"))
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        coursekit.load_data("imagenet")


@pytest.mark.parametrize("listed", [r" or [0-9a-f]{64} \(SHA256SUMS\)", ""])
def test_a_file_changed_after_listing_or_unlisted_fails_its_hash_before_it_is_read(tiny, listed):
    (tiny / X_TRAIN).write_bytes((tiny / X_TRAIN).read_bytes()[:100])
    if not listed:
        (tiny / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match=rf"{X_TRAIN} failed its SHA-256 check: expected 440fca\w+ "
                                        rf"\(publisher's hash\){listed}, got .*Copy"):
        coursekit.load_data("mnist")


@SHARED
@pytest.mark.parametrize("name, first_labels, source", [
    ("mnist", [5, 0, 4, 1, 9, 7, 2, 1], "official distribution files"),
    ("fashion_mnist", [9, 0, 0, 3, 0, 9, 2, 1], "official distribution files"),
    ("cifar10", [6, 9, 9, 4, 1, 3, 8, 8], "local rebuild, not the official"),  # 6 a frog, 3 a cat
])
def test_the_real_files_load_as_keras_gives_them(monkeypatch, name, first_labels, source):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    x_train, y_train, x_test, y_test = arrays = sum(coursekit.load_data(name), ())
    train, image, label = (50000, (32, 32, 3), (1,)) if name == "cifar10" else (60000, (28, 28), ())
    assert [a.shape for a in arrays] == [(n, *s) for n in (train, 10000) for s in (image, label)]
    assert y_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    assert y_train.ravel()[:5].tolist() + y_test.ravel()[:3].tolist() == first_labels
    assert source in datasets.loaded_from(name)


def test_without_a_data_folder_the_official_files_download_verified(tiny, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tiny.parent / "keras"))
    cache, served = tiny.parent / "keras" / "datasets" / "fashion-mnist", tiny / X_TRAIN
    assert coursekit.load_data("fashion_mnist")[1][1].tolist() == [5, 6, 7, 7]
    assert "downloaded" in datasets.loaded_from("fashion_mnist")
    (cache / IDX[0]).write_bytes(b"cut")  # an interrupted copy from some other tool
    coursekit.load_data("fashion_mnist")
    assert "cached copy failed its SHA-256 check; downloading it again" in capsys.readouterr().out
    served.write_bytes(b"another file")
    coursekit.load_data("fashion_mnist")  # verified copies are kept: nothing downloaded
    (cache / IDX[0]).unlink()
    with pytest.raises(DataError, match=rf"{IDX[0]} \(its SHA-256 is \w+, not \w+; nothing was"):
        coursekit.load_data("fashion_mnist")
    assert sorted(p.name for p in cache.iterdir()) == sorted(IDX[1:])
    served.unlink()
    with pytest.raises(DataError, match=rf"download .*{IDX[0]} .*set COURSE_DATA_DIR to a folder"):
        coursekit.load_data("fashion_mnist")


@pytest.mark.parametrize("listed, loops", [(X_TRAIN, 0), ("SHA256SUMS", 0), (X_TRAIN, 1)])
def test_data_linking_out_of_its_folder_is_refused_unread(tiny, monkeypatch, listed, loops):
    link, outside = tiny / listed, tiny.parent / "elsewhere"
    link.rename(outside)
    link.symlink_to(link if loops else outside)
    deny(monkeypatch, outside)  # read, it would fail otherwise
    with pytest.raises(DataError, match=rf"{re.escape(str(link))} is a symbolic link (to .*"
                                        r"elsewhere|that loops), outside the data folder .*Copy"):
        coursekit.load_data("mnist")


@pytest.mark.parametrize("name", [f"data/{X_TEST}", "data/SHA256SUMS", "data/mnist",
                                  "drawings/train/circle", "drawings/test/square/1.png"])
def test_an_unreadable_file_or_folder_is_named_with_the_fix(tiny, shapes, monkeypatch, name):
    deny(monkeypatch, shapes.parent / name)
    with pytest.raises(DataError, match=rf"{re.escape(str(shapes.parent / name))}\S* cannot be "
                                        r"read: permission denied.*chmod"):
        coursekit.check_image_folder(shapes) if "drawing" in name else coursekit.load_data("mnist")


def png(size=24, broken=b"", pixels=True) -> bytes:
    """A white PNG; the chunk ``broken`` has a wrong checksum; no pixels unless ``pixels``."""
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)),
              (b"IDAT", zlib.compress((b"\0" + b"\xff" * 3 * size) * size if pixels else b"")),
              (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(data)) + kind + data
        + struct.pack(">I", zlib.crc32(kind + data) ^ (kind == broken)) for kind, data in chunks)


@pytest.fixture
def shapes(tmp_path) -> Path:
    """A good little image folder: one white PNG per class and split."""
    for folder in ("train/circle", "train/square", "test/circle", "test/square"):
        (tmp_path / "drawings" / folder).mkdir(parents=True)
        (tmp_path / "drawings" / folder / "1.png").write_bytes(png())
    return tmp_path / "drawings"


HIDDEN = r"is hidden, yet Keras reads it as an image of 'circle' .*Delete it"


@pytest.mark.parametrize("name, data, problem", [
    ("circle/2.png", png(broken=b"IDAT"), r"damaged image \(TensorFlow.* cannot decode it: Inv"),
    ("circle/._1.png", b"\x00\x05\x16\x07", rf"{HIDDEN} .*-name '\._\*' -delete"),
    ("circle/.ipynb_checkpoints/1.png", png(), HIDDEN),
    ("circle/.secret.PNG", png(), HIDDEN),
    ("square/scan.png", png(14000, pixels=False),  # refused by its header: no pixels needed
     r"too large an image \(Image size \(196.*5000x"),
    ("square/deep.png", lambda to: Image.fromarray(np.full((24, 24), 40_000, np.uint16)).save(to),
     r"is a PNG image \(mode I;16\) that TensorFlow .* to different pixels\. Save it as an 8-bit"),
    # TensorFlow shows a GIF's transparent colour black, and ignores a BMP's palette
    ("square/see-through.gif", lambda to: Image.new("L", (24, 24), 255).save(to, transparency=255),
     r"has transparent pixels, which TensorFlow .* read differently .*Flatten it onto a white"),
    ("square/palette.bmp", lambda to: Image.new("RGB", (24, 24), "red").convert("P").save(to),
     r"is a BMP image \(mode P\) that TensorFlow .* decode to different pixels\. Save it"),
    # a layout Keras reads otherwise than lesson 08 (the first class crashed it)
    ("circle/batch1/1.png", png(), r"sits in a subfolder of the class folder .*circle: .*move"),
    *[("loop", lambda link, to=to: link.symlink_to(to), r"is a symbolic link that loops back "
      r".*Remove the link") for to in ("..", ".")],
    ("", lambda train: (train / "square").rename(train / ".square"),  # hidden: not a class
     r"has 1 class folder\(s\) \['circle'\]; a classifier needs two or more"),
])
def test_a_faulty_image_or_layout_is_named_with_the_fix(shapes, name, data, problem):
    path = shapes / "train" / name
    path.parent.mkdir(exist_ok=True)
    data(path) if callable(data) else path.write_bytes(data)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))} .*{problem}"):
        coursekit.check_image_folder(shapes)


def test_keras_lists_a_hidden_image_file_so_the_check_refuses_it(shapes):
    import keras
    (shapes / "train" / "circle" / "._1.png").write_bytes(b"\x00\x05\x16\x07")
    found = keras.utils.image_dataset_from_directory(shapes / "train", image_size=(24, 24))
    assert sorted(Path(p).name for p in found.file_paths) == ["._1.png", "1.png", "1.png"]


def many_frames(path: Path, frames=40, side=2500) -> None:
    """A 200 kB GIF of 40 frames that TensorFlow decodes in full (860 MB) to keep one."""
    Image.new("P", (side, side), 0).save(path)
    data = path.read_bytes()
    start = 13 + (3 << (data[10] & 7) + 1 if data[10] & 0x80 else 0)  # after the palette
    path.write_bytes(data[:start] + data[start:-1] * frames + b";")


# Peak memory from VmHWM: getrusage's maxrss would carry over pytest's own peak through exec.
MEASURE = """import re, sys, coursekit
try:
    eval(sys.argv[1])
finally:
    print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())[1])
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("file, data, message, most_mb", [  # the issue: 2.1, 6 and 2.9 GB
    # a header promising 10 images, then 256 MB more
    (f"data/{X_TRAIN}", lambda to: to.write_bytes(
        idx_bytes(digits(10)) + gzip.compress(bytes(1 << 20), 1) * 256),
     rf"{IDX[0]}: header promises shape \(10, 28, 28\) but .* \(it inflates to more\)", 120),
    ("drawings/train/circle/0_big.png",
     lambda to: Image.new("RGBA", (8000, 8000)).save(to, compress_level=1),
     r"0_big\.png is too large an image \(8000x8000 pixels\).*at most 5000x5000", 300),
    ("drawings/train/circle/0_moving.gif", many_frames,
     r"0_moving\.gif is an animated GIF: Keras would train on its first frame.*still PNG", 300),
])
def test_a_costly_file_is_refused_in_little_memory(tiny, shapes, file, data, message, most_mb):
    data(tiny.parent / file)
    write_manifest(tiny)
    call = f"check_image_folder({str(shapes)!r})" if "drawings" in file else "load_data('mnist')"
    done = subprocess.run([sys.executable, "-c", MEASURE, "coursekit." + call],
                          capture_output=True, text=True)  # the error's message ends stderr
    assert re.search(message, done.stderr) and int(done.stdout) >> 10 < most_mb, done
