"""Checks a folder laid out for ``keras.utils.image_dataset_from_directory`` (lesson 08): a
learner's drawings fail with a message naming the file and the fix, not a traceback."""

import io, os, re, warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["ImageFolderReport", "check_image_folder", "KERAS_IMAGE_EXTENSIONS", "MAX_IMAGE_PIXELS"]

# What image_dataset_from_directory reads (by file name); it skips every other file.
KERAS_IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_KERAS_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}
# Keras decodes every image in full on every read; drawings need far fewer pixels than this
# (5000x5000, twice a 12-megapixel photo), past which each read would take hundreds of MB.
MAX_IMAGE_PIXELS = 25_000_000
_SIDE = 24  # lesson 08 resizes every drawing to 24x24 (its IMAGE_SIZE)
_ROWS_PER_CHUNK = 256
_READERS = ("TensorFlow (which Keras trains with) and Pillow (keras.utils.load_img, lesson "
            "08's own loader)")
_DAMAGED = "Save the drawing again as PNG, or delete the file."


@dataclass
class ImageFolderReport:
    """What :func:`check_image_folder` found: classes, counts, and what Keras will convert."""
    classes: list[str]
    counts: dict
    notes: list[str]

    def __str__(self) -> str:
        return "\n".join([f"{len(self.classes)} classes: {self.classes}"] + [
            f"{split}: {sum(n.values())} images ({', '.join(f'{c} {k}' for c, k in n.items())})"
            for split, n in self.counts.items()] + [
            f"note: {note}" for note in self.notes or ["nothing to convert"]])


def unreadable(error: PermissionError) -> DataError:
    """The message for a file or folder this user may not read (shared with datasets)."""
    return DataError(f"{error.filename} cannot be read: permission denied. Make it readable to "
                     f"you (`chmod -R u+rX {error.filename}`) or copy it into a folder of yours.")


def _raise(error: OSError):
    raise error


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _layout_hint(root: Path, split: str) -> str:
    """Why ``root/split`` might be missing, in the common cases."""
    subfolders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subfolders) == 1 and (subfolders[0] / split).is_dir():
        return f" The zip seems to have unpacked into an extra folder: use {subfolders[0]} instead."
    if any(f.suffix.lower() in KERAS_IMAGE_EXTENSIONS
           for sub in subfolders for f in sub.iterdir() if f.is_file()):
        return (" Its subfolders hold images directly: this looks like one split (train or "
                "test) rather than the folder above them.")
    return ""


def _seen_apart(image, keras_pixels, tolerance: int) -> str:
    """Why Keras sees ``image`` otherwise than ``keras.utils.load_img``, or '' (by strips)."""
    (width, height), has_alpha = image.size, image.has_transparency_data  # alpha or a key colour
    apart = (f"has transparent pixels, which {_READERS} read differently (Keras drops the alpha "
             f"channel: the colour under them shows). Flatten it onto a white background (save "
             f"it with no transparency)." if has_alpha else f"is a {image.format} image (mode "
             f"{image.mode}) that {_READERS} decode to different pixels. Save it as an 8-bit PNG.")
    for top in range(0, height, _ROWS_PER_CHUNK):
        part = image.crop((0, top, width, min(top + _ROWS_PER_CHUNK, height)))
        rows = np.asarray(part.convert("RGB"), np.int16)
        if np.abs(rows - keras_pixels[top:top + _ROWS_PER_CHUNK]).max() > tolerance:
            return apart
        if has_alpha:  # Keras drops the alpha channel: the colour under it shows
            rgba = np.asarray(part.convert("RGBA"), np.float32)
            if (np.abs(255 - rgba[..., :3]) * (1 - rgba[..., 3:] / 255)).max() > 32:
                return apart
    return ""


def _check_image(path: Path, found: dict) -> None:
    """Refuse an image Keras cannot use or sees otherwise: by its header first, then its pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header, not the pixels
        fmt, mode, size = image.format, image.mode, image.size
        if fmt not in _KERAS_IMAGE_FORMATS:
            raise DataError(f"{path} is a {fmt} file under an image name; Keras reads only "
                            f"PNG, JPEG, GIF and BMP. Convert it to PNG.")
        if size[0] * size[1] > MAX_IMAGE_PIXELS:  # as Pillow's own, larger, limit does
            raise Image.DecompressionBombError(f"{size[0]}x{size[1]} pixels")
        if getattr(image, "is_animated", False):  # finds frame 2, decodes none
            raise DataError(f"{path} is an animated {fmt}: Keras would train on its first frame "
                            f"only (a GIF's after decoding every frame). Save a still PNG.")
        import tensorflow as tf  # only now: a refused header costs no TensorFlow

        try:  # Pillow forgives what TensorFlow refuses (a PNG chunk's wrong checksum, for one)
            keras_pixels = tf.image.decode_image(data, channels=3, expand_animations=False)
        except (tf.errors.OpError, ValueError) as error:
            message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "",
                             getattr(error, "message", str(error))).strip().splitlines()[0]
            raise ValueError(f"TensorFlow, which Keras reads images with, cannot decode it: "
                             f"{message}") from error
        # JPEG decoders round apart (by up to 20 levels, measured)
        apart = _seen_apart(image, keras_pixels.numpy(), 48 if fmt == "JPEG" else 0)
    except Image.DecompressionBombError as error:
        raise DataError(f"{path} is too large an image ({error}): Keras decodes every pixel of "
                        f"it on every read. Save it at most 5000x5000.") from error
    except UnidentifiedImageError as error:
        raise DataError(f"{path} is not an image Pillow can read: a damaged copy (cut short, a "
                        f"chunk's checksum wrong) or another kind of file. {_DAMAGED}") from error
    except PermissionError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DataError(f"{path} is a damaged image ({error}). {_DAMAGED}") from error
    if apart:
        raise DataError(f"{path} {apart}")
    if mode != "RGB":  # the note on what Keras converts, for an example's name
        found.setdefault(f"{mode} image(s) (e.g. {{}}) will be read as RGB", []).append(path)
    if size != (_SIDE, _SIDE):
        found.setdefault(f"image(s) of {size[0]}x{size[1]} (e.g. {{}}) will be resized to "
                         f"{_SIDE}x{_SIDE}", []).append(path)


def check_image_folder(path: Path, splits=("train", "test")) -> ImageFolderReport:
    """``<split>/<class>/<image>`` checked for Keras: the classes, counts, and what Keras will
    convert or skip, or a :class:`DataError` naming the file and the fix."""
    try:
        return _check_folder(Path(path), splits)
    except PermissionError as error:
        raise unreadable(error) from error


def _check_folder(root: Path, splits) -> ImageFolderReport:
    listed = " and ".join(split + "/" for split in splits)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder. Expected a folder holding {listed} with "
                        f"one subfolder per class.")
    counts, notes, found = {}, [], {}  # counts: {split: {class: images}}
    for split in splits:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DataError(f"{root} has no {split}/ folder. Expected {split}/<class>/<image> "
                            f"(e.g. {split}/circle/1.png) for each of "
                            f"{', '.join(s + '/' for s in splits)}.{_layout_hint(root, split)}")
        if loose := [p.name for p in split_dir.iterdir()
                     if p.is_file() and p.suffix.lower() in KERAS_IMAGE_EXTENSIONS]:
            raise DataError(f"{split_dir} holds images directly ({loose[0]}, ...). Put each "
                            f"image in a subfolder named after its class, e.g. {split}/circle/.")
        # Keras lists a link to a folder as a class and walks it; it skips one leading nowhere
        for link in (p for p in split_dir.iterdir() if p.is_symlink() and p.is_dir()):
            if split_dir.resolve().is_relative_to(link.resolve()):
                raise DataError(f"{link} is a symbolic link that loops back to a folder holding "
                                f"it: Keras would read it as a class. Remove the link: rm {link}")
        classes = sorted(p.name for p in split_dir.iterdir()
                         if p.is_dir() and not p.name.startswith("."))
        if len(classes) < 2:
            raise DataError(f"{split_dir} has {len(classes)} class folder(s) {classes}; a "
                            f"classifier needs two or more: {split}/circle, {split}/triangle, ...")
        if classes != (first := list(counts.get(splits[0], classes))):
            raise DataError(f"{root}: {splits[0]}/ has classes {first}, {split}/ has {classes}. "
                            f"Give every split the same class folders (they number the classes).")
        counts[split] = {}
        for name in classes:
            class_dir = split_dir / name
            # as Keras walks it: os.walk, symlinked folders not followed, hidden files kept
            files = sorted(Path(parent) / file for parent, _, names in
                           os.walk(class_dir, onerror=_raise) for file in names)
            images = [f for f in files if f.name.lower().endswith(KERAS_IMAGE_EXTENSIONS)]
            if hidden := next((f for f in images if _hidden(f, class_dir)), None):
                raise DataError(f"{hidden} is hidden, yet Keras reads it as an image of '{name}' "
                                f"(macOS leaves ._ copies, Jupyter .ipynb_checkpoints/). Delete it "
                                f"(every ._ file: `find {root} -name '._*' -delete`), or drop the "
                                f"leading dot if it is a drawing.")
            if nested := next((f for f in images if f.parent != class_dir), None):
                raise DataError(f"{nested} sits in a subfolder of the class folder {class_dir}: "
                                f"Keras would count it, lesson 08's own loader would not. Expected "
                                f"{split}/{name}/1.png: move the images up into {class_dir}.")
            for other in sorted(f for f in set(files) - set(images) if not _hidden(f, class_dir)):
                notes.append(f"skipped {split}/{other.relative_to(split_dir).as_posix()}: "
                             f"not a file type Keras reads ({', '.join(KERAS_IMAGE_EXTENSIONS)})")
            if not images:
                raise DataError(f"{class_dir} is empty (no {'/'.join(KERAS_IMAGE_EXTENSIONS)} "
                                f"files). Add images of '{name}' or remove the folder from "
                                f"every split.")
            for image in images:
                _check_image(image, found)
            counts[split][name] = len(images)
    notes += [f"{len(files)} " + note.format(files[0].relative_to(root).as_posix())
              for note, files in sorted(found.items())]
    return ImageFolderReport(list(counts[splits[0]]), counts, notes)
