"""Checks a folder of images laid out for ``keras.utils.image_dataset_from_directory``.

Run before Keras reads the folder, so that a learner's own drawings fail with a message
naming the file and the fix, instead of a TensorFlow traceback or a silently wrong
dataset (lesson 08).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["ImageFolderReport", "check_image_folder", "KERAS_IMAGE_EXTENSIONS"]

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


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


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


def _check_image(path: Path, shown: str, image_size: tuple[int, int], found: dict) -> None:
    """Open one image fully; raise DataError if Keras could not use it, else note conversions."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            fmt, mode, size = image.format, image.mode, image.size
            rgba = image.convert("RGBA") if mode != "RGB" else None
    except UnidentifiedImageError as error:
        raise DataError(f"{shown} is not an image (Pillow cannot identify its format). "
                        f"Delete it or replace it with a PNG drawing.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DataError(f"{shown} is a damaged image ({error}). Save the drawing again "
                        f"as PNG, or delete the file.") from error
    if fmt not in _KERAS_IMAGE_FORMATS:
        raise DataError(f"{shown} is a {fmt} file under an image name; Keras reads only "
                        f"PNG, JPEG, GIF and BMP. Convert it to PNG.")
    if rgba is not None:
        pixels = np.asarray(rgba, dtype=np.int16)
        alpha = pixels[..., 3:] / 255.0
        if (alpha < 1).any():
            # Keras drops the alpha channel: what is under transparent pixels shows.
            on_white = pixels[..., :3] * alpha + 255 * (1 - alpha)
            if np.abs(on_white - pixels[..., :3]).max() > 32:
                raise DataError(
                    f"{shown} has transparent pixels. Keras drops the alpha channel, so the "
                    f"colour hidden under them would show and the drawing would look "
                    f"different. Save it with a white background (no transparency).")
        found.setdefault(f"mode {mode}", []).append(shown)
    if size != (image_size[1], image_size[0]):
        found.setdefault(f"size {size[0]}x{size[1]}", []).append(shown)


def check_image_folder(path: Path, splits=("train", "test"),
                       image_size: tuple[int, int] = (24, 24)) -> ImageFolderReport:
    """Check a folder laid out as ``<split>/<class>/<image>`` before Keras reads it.

    Stops with :class:`DataError` (naming the file or folder and the fix) on a wrong
    layout, a class missing from a split, an empty class folder, a file that is not an
    image, a damaged image or one whose transparency would be lost. Returns a report of
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
            files = _visible_files(class_dir)
            images = [f for f in files if f.suffix.lower() in KERAS_IMAGE_EXTENSIONS]
            for other in sorted(set(files) - set(images)):
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
