"""Checks a folder of images laid out for ``keras.utils.image_dataset_from_directory``.

Run before Keras reads the folder, so that a learner's own drawings fail with a message
naming the file and the fix, instead of a TensorFlow traceback or a silently wrong
dataset (lesson 08).
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["ImageFolderReport", "check_image_folder", "KERAS_IMAGE_EXTENSIONS", "MAX_IMAGE_PIXELS"]

# What image_dataset_from_directory reads (by file name); it skips every other file.
KERAS_IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_KERAS_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}


class ImageFolderReport:
    """What :func:`check_image_folder` found: classes, counts, and what Keras will convert."""

    def __init__(self, root: Path, classes: list[str], counts: dict, notes: list[str]):
        self.root, self.classes, self.counts, self.notes = root, classes, counts, notes

    def __str__(self) -> str:
        lines = [f"{len(self.classes)} classes: {self.classes}"]
        for split, per_class in self.counts.items():
            detail = ", ".join(f"{name} {n}" for name, n in per_class.items())
            lines.append(f"{split}: {sum(per_class.values())} images ({detail})")
        lines += [f"note: {note}" for note in self.notes] or ["note: nothing to convert"]
        return "\n".join(lines)


def _keras_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` as ``image_dataset_from_directory`` walks it.

    Keras walks the class folder with ``os.walk`` (symlinked folders not followed) and
    keeps every file with an image extension, hidden ones included: a macOS ``._x.png``
    or a ``.ipynb_checkpoints/x-checkpoint.png`` counts as one more image of the class.
    """
    return sorted(Path(root) / name for root, _, names in os.walk(folder) for name in names)


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _hidden_image_error(path: Path, root: Path, name: str) -> DataError:
    """Keras reads hidden image files as drawings too; the course cannot change that."""
    if path.name.startswith("._"):
        why = ("is a macOS metadata file (AppleDouble), written when the folder was copied "
               "from a Mac, not a drawing")
        fix = f"Delete every such file: `find {root} -name '._*' -delete`."
    elif ".ipynb_checkpoints" in path.parts:
        why = "is a copy Jupyter keeps in .ipynb_checkpoints/, not a drawing of its own"
        fix = f"Delete the folder {path.parent}."
    else:
        why = "is a hidden file"
        fix = "Delete it, or rename it without the leading dot if it is a drawing."
    return DataError(f"{path} {why}, yet Keras reads every file ending in an image "
                     f"extension, hidden or not, as an image of '{name}'. {fix}")


def _class_folders(split_dir: Path) -> list[str]:
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout_hint(root: Path, split: str) -> str:
    """Why ``root/split`` might be missing, in the common cases."""
    subfolders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subfolders) == 1 and (subfolders[0] / split).is_dir():
        return f" The zip seems to have unpacked into an extra folder: use {subfolders[0]} instead."
    if subfolders and any(f.suffix.lower() in KERAS_IMAGE_EXTENSIONS
                          for sub in subfolders for f in sub.iterdir() if f.is_file()):
        return (" Its subfolders hold images directly: this looks like one split (train or "
                "test) rather than the folder above them.")
    return ""


# Keras decodes every image at full size before resizing it to image_size, on every
# read. Drawings need far fewer pixels; past this (a 5000x5000 image, twice a 12-megapixel
# photo) the check stops instead of asking for hundreds of MB per image.
MAX_IMAGE_PIXELS = 25_000_000
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_ROWS_PER_CHUNK = 256


def _decode_like_keras(path: Path, shown: str) -> None:
    """Decode ``path`` as ``image_dataset_from_directory`` will: TensorFlow's decoder.

    Pillow forgives what TensorFlow refuses (a PNG chunk with a wrong checksum, for one),
    and Keras's own error names no file. Without TensorFlow, Pillow checks the chunks'
    checksums (``verify``) and decodes the image.
    """
    data = path.read_bytes()
    try:
        import tensorflow as tf
    except ImportError:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return
    try:
        tf.image.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.OpError, ValueError) as error:
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "",
                         getattr(error, "message", str(error))).strip().splitlines()[0]
        raise DataError(f"{shown} is a damaged image: TensorFlow, which Keras uses to read "
                        f"images, cannot decode it ({message}), so training would stop on "
                        f"it. Save the drawing again as PNG, or delete the file.") from error


def _hidden_colour_shows(image) -> bool:
    """True if dropping the alpha channel changes what a pixel looks like on white.

    Row by row, so that checking a large image costs a few MB, not gigabytes.
    """
    rgba = image.convert("RGBA")
    width, height = rgba.size
    for top in range(0, height, _ROWS_PER_CHUNK):
        rows = np.asarray(rgba.crop((0, top, width, min(top + _ROWS_PER_CHUNK, height))))
        alpha = rows[..., 3:].astype(np.float32) / 255
        if (alpha < 1).any():
            colour = rows[..., :3].astype(np.float32)
            on_white = colour * alpha + 255 * (1 - alpha)
            if np.abs(on_white - colour).max() > 32:
                return True
    return False


def _check_image(path: Path, shown: str, image_size: tuple[int, int], found: dict) -> None:
    """Check one image as Keras will read it; raise DataError if training could not use it.

    The header is read first (format and size, without decoding), so that a huge image
    is refused by name before it takes any memory; then the file is decoded the way
    training decodes it; then, for an image with transparency, the colours under its
    transparent pixels are compared with white, since Keras drops the alpha channel.
    """
    from PIL import Image, UnidentifiedImageError

    too_big = (f"Keras would decode every pixel on each read before shrinking it to "
               f"{image_size[1]}x{image_size[0]}. Save it at most 5000x5000 pixels (a few "
               f"hundred across is plenty for a drawing).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header, not the pixels
                fmt, mode, size = image.format, image.mode, image.size
                has_alpha = mode in _ALPHA_MODES or "transparency" in image.info
    except Image.DecompressionBombError as error:
        raise DataError(f"{shown} is far too large an image ({error}). {too_big}") from error
    except UnidentifiedImageError as error:
        with open(path, "rb") as handle:
            start = handle.read(8)
        if start.startswith(_IMAGE_SIGNATURES):
            raise DataError(f"{shown} is a damaged image: it starts as an image file but "
                            f"Pillow cannot read it (a cut copy, or a chunk whose checksum "
                            f"is wrong). Save the drawing again as PNG, or delete the "
                            f"file.") from error
        raise DataError(f"{shown} is not an image (Pillow cannot identify its format). "
                        f"Delete it or replace it with a PNG drawing.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DataError(f"{shown} is a damaged image ({error}). Save the drawing again "
                        f"as PNG, or delete the file.") from error
    if fmt not in _KERAS_IMAGE_FORMATS:
        raise DataError(f"{shown} is a {fmt} file under an image name; Keras reads only "
                        f"PNG, JPEG, GIF and BMP. Convert it to PNG.")
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise DataError(f"{shown} is {size[0]}x{size[1]} pixels. {too_big}")
    _decode_like_keras(path, shown)
    if has_alpha:
        try:
            with Image.open(path) as image:
                shows = _hidden_colour_shows(image)
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise DataError(f"{shown} is a damaged image ({error}). Save the drawing again "
                            f"as PNG, or delete the file.") from error
        if shows:
            raise DataError(
                f"{shown} has transparent pixels. Keras drops the alpha channel, so the "
                f"colour hidden under them would show and the drawing would look "
                f"different. Save it with a white background (no transparency).")
    if mode != "RGB":
        found.setdefault(f"mode {mode}", []).append(shown)
    if size != (image_size[1], image_size[0]):
        found.setdefault(f"size {size[0]}x{size[1]}", []).append(shown)


def check_image_folder(path: Path, splits=("train", "test"),
                       image_size: tuple[int, int] = (24, 24)) -> ImageFolderReport:
    """Check a folder laid out as ``<split>/<class>/<image>`` before Keras reads it.

    Stops with :class:`DataError` (naming the file or folder and the fix) on a wrong
    layout, a class missing from a split, an empty class folder, a file that is not an
    image, an image TensorFlow cannot decode, a hidden image file Keras would count
    (``._x.png``), an image over :data:`MAX_IMAGE_PIXELS` or one whose transparency
    would be lost. Returns a report of
    the classes, the image counts and what ``image_dataset_from_directory(...,
    color_mode="rgb", image_size=image_size)`` will convert (grey or RGBA to RGB,
    other sizes resized), and of files it will skip.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder. Expected a folder holding "
                        f"{' and '.join(s + '/' for s in splits)} with one subfolder per class.")
    classes_by_split, counts, notes, found = {}, {}, [], {}
    for split in splits:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DataError(
                f"{root} has no {split}/ folder. Expected {split}/<class>/<image> (e.g. "
                f"{split}/circle/1.png) for each of {', '.join(s + '/' for s in splits)}."
                + _layout_hint(root, split))
        loose = [p.name for p in split_dir.iterdir()
                 if p.is_file() and p.suffix.lower() in KERAS_IMAGE_EXTENSIONS]
        if loose:
            raise DataError(f"{split_dir} holds images directly ({loose[0]}, ...). Put each "
                            f"image in a subfolder named after its class, e.g. {split}/circle/.")
        classes = _class_folders(split_dir)
        if len(classes) < 2:
            raise DataError(f"{split_dir} has {len(classes)} class folder(s) {classes}; a "
                            f"classifier needs at least two, e.g. {split}/circle and {split}/triangle.")
        classes_by_split[split] = classes
        counts[split] = {}
        for name in classes:
            class_dir = split_dir / name
            files = _keras_files(class_dir)
            images = [f for f in files if f.name.lower().endswith(KERAS_IMAGE_EXTENSIONS)]
            hidden = next((f for f in images if _hidden(f, class_dir)), None)
            if hidden is not None:
                raise _hidden_image_error(hidden, root, name)
            for other in sorted(f for f in set(files) - set(images) if not _hidden(f, class_dir)):
                notes.append(f"skipped {split}/{other.relative_to(split_dir).as_posix()}: "
                             f"not a file type Keras reads ({', '.join(KERAS_IMAGE_EXTENSIONS)})")
            if not images:
                raise DataError(f"{class_dir} is empty (no {'/'.join(KERAS_IMAGE_EXTENSIONS)} "
                                f"files). Add images of '{name}' or remove the folder from "
                                f"every split.")
            for image in images:
                _check_image(image, str(image), image_size, found)
            counts[split][name] = len(images)
    first, *rest = splits
    for split in rest:
        if classes_by_split[split] != classes_by_split[first]:
            raise DataError(
                f"{root}: {first}/ has classes {classes_by_split[first]} but {split}/ has "
                f"{classes_by_split[split]}. Class numbers come from the sorted folder names, "
                f"so every split needs the same class folders.")
    for kind, files in sorted(found.items()):
        what = kind.split(" ", 1)[1]
        example = Path(files[0]).relative_to(root).as_posix()
        if kind.startswith("mode"):
            notes.append(f"{len(files)} {what} image(s) (e.g. {example}) will be read as RGB")
        else:
            notes.append(f"{len(files)} image(s) of {what} (e.g. {example}) will be resized "
                         f"to {image_size[1]}x{image_size[0]}")
    return ImageFolderReport(root, classes_by_split[first], counts, notes)
