"""The course's generated data (lessons 01, 03, 08) and the image-folder checker (no training)."""

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

import coursekit
from coursekit.paths import COURSE_ROOT
from tools import make_sample_images, make_shapes

DATA = COURSE_ROOT / "data"
CLASSES = ["circle", "rectangle", "triangle"]
SHAPES = {look["folder"]: look["splits"] for look in make_shapes.STYLES.values()}


def contents(path, pattern="*.png") -> dict[str, bytes]:
    """{name: bytes} of a file, or of every file matching ``pattern`` under a folder."""
    files = sorted(path.rglob(pattern)) if path.is_dir() else [path]
    return {p.relative_to(path.parent).as_posix(): p.read_bytes() for p in files if p.is_file()}


@pytest.mark.parametrize("make, outputs", [(make_shapes.main, list(SHAPES)),
    (make_sample_images.main, ["samples", "my_digit.png"])], ids=["shapes", "sample images"])
def test_generator_reproduces_the_committed_files_bit_for_bit(tmp_path, make, outputs):
    make(tmp_path)
    for name in outputs:
        made, committed = contents(tmp_path / name), contents(DATA / name)
        changed = sorted(n for n in made | committed if made.get(n) != committed.get(n))
        assert not changed, f"{name}: {len(changed)} files differ, e.g. {changed[:3]}"


@pytest.mark.parametrize("root, per_class", [  # Quick, Draw!'s folder: one split of data/
    *SHAPES.items(), ("", {"quickdraw_shapes": 100})])
def test_committed_drawings_are_distinct_opaque_24x24_ink_on_paper(root, per_class):
    report = coursekit.check_image_folder(DATA / root, splits=tuple(per_class))
    assert report.counts == {split: dict.fromkeys(CLASSES, n) for split, n in per_class.items()}
    assert len(report.notes) == 1 and report.notes[0].startswith(
        f"{3 * sum(per_class.values())} RGBA image(s)"), "all RGBA and 24x24, nothing else"
    drawings = np.stack([np.asarray(Image.open(path)) for split in per_class
                         for path in (DATA / root / split).rglob("*.png")])
    assert (drawings[..., 3] == 255).all() and len(np.unique(drawings, axis=0)) == len(drawings)
    ink = drawings[..., :3].min(axis=-1)
    assert (ink.min(axis=(1, 2)) < 64).all() and ((ink >= 200).mean(axis=(1, 2)) > 0.5).all()
    if root != "shapes_pencil":  # the pencil draws in colours
        assert (drawings[..., :3] == drawings[..., :1]).all()


def png(path, size=(24, 24), mode="RGBA", colour="white"):
    """An image with one black pixel in the middle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new(mode, size, colour)
    ImageDraw.Draw(image).point((size[0] // 2, size[1] // 2), "black")
    image.save(path)


@pytest.fixture
def folder(tmp_path):
    """A good little dataset: 2 train and 1 test image per class, in tmp_path/drawings."""
    for name in CLASSES:
        for image in ("train/{}/0.png", "train/{}/1.png", "test/{}/0.png"):
            png(tmp_path / "drawings" / image.format(name))
    return tmp_path / "drawings"


@pytest.mark.parametrize("checked, change, message", [
    ("nowhere", None, r"nowhere is not a folder"),  # a typo in lesson 08's SHAPES_DIR
    ("drawings/train", None, r"has no train/ folder.*looks like one split"),
    ("unzipped", lambda f: shutil.copytree(f, f.parent / "unzipped/handwriting_shape"),
     r"extra folder: use .*handwriting_shape"),
    ("drawings", lambda f: png(f / "train/loose.png"), r"holds images directly \(loose.png"),
    ("drawings", lambda f: (f / "test/triangle").rename(f / "test/triangles"),
     "same class folders"),
    ("drawings", lambda f: [p.unlink() for p in (f / "train/rectangle").iterdir()],
     "train/rectangle is empty"),
    ("drawings", lambda f: (f / "train/circle/notes.png").write_text("my circles"),
     "circle/notes.png is not an image"),
    ("drawings", lambda f: Image.new("RGB", (24, 24)).save(f / "train/circle/scan.png", "TIFF"),
     "scan.png is a TIFF file"),
    # black strokes on a transparent black background: dropping alpha gives a black square
    ("drawings", lambda f: png(f / "train/triangle/dark.png", colour=(0, 0, 0, 0)),
     r"dark.png has transparent pixels.*white background"),
], ids=["missing folder", "one split", "an extra folder", "loose images",
        "classes differ", "empty class", "not an image", "tiff", "hidden ink"])
def test_a_wrong_folder_is_refused_naming_the_file_and_the_fix(tmp_path, folder, checked, change,
                                                                message):
    if change:
        change(folder)
    before = contents(tmp_path, "*")
    with pytest.raises(coursekit.DataError, match=message):
        coursekit.check_image_folder(tmp_path / checked)
    assert contents(tmp_path, "*") == before, "the checker changed a file"


@pytest.mark.parametrize("added, expected", [
    ({}, ["train: 6 images (circle 2, rectangle 2, triangle 2)", "test: 3 images",
          "note: 9 RGBA image(s) (e.g. train/circle/0.png) will be read as RGB"]),
    ({"readme.txt": "text", ".DS_Store": "text"},  # hidden ones are not even named
     ["train: 6 images (circle 2,", "note: skipped train/circle/readme.txt: not a file type"]),
    ({"grey.png": {"mode": "L"}, "colour.jpg": {"mode": "RGB"}},
     ["train: 8 images (circle 4,",
      "note: 1 L image(s) (e.g. train/circle/grey.png) will be read as RGB"]),
    # transparent pixels that are white underneath look the same once alpha is dropped
    ({"clear.png": {"colour": (255, 255, 255, 0)}}, ["note: 10 RGBA image(s)"]),
    ({"big.png": {"size": (64, 48)}},
     ["note: 1 image(s) of 64x48 (e.g. train/circle/big.png) will be resized to 24x24"]),
], ids=["good", "other files", "grey and rgb", "white under transparency", "other size"])
def test_the_checker_reports_what_keras_reads_converts_and_skips(folder, added, expected):
    for name, how in added.items():
        path = folder / "train" / "circle" / name
        path.write_text(how) if isinstance(how, str) else png(path, **how)
    report = coursekit.check_image_folder(folder)
    assert str(report).startswith("3 classes: ['circle', 'rectangle', 'triangle']")
    assert all(line in str(report) for line in expected) and "DS_Store" not in str(report), report
    coursekit.quiet_tensorflow_import()
    import keras

    data = keras.utils.image_dataset_from_directory(folder / "train", image_size=(24, 24),
                                                    label_mode="categorical", verbose=False)
    images, labels = next(iter(data))
    assert tuple(images.shape) == (sum(report.counts["train"].values()), 24, 24, 3)
    assert tuple(labels.shape) == (len(images), 3) and data.class_names == CLASSES
