"""Draw lesson 08's hand-drawn-style shapes: ``python tools/make_shapes.py`` rewrites
data/shapes, shapes_other_style and shapes_pencil.

The tutorial's 60 drawings cannot be redistributed, so the course draws its own as people do
with a mouse or a pen: wobbly strokes that do not quite close, drawn 4x larger and averaged
down to 24x24 RGBA. ``tidy`` draws data/shapes like the tutorial (large, centred, upright);
``other`` a test set as someone else would (smaller, off-centre, any turn, pen lifts: did a
model learn "circle" or the tidy circle?); ``pencil`` one-pixel lines (see its README). Each
image is seeded from (SEED, style, shape, split, index): the same bytes on every run, and
changing one set leaves the others as they were.
"""

import hashlib, itertools, math, shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from coursekit.paths import COURSE_ROOT

SEED = 2017  # the year of the tutorial
SIZE = 24  # final image size in pixels
SCALE = 4  # drawn at SIZE*SCALE, then averaged down: smooth, anti-aliased strokes
CLASSES = ("circle", "rectangle", "triangle")
PENCIL_INKS = ((0, 0, 0), (30, 30, 120), (120, 20, 20), (60, 60, 60), (20, 80, 30))
# Each style (in the order the seeds number them): its folder, images per shape in each
# split, and how it places a drawing: (low, high) ranges are drawn from uniformly, in this
# order; room: how far the middle may stray, plus the half size; no width: a 1-pixel pencil.
STYLES = {
    "tidy": dict(folder="shapes", splits={"train": 15, "test": 5}, half_size=(7, 9),
                 aspect=(0.8, 1.25), circle_aspect=(0.9, 1.1), shear=0.08, turn=8,
                 rectangle_turn=8, width=(1.4, 2.0), room=11.0),
    "other": dict(folder="shapes_other_style", splits={"test": 30}, half_size=(5, 7.5),
                  aspect=(0.65, 1.45), circle_aspect=(0.65, 1.45), shear=0.25, turn=180,
                  rectangle_turn=180, width=(1.2, 2.2), room=10.5),
    "pencil": dict(folder="shapes_pencil", splits={"test": 30}, half_size=(3, 8),
                   aspect=(0.45, 2.2), circle_aspect=(0.7, 1.4), shear=0.5, turn=180,
                   rectangle_turn=30, width=None, room=10.0),
}


def _wobble(rng, n: int, amplitude: float, waves: int = 3) -> np.ndarray:
    """A smooth random offset along a stroke of n points: a hand that is not quite steady."""
    t = np.linspace(0.0, 1.0, n)
    return sum(rng.normal(0, amplitude / k) * np.sin(2 * np.pi * k * t + rng.uniform(0, 2 * np.pi))
               for k in range(1, waves + 1))


def _polyline(corners: np.ndarray, rng, wobble: float, points_per_side: int = 24) -> np.ndarray:
    """Walk through the corners in order, with a wobble across each side."""
    pieces = []
    for a, b in zip(corners[:-1], corners[1:]):
        t = np.linspace(0.0, 1.0, points_per_side, endpoint=False)[:, None]
        normal = np.array([-(b - a)[1], (b - a)[0]]) / (np.linalg.norm(b - a) + 1e-9)
        bend = _wobble(rng, points_per_side, wobble, waves=2) * np.sin(np.pi * t[:, 0])
        pieces.append(a + (b - a) * t + bend[:, None] * normal)
    return np.concatenate(pieces + [corners[-1:]])


def _arc(t: np.ndarray, radius: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None]


def circle_strokes(rng, style: str) -> list[np.ndarray]:
    if style == "tidy":
        sweep = 2 * np.pi * rng.uniform(0.88, 1.06)  # does not quite close, or overlaps
        t = rng.uniform(0, 2 * np.pi) + np.linspace(0, sweep, 96)
        return [_arc(t, 1.0 + _wobble(rng, 96, 0.05) + np.linspace(0, rng.normal(0, 0.06), 96))]
    if style == "pencil":  # one stroke, lopsided: an egg or a dented oval
        t = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi * rng.uniform(0.95, 1.08), 96)
        return [_arc(t, 1.0 + _wobble(rng, 96, 0.1) + 0.15 * rng.uniform(-1, 1) * np.cos(t))]
    # Another person: two arcs (pen lifted half-way), lopsided, a spiral drift.
    start, strokes = rng.uniform(0, 2 * np.pi), []
    for half in range(2):
        t = start + half * np.pi + rng.normal(0, 0.25) + np.linspace(
            0, np.pi * rng.uniform(0.95, 1.3), 56)
        radius = 1.0 + _wobble(rng, 56, 0.09) + np.linspace(0, rng.normal(0, 0.09), 56)
        strokes.append(_arc(t, radius))
    return strokes


def polygon_strokes(rng, style: str, shape: str) -> list[np.ndarray]:
    """A rectangle or triangle: one stroke that closes roughly, or (other) one per side."""
    if shape == "triangle":
        apex = {"tidy": 0.5, "other": 1.0, "pencil": 1.6}[style]
        corners = np.array([[rng.uniform(-apex, apex), -1.0], [1.0, 1.0], [-1.0, 1.0]])
    else:
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    corners += rng.normal(0, 0.05 if style == "tidy" else 0.1, corners.shape)
    if style == "pencil" and shape == "rectangle":  # a slanted parallelogram or a trapezoid
        taper = rng.uniform(-0.35, 0.35) if rng.uniform() < 0.5 else 0.0
        corners[:, 0] *= 1 + np.array([-taper, -taper, taper, taper])  # top narrower or wider
    corners = np.roll(corners, rng.integers(len(corners)), axis=0)
    if style != "other":  # back to the first corner, stopping short of it or overshooting
        end = corners[0] + (corners[1] - corners[0]) * rng.uniform(-0.08, 0.12)
        return [_polyline(np.vstack([corners, end]), rng, 0.04)]
    strokes = []  # each side its own stroke, overshooting or missing the corners
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        a = a + (a - b) * rng.uniform(-0.06, 0.12)
        b = b + (b - a) * rng.uniform(-0.06, 0.12)
        strokes.append(_polyline(np.stack([a, b]), rng, 0.07))
    return strokes


def _placing(rng, style: str, shape: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Size, aspect ratio, slant, rotation and position of one drawing, in pixels."""
    look = STYLES[style]
    half_size = rng.uniform(*look["half_size"])
    aspect = rng.uniform(*look["circle_aspect" if shape == "circle" else "aspect"])
    shear = rng.uniform(-look["shear"], look["shear"])
    turn = look["rectangle_turn" if shape == "rectangle" else "turn"]
    angle = math.radians(rng.uniform(-turn, turn))
    width = rng.uniform(*look["width"]) if look["width"] else 1.0
    scale = np.diag([half_size * math.sqrt(aspect), half_size / math.sqrt(aspect)])
    rotate = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = rotate @ np.array([[1.0, shear], [0.0, 1.0]]) @ scale
    room = look["room"] - half_size
    centre = SIZE / 2 + rng.uniform(-room, room, 2) * (0.4 if style == "tidy" else 1.0)
    if style == "pencil":  # keep the whole shape inside the frame
        corners = np.array([[-1.2, -1.2], [1.2, -1.2], [1.2, 1.2], [-1.2, 1.2]]) @ matrix.T
        low, high = 1 - corners.min(0), SIZE - 2 - corners.max(0)
        centre = np.clip(centre, low, np.maximum(low, high))
    return matrix, centre, width


def draw(style: str, shape: str, split: str, index: int) -> Image.Image:
    """One 24x24 RGBA drawing, the same for the same arguments on every run."""
    rng = np.random.default_rng([SEED, list(STYLES).index(style), CLASSES.index(shape),
                                 ("train", "test").index(split), index])
    strokes = (circle_strokes(rng, style) if shape == "circle"
               else polygon_strokes(rng, style, shape))
    matrix, centre, width = _placing(rng, style, shape)
    if style == "pencil":  # one-pixel lines drawn straight at 24x24, no smoothing
        ink = PENCIL_INKS[rng.integers(len(PENCIL_INKS))] + (255,)
        image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 255))
        for stroke in strokes:
            xy = np.clip(stroke @ matrix.T + centre, 0, SIZE - 1)
            ImageDraw.Draw(image).line([tuple(p) for p in np.round(xy, 2)], fill=ink, width=1)
        return image
    big = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 255)
    for stroke in strokes:  # clipped: a person keeps the whole stroke on the paper
        xy = np.clip((stroke @ matrix.T + centre) * SCALE, SCALE, (SIZE - 1) * SCALE)
        ImageDraw.Draw(big).line([tuple(p) for p in np.round(xy, 2)], fill=0,
                                 width=max(1, round(width * SCALE)), joint="curve")
    small = big.resize((SIZE, SIZE), Image.Resampling.BOX)
    return Image.merge("RGBA", (small, small, small, Image.new("L", small.size, 255)))


def main(data: Path = COURSE_ROOT / "data") -> None:
    for style, look in STYLES.items():
        folder, written = look["folder"], []
        for (split, count), shape in itertools.product(look["splits"].items(), CLASSES):
            out = data / folder / split / shape
            shutil.rmtree(out, ignore_errors=True)  # a class folder is rewritten whole
            out.mkdir(parents=True)
            for index in range(count):
                written.append(out / f"{shape}_{index + 1:02d}.png")
                draw(style, shape, split, index).save(written[-1])
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in written)).hexdigest()[:12]
        print(f"{folder}: {len(written)} images (sha256 of all bytes {digest})")


if __name__ == "__main__":
    main()
