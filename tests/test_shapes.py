"""The course's generated data (lessons 01, 03, 08) and the image-folder checker (no training)."""

import importlib
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

import coursekit
from coursekit import DataError
from coursekit.paths import COURSE_ROOT

DATA = COURSE_ROOT / "data"
CLASSES = ["circle", "rectangle", "triangle"]
SHAPES = {"shapes": {"train": 15, "test": 5}, "shapes_other_style": {"test": 30},
          "shapes_pencil": {"test": 30}}  # folder: images per class in each split


def contents(path, pattern="*.png") -> dict[str, bytes]:
    """{name: bytes} of a file, or of every file matching ``pattern`` under a folder."""
    files = sorted(path.rglob(pattern)) if path.is_dir() else [path]
    return {p.relative_to(path.parent).as_posix(): p.read_bytes() for p in files if p.is_file()}


@pytest.mark.parametrize("tool, outputs", [("make_shapes", list(SHAPES)),
                                           ("make_my_digit", ["my_digit.png"]),
                                           ("make_sample_images", ["samples"])])
def test_generator_reproduces_the_committed_files_bit_for_bit(tmp_path, tool, outputs):
    importlib.import_module(f"tools.{tool}").main(["--out", str(tmp_path)])
    for name in outputs:
        made, committed = contents(tmp_path / name), contents(DATA / name)
        changed = sorted(n for n in made.keys() | committed.keys() if made.get(n) != committed.get(n))
        assert not changed, f"{name}: {len(changed)} files differ, e.g. {changed[:3]}"


@pytest.mark.parametrize("folder, per_class", SHAPES.items())
def test_committed_shapes_are_distinct_opaque_24x24_rgba_and_pass_the_checker(folder, per_class):
    report = coursekit.check_image_folder(DATA / folder, splits=tuple(per_class))
    assert report.counts == {split: dict.fromkeys(CLASSES, n) for split, n in per_class.items()}
    assert report.notes == [f"{sum(per_class.values()) * 3} RGBA image(s) (e.g. "
                            f"{next(iter(per_class))}/circle/circle_01.png) will be read as RGB"]
    drawings = contents(DATA / folder)
    assert len(set(drawings.values())) == len(drawings), "two drawings are identical"
    assert all((np.asarray(Image.open(p))[..., 3] == 255).all() for p in (DATA / folder).rglob("*.png"))


def png(path, size=(24, 24), mode="RGBA", colour="white"):
    """An image with one black pixel in the middle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new(mode, size, colour)
    ImageDraw.Draw(image).point((size[0] // 2, size[1] // 2), "black")
    image.save(path)


@pytest.fixture
def folder(tmp_path):
    """A good little dataset: 2 train and 1 test image per class, in tmp_path/drawings."""
    for name in [f"train/{c}/{i}.png" for c in CLASSES for i in (0, 1)] + [f"test/{c}/0.png" for c in CLASSES]:
        png(tmp_path / "drawings" / name)
    return tmp_path / "drawings"


def cut(path):
    path.write_bytes(path.read_bytes()[:60])  # cut off half-way, as a broken copy is


@pytest.mark.parametrize("change, checked, message", [
    (None, "nowhere", r"nowhere is not a folder"),  # a typo in lesson 08's SHAPES_DIR
    (lambda f: (f.parent / "file.zip").write_bytes(b"PK"), "file.zip", r"file\.zip is not a folder"),
    (None, "drawings/train", r"has no train/ folder.*looks like one split"),
    (lambda f: shutil.copytree(f, f.parent / "unzipped" / "handwriting_shape"), "unzipped",
     r"extra folder: use .*handwriting_shape"),
    (lambda f: png(f / "train" / "loose.png"), "drawings", r"holds images directly \(loose.png"),
    (lambda f: (f / "test" / "triangle").rename(f / "test" / "triangles"), "drawings",
     r"same class folders"),
    (lambda f: [p.unlink() for p in (f / "train" / "rectangle").iterdir()], "drawings",
     r"train/rectangle is empty"),
    (lambda f: (f / "train" / "circle" / "notes.png").write_text("my circles\n"), "drawings",
     r"circle/notes.png is not an image"),
    (lambda f: cut(f / "test" / "triangle" / "0.png"), "drawings",
     r"triangle/0.png is a damaged image"),
    (lambda f: Image.new("RGB", (24, 24), "white").save(f / "train" / "circle" / "scan.png",
                                                         format="TIFF"), "drawings",
     r"scan.png is a TIFF file"),
    # black strokes on a transparent black background: dropping alpha gives a black square
    (lambda f: png(f / "train" / "triangle" / "dark.png", colour=(0, 0, 0, 0)), "drawings",
     r"dark.png has transparent pixels.*white background"),
], ids=["missing folder", "a file", "one split", "an extra folder", "loose images",
        "classes differ", "empty class", "not an image", "damaged png", "tiff", "hidden ink"])
def test_a_wrong_folder_is_refused_naming_the_file_and_the_fix(tmp_path, folder, change, checked,
                                                                message):
    if change:
        change(folder)
    before = contents(tmp_path, "*")
    with pytest.raises(DataError, match=message):
        coursekit.check_image_folder(tmp_path / checked)
    assert contents(tmp_path, "*") == before, "the checker changed a file"


@pytest.mark.parametrize("added, expected", [
    ({}, ["train: 6 images (circle 2, rectangle 2, triangle 2)", "test: 3 images",
          "note: 9 RGBA image(s) (e.g. train/circle/0.png) will be read as RGB"]),
    ({"readme.txt": "text", ".DS_Store": "text"},  # hidden ones are not even named
     ["train: 6 images (circle 2,", "note: skipped train/circle/readme.txt: not a file type"]),
    ({"grey.png": {"mode": "L"}, "colour.jpg": {"mode": "RGB"}},
     ["train: 8 images (circle 4,", "note: 1 L image(s) (e.g. train/circle/grey.png) will be read as RGB"]),
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
