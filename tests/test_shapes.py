"""Lesson 08's data: the shapes generator and the image-folder checker (no training)."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import coursekit
from coursekit import DataError
from coursekit.paths import COURSE_ROOT

REPO = COURSE_ROOT
DATA = REPO / "data"
CLASSES = ["circle", "rectangle", "triangle"]


def load_generator():
    spec = importlib.util.spec_from_file_location("make_shapes", REPO / "tools" / "make_shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed(folder: str) -> dict[str, bytes]:
    root = DATA / folder
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


# ------------------------------------------------------------------------ the generator


def test_generator_reproduces_the_committed_files_bit_for_bit(tmp_path):
    load_generator().main(["--out", str(tmp_path)])
    for folder in ("shapes", "shapes_other_style", "shapes_pencil"):
        regenerated = {p.relative_to(tmp_path / folder).as_posix(): p.read_bytes()
                       for p in sorted((tmp_path / folder).rglob("*.png"))}
        assert regenerated.keys() == committed(folder).keys()
        changed = [name for name, data in regenerated.items() if data != committed(folder)[name]]
        assert not changed, f"{folder}: {len(changed)} files differ, e.g. {changed[:3]}"


def test_committed_set_has_the_tutorials_shape():
    files = committed("shapes")
    for split, per_class in (("train", 15), ("test", 5)):
        for name in CLASSES:
            assert len([f for f in files if f.startswith(f"{split}/{name}/")]) == per_class
    other = committed("shapes_other_style")
    assert len(other) == 90 and all(f.startswith("test/") for f in other)
    image = Image.open(io.BytesIO(files["train/circle/circle_01.png"]))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (24, 24))
    pixels = np.asarray(image)
    assert pixels.min() == 0 and pixels.max() == 255 and (pixels[..., 3] == 255).all()


def test_every_drawing_differs():
    files = committed("shapes") | {"o/" + k: v for k, v in committed("shapes_other_style").items()}
    assert len(set(files.values())) == len(files)


# ------------------------------------------------------------------------ the checker


def png(path: Path, size=(24, 24), mode="RGBA", colour=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = colour if colour is not None else {"L": 255, "RGB": (255,) * 3}.get(mode, (255,) * 4)
    image = Image.new(mode, size, colour)
    stroke = {"L": 0, "RGB": (0, 0, 0)}.get(mode, (0, 0, 0, 255))
    image.putpixel((size[0] // 2, size[1] // 2), stroke)
    image.save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    """A good little dataset: 2 train and 1 test image per class."""
    root = tmp_path / "drawings"
    for split, count in (("train", 2), ("test", 1)):
        for name in CLASSES:
            for i in range(count):
                png(root / split / name / f"{i}.png")
    return root


def test_good_folder_reports_classes_and_counts(folder):
    report = coursekit.check_image_folder(folder)
    assert report.classes == CLASSES
    assert report.counts["train"] == {name: 2 for name in CLASSES}
    assert "9 RGBA image(s)" in str(report) and "test: 3 images" in str(report)


def test_the_committed_sets_pass():
    assert coursekit.check_image_folder(DATA / "shapes").classes == CLASSES
    report = coursekit.check_image_folder(DATA / "shapes_other_style", splits=("test",))
    assert sum(report.counts["test"].values()) == 90


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="nowhere.*is not a folder"):
        coursekit.check_image_folder(tmp_path / "nowhere")


def test_wrong_layout_no_split_folders(folder):
    # The learner pointed at train/ itself: its subfolders hold images directly.
    with pytest.raises(DataError, match=r"has no train/ folder.*looks like one split"):
        coursekit.check_image_folder(folder / "train")


def test_wrong_layout_zip_with_extra_folder(tmp_path, folder):
    wrapper = tmp_path / "unzipped"
    wrapper.mkdir()
    folder.rename(wrapper / "handwriting_shape")
    with pytest.raises(DataError, match=r"extra folder: use .*handwriting_shape"):
        coursekit.check_image_folder(wrapper)


def test_wrong_layout_images_not_in_class_folders(folder):
    png(folder / "train" / "loose.png")
    with pytest.raises(DataError, match=r"holds images directly \(loose.png"):
        coursekit.check_image_folder(folder)


def test_wrong_layout_classes_differ_between_splits(folder):
    (folder / "test" / "triangle").rename(folder / "test" / "triangles")
    with pytest.raises(DataError, match=r"same class folders"):
        coursekit.check_image_folder(folder)


def test_empty_class_folder(folder):
    for image in (folder / "train" / "rectangle").iterdir():
        image.unlink()
    with pytest.raises(DataError, match=r"train/rectangle is empty"):
        coursekit.check_image_folder(folder)


def test_file_that_is_not_an_image_under_an_image_name(folder):
    (folder / "train" / "circle" / "notes.png").write_text("my circle drawings\n")
    with pytest.raises(DataError, match=r"circle/notes.png is not an image"):
        coursekit.check_image_folder(folder)


def test_other_files_are_skipped_and_named(folder):
    (folder / "train" / "circle" / "readme.txt").write_text("drawn with a mouse\n")
    (folder / "train" / "circle" / ".DS_Store").write_bytes(b"\0\0")
    report = coursekit.check_image_folder(folder)
    assert report.counts["train"]["circle"] == 2
    assert any("skipped train/circle/readme.txt" in note for note in report.notes)
    assert not any("DS_Store" in note for note in report.notes)


def test_corrupt_png(folder):
    path = folder / "test" / "triangle" / "0.png"
    path.write_bytes(path.read_bytes()[:60])  # cut off half-way, as a broken copy is
    with pytest.raises(DataError, match=r"triangle/0.png is a damaged image"):
        coursekit.check_image_folder(folder)


def test_unsupported_format_under_png_name(folder):
    Image.new("RGB", (24, 24), "white").save(folder / "train" / "circle" / "scan.png", format="TIFF")
    with pytest.raises(DataError, match=r"scan.png is a TIFF file"):
        coursekit.check_image_folder(folder)


def test_grayscale_and_rgb_images_are_converted(folder):
    png(folder / "train" / "circle" / "grey.png", mode="L")
    png(folder / "train" / "circle" / "colour.jpg", mode="RGB")
    report = coursekit.check_image_folder(folder)
    assert any(note.startswith("1 L image(s)") and "read as RGB" in note for note in report.notes)
    assert report.counts["train"]["circle"] == 4


def test_opaque_or_white_transparent_rgba_is_converted(folder):
    # Transparent pixels that are white underneath look the same once alpha is dropped.
    png(folder / "train" / "circle" / "clear.png", colour=(255, 255, 255, 0))
    assert "10 RGBA image(s)" in str(coursekit.check_image_folder(folder))


def test_rgba_whose_transparency_hides_the_drawing_is_stopped(folder):
    # Black strokes on a transparent black background: dropping alpha gives a black square.
    path = png(folder / "train" / "triangle" / "transparent.png", colour=(0, 0, 0, 0))
    with pytest.raises(DataError, match=r"transparent.png has transparent pixels.*white background"):
        coursekit.check_image_folder(folder)
    assert path.exists()


def test_other_sizes_are_resized(folder):
    png(folder / "test" / "circle" / "big.png", size=(64, 48))
    report = coursekit.check_image_folder(folder)
    assert any("1 image(s) of 64x48 (e.g. test/circle/big.png) will be resized to 24x24" in note
               for note in report.notes)


def test_keras_reads_what_the_checker_accepts(folder):
    # The conversions the checker promises are the ones Keras makes.
    coursekit.quiet_tensorflow_import()
    import keras

    png(folder / "train" / "circle" / "grey.png", mode="L")
    png(folder / "train" / "circle" / "big.png", size=(64, 48))
    coursekit.check_image_folder(folder)
    data = keras.utils.image_dataset_from_directory(
        folder / "train", image_size=(24, 24), batch_size=32, label_mode="categorical",
        shuffle=False, verbose=False)
    images, labels = next(iter(data))
    assert tuple(images.shape) == (8, 24, 24, 3) and tuple(labels.shape) == (8, 3)
    assert data.class_names == CLASSES


def test_a_wrong_drawings_folder_is_named_with_the_fix(tmp_path):
    """Lesson 08's SHAPES_DIR setting goes straight to check_image_folder."""
    with pytest.raises(DataError, match=r"typo"):
        coursekit.check_image_folder(tmp_path / "typo")
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"file\.zip"):
        coursekit.check_image_folder(tmp_path / "file.zip")
