"""Draw the course's hand-drawn-style shapes dataset (circle / rectangle / triangle).

    python tools/make_shapes.py                 # rewrite data/shapes, shapes_other_style, shapes_pencil
    python tools/make_shapes.py --out DIR       # write the three sets under DIR instead

The tutorial's 60 drawings cannot be redistributed, so the course draws its own. Each
shape is drawn the way a person does with a mouse or a pen: one wobbly stroke that does
not quite close, of varied size, position, rotation, aspect ratio, stroke width and
slant. Strokes are black on white, drawn 4x larger and averaged down to 24x24 (what a
paint program's smooth brush gives), and saved as RGBA PNG, as in the tutorial.

Three "people" draw:

* ``tidy`` (data/shapes): 15 training + 5 test images per shape, like the tutorial;
  fairly large, centred, nearly upright shapes drawn in one stroke.
* ``other`` (data/shapes_other_style/test): 30 test images per shape by someone else:
  smaller, off-centre, skewed, turned by any angle, drawn side by side with pen lifts,
  overshooting corners, sometimes retraced. It tests whether a model learned "circle" or
  only "circle as the tidy person draws it".
* ``pencil`` (data/shapes_pencil/test): 30 test images per shape, drawn another way
  again, as with a paint program's one-pixel pencil: no smoothing (drawn straight at
  24x24), dark ink of a few colours, often small (some fill a quarter of the frame) and
  anywhere in the frame, slanted or tapering quadrilaterals, thin or lopsided triangles,
  ovals. Lesson 08 keeps it out of every choice and scores its final models on it once.
  It is generated, not drawn by people.

Every image has its own random generator seeded from (SEED, style, shape, split,
index), so the output is the same bit for bit on every run, and changing one set
leaves the others as they were.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from coursekit.paths import COURSE_ROOT

SEED = 2017  # the year of the tutorial
SIZE = 24  # final image size in pixels
SCALE = 4  # drawn at SIZE*SCALE, then averaged down: smooth, anti-aliased strokes
CLASSES = ("circle", "rectangle", "triangle")
REPO = COURSE_ROOT

# style -> (output folder, {split: images per shape})
SETS = {
    "tidy": ("shapes", {"train": 15, "test": 5}),
    "other": ("shapes_other_style", {"test": 30}),
    "pencil": ("shapes_pencil", {"test": 30}),
}
PENCIL_INKS = ((0, 0, 0), (30, 30, 120), (120, 20, 20), (60, 60, 60), (20, 80, 30))


# ------------------------------------------------------------------ outlines (unit size)


def _wobble(rng, n: int, amplitude: float, waves: int = 3) -> np.ndarray:
    """A smooth random offset along a stroke of n points: a hand that is not quite steady."""
    t = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    for k in range(1, waves + 1):
        out += rng.normal(0, amplitude / k) * np.sin(2 * np.pi * k * t + rng.uniform(0, 2 * np.pi))
    return out


def _polyline(corners: np.ndarray, rng, wobble: float, points_per_side: int = 24) -> np.ndarray:
    """Walk through the corners in order, with a wobble across each side."""
    pieces = []
    for a, b in zip(corners[:-1], corners[1:]):
        t = np.linspace(0.0, 1.0, points_per_side, endpoint=False)[:, None]
        side = a + (b - a) * t
        normal = np.array([-(b - a)[1], (b - a)[0]]) / (np.linalg.norm(b - a) + 1e-9)
        bend = _wobble(rng, points_per_side, wobble, waves=2) * np.sin(np.pi * t[:, 0])
        pieces.append(side + bend[:, None] * normal)
    pieces.append(corners[-1:])
    return np.concatenate(pieces)


def _close_roughly(corners: np.ndarray, rng, gap: tuple[float, float]) -> np.ndarray:
    """Return to the first corner, stopping short of it or overshooting it a little."""
    first, second = corners[0], corners[1]
    end = first + (second - first) * rng.uniform(*gap)
    return np.vstack([corners, end])


def circle_strokes(rng, style: str) -> list[np.ndarray]:
    if style == "tidy":
        sweep = 2 * np.pi * rng.uniform(0.88, 1.06)  # does not quite close, or overlaps
        n = 96
        t = rng.uniform(0, 2 * np.pi) + np.linspace(0, sweep, n)
        radius = 1.0 + _wobble(rng, n, 0.05) + np.linspace(0, rng.normal(0, 0.06), n)
        return [np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None]]
    if style == "pencil":  # one stroke, lopsided: an egg or a dented oval
        n = 96
        t = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi * rng.uniform(0.95, 1.08), n)
        radius = 1.0 + _wobble(rng, n, 0.1) + 0.15 * rng.uniform(-1, 1) * np.cos(t)
        return [np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None]]
    # Another person: two arcs (pen lifted half-way), lopsided, a spiral drift.
    start = rng.uniform(0, 2 * np.pi)
    strokes = []
    for half in range(2):
        n = 56
        a0 = start + half * np.pi + rng.normal(0, 0.25)
        t = a0 + np.linspace(0, np.pi * rng.uniform(0.95, 1.3), n)
        radius = 1.0 + _wobble(rng, n, 0.09) + np.linspace(0, rng.normal(0, 0.09), n)
        strokes.append(np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None])
    return strokes


def rectangle_strokes(rng, style: str) -> list[np.ndarray]:
    jitter = 0.05 if style == "tidy" else 0.1
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    corners += rng.normal(0, jitter, corners.shape)
    if style == "pencil":  # a slanted parallelogram or a tapering trapezoid
        taper = rng.uniform(-0.35, 0.35) if rng.uniform() < 0.5 else 0.0
        corners[:2, 0] *= 1 - taper
        corners[2:, 0] *= 1 + taper
    corners = np.roll(corners, rng.integers(4), axis=0)
    if style in ("tidy", "pencil"):
        return [_polyline(_close_roughly(corners, rng, (-0.08, 0.12)), rng, 0.04)]
    return _separate_sides(corners, rng)


def triangle_strokes(rng, style: str) -> list[np.ndarray]:
    apex_x = {"tidy": (-0.5, 0.5), "other": (-1.0, 1.0), "pencil": (-1.6, 1.6)}[style]
    apex_x = rng.uniform(*apex_x)
    corners = np.array([[apex_x, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    corners += rng.normal(0, 0.05 if style == "tidy" else 0.1, corners.shape)
    corners = np.roll(corners, rng.integers(3), axis=0)
    if style in ("tidy", "pencil"):
        return [_polyline(_close_roughly(corners, rng, (-0.08, 0.12)), rng, 0.04)]
    return _separate_sides(corners, rng)


def _separate_sides(corners: np.ndarray, rng) -> list[np.ndarray]:
    """Each side its own stroke, overshooting or missing the corners (pen lifts)."""
    strokes = []
    for i in range(len(corners)):
        a, b = corners[i], corners[(i + 1) % len(corners)]
        a = a + (a - b) * rng.uniform(-0.06, 0.12)
        b = b + (b - a) * rng.uniform(-0.06, 0.12)
        strokes.append(_polyline(np.stack([a, b]), rng, 0.07))
    return strokes


DRAW = {"circle": circle_strokes, "rectangle": rectangle_strokes, "triangle": triangle_strokes}


# ------------------------------------------------------------------ placing and drawing


def _transform(rng, style: str, shape: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Size, aspect ratio, slant, rotation and position of one drawing, in pixels."""
    if style == "tidy":
        half_size = rng.uniform(7.0, 9.0)
        aspect = rng.uniform(0.8, 1.25) if shape != "circle" else rng.uniform(0.9, 1.1)
        shear = rng.uniform(-0.08, 0.08)
        angle = rng.uniform(-8, 8)
        room = 11.0 - half_size
        width = rng.uniform(1.4, 2.0)
    elif style == "pencil":
        half_size = rng.uniform(3.0, 8.0)
        aspect = rng.uniform(0.45, 2.2) if shape != "circle" else rng.uniform(0.7, 1.4)
        shear = rng.uniform(-0.5, 0.5)
        angle = rng.uniform(-30, 30) if shape == "rectangle" else rng.uniform(-180, 180)
        room = 10.0 - half_size
        width = 1.0
    else:
        half_size = rng.uniform(5.0, 7.5)
        aspect = rng.uniform(0.65, 1.45)
        shear = rng.uniform(-0.25, 0.25)
        angle = rng.uniform(-180, 180)
        room = 10.5 - half_size
        width = rng.uniform(1.2, 2.2)
    scale = np.diag([half_size * math.sqrt(aspect), half_size / math.sqrt(aspect)])
    slant = np.array([[1.0, shear], [0.0, 1.0]])
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rotate = np.array([[c, -s], [s, c]])
    matrix = rotate @ slant @ scale
    centre = SIZE / 2 + rng.uniform(-room, room, 2) * (0.4 if style == "tidy" else 1.0)
    if style == "pencil":  # keep the whole shape inside the frame
        corners = np.array([[-1.2, -1.2], [1.2, -1.2], [1.2, 1.2], [-1.2, 1.2]]) @ matrix.T
        low, high = 1 - corners.min(0), SIZE - 2 - corners.max(0)
        centre = np.clip(centre, low, np.maximum(low, high))
    return matrix, centre, width


def draw(style: str, shape: str, split: str, index: int) -> Image.Image:
    """One 24x24 RGBA drawing, the same for the same arguments on every run."""
    key = [SEED, list(SETS).index(style), CLASSES.index(shape), ("train", "test").index(split), index]
    rng = np.random.default_rng(key)
    strokes = DRAW[shape](rng, style)
    matrix, centre, width = _transform(rng, style, shape)
    if style == "pencil":
        return _pencil(strokes, matrix, centre, PENCIL_INKS[rng.integers(len(PENCIL_INKS))])
    big = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 255)
    pen = ImageDraw.Draw(big)
    for stroke in strokes:
        xy = (stroke @ matrix.T + centre) * SCALE
        # Keep the whole stroke on the paper, as a person would.
        xy = np.clip(xy, SCALE, (SIZE - 1) * SCALE)
        pen.line([tuple(p) for p in np.round(xy, 2)], fill=0,
                 width=max(1, round(width * SCALE)), joint="curve")
    small = big.resize((SIZE, SIZE), Image.Resampling.BOX)
    rgba = Image.merge("RGBA", (small, small, small, Image.new("L", small.size, 255)))
    return rgba


def _pencil(strokes, matrix, centre, ink) -> Image.Image:
    """A paint program's pencil: one-pixel lines drawn straight at 24x24, no smoothing."""
    image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 255))
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        xy = np.clip(stroke @ matrix.T + centre, 0, SIZE - 1)
        pen.line([tuple(p) for p in np.round(xy, 2)], fill=ink + (255,), width=1)
    return image


def write_set(style: str, root: Path) -> list[Path]:
    folder, splits = SETS[style]
    written = []
    for split, count in splits.items():
        for shape in CLASSES:
            out = root / folder / split / shape
            out.mkdir(parents=True, exist_ok=True)
            for old in out.glob("*.png"):
                old.unlink()
            for index in range(count):
                path = out / f"{shape}_{index + 1:02d}.png"
                draw(style, shape, split, index).save(path, format="PNG")
                written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "data",
                        help="folder to write shapes/, shapes_other_style/ and shapes_pencil/ into")
    args = parser.parse_args(argv)
    for style in SETS:
        paths = write_set(style, args.out)
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()[:12]
        print(f"{SETS[style][0]}: {len(paths)} images (sha256 of all bytes {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
