"""Write the sample images lessons 01 and 03 open, the same bytes on every run:
``COURSE_DATA_DIR=../shared/datasets python tools/make_sample_images.py``.

data/samples/digit_28x28.png is the first MNIST test digit (a 7), 8-bit grey;
data/samples/frog_32x32.png the first frog in CIFAR-10's test set, 8-bit RGB: both are
byte-exact in every copy of the datasets (CIFAR-10's first 1,000 test images even in the
offline rebuild). data/my_digit.png, the "digit from a paint program" lesson 03 classifies,
is drawn deliberately unlike an MNIST digit, so that every preprocessing step in the lesson
has work to do: colour (dark-blue ink on a warm off-white page with a faint gradient), not
square (240 x 180), off-centre, with strokes that wobble like a mouse drawing.
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw

import coursekit

FROG_INDEX = 4  # the first frog (label 6) in CIFAR-10's test set
WIDTH, HEIGHT = 240, 180  # of my_digit.png
INK = (28, 44, 120)  # dark blue
PAPER_TOP, PAPER_BOTTOM = (250, 246, 232), (236, 232, 218)  # a little darker at the bottom
BRUSH = 8  # radius: strokes about 16 px thick


def two(x0: float, y0: float, size: float) -> list[tuple[float, float]]:
    """Centre-line points of a handwritten "2" whose box starts at (x0, y0)."""
    # the top hook: an arc from the upper left, over the top, down the right side
    points = [(x0 + 0.45 * size + 0.36 * size * math.cos(math.radians(200 + 190 * i / 39)),
               y0 + 0.30 * size + 0.28 * size * math.sin(math.radians(200 + 190 * i / 39)))
              for i in range(40)]
    # the diagonal down to the bottom left, then the base, drifting slightly upwards
    xa, ya = points[-1]
    xb, yb = x0 + 0.06 * size, y0 + 0.95 * size
    points += [(xa + (xb - xa) * t / 30, ya + (yb - ya) * t / 30) for t in range(1, 31)]
    points += [(xb + 0.78 * size * t / 25, yb - 0.05 * size * t / 25) for t in range(1, 26)]
    # an unsteady hand: each point shifted a little, smoothly
    return [(x + 2.0 * math.sin(0.21 * i), y + 2.0 * math.cos(0.17 * i))
            for i, (x, y) in enumerate(points)]


def my_digit() -> Image.Image:
    """The "2", two thirds of the page high, left and low, painted by a round brush."""
    page = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(page)
    for y in range(HEIGHT):
        draw.line([(0, y), (WIDTH - 1, y)], fill=tuple(
            round(a + (b - a) * (y / (HEIGHT - 1))) for a, b in zip(PAPER_TOP, PAPER_BOTTOM)))
    points = two(x0=38, y0=30, size=120)
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        steps = max(1, int(math.hypot(xb - xa, yb - ya)))  # a stamp every pixel: no gaps
        for s in range(steps + 1):
            x, y = xa + (xb - xa) * s / steps, ya + (yb - ya) * s / steps
            draw.ellipse([x - BRUSH, y - BRUSH, x + BRUSH, y + BRUSH], fill=INK)
    return page


def main(data: Path = coursekit.paths.COURSE_ROOT / "data") -> None:
    out = data / "samples"
    out.mkdir(parents=True, exist_ok=True)
    _, (digits, _) = coursekit.load_data("mnist")
    Image.fromarray(digits[0], mode="L").save(out / "digit_28x28.png", optimize=True)
    _, (pictures, labels) = coursekit.load_data("cifar10")
    assert labels[FROG_INDEX, 0] == 6, "CIFAR-10 test image 4 should be a frog"
    Image.fromarray(pictures[FROG_INDEX], mode="RGB").save(out / "frog_32x32.png", optimize=True)
    my_digit().save(data / "my_digit.png", optimize=True)
    print(f"wrote {out / 'digit_28x28.png'}, {out / 'frog_32x32.png'}, {data / 'my_digit.png'}")


if __name__ == "__main__":
    main()
