"""Draw the course's example "digit from a paint program": data/my_digit.png.

    python tools/make_my_digit.py

Lesson 03 classifies this file with a trained MNIST model. It is deliberately unlike an
MNIST digit, so that every preprocessing step in the lesson has work to do: colour
(dark-blue ink on a warm off-white page with a faint gradient), not square (240 x 180),
off-centre, with strokes that wobble like a mouse drawing. The same bytes on every run.
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw
from coursekit.paths import COURSE_ROOT

WIDTH, HEIGHT = 240, 180
INK = (28, 44, 120)                                # dark blue
PAPER_TOP, PAPER_BOTTOM = (250, 246, 232), (236, 232, 218)  # a little darker at the bottom
BRUSH = 8                                          # radius: strokes about 16 px thick


def two(x0: float, y0: float, size: float):
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


def main(data: Path = COURSE_ROOT / "data") -> None:
    output = data / "my_digit.png"
    page = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(page)
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        draw.line([(0, y), (WIDTH - 1, y)],
                  fill=tuple(round(a + (b - a) * t) for a, b in zip(PAPER_TOP, PAPER_BOTTOM)))
    # Off-centre (left and low), about two thirds of the page high; a round brush painted
    # along the points with no gaps between them.
    points = two(x0=38, y0=30, size=120)
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        steps = max(1, int(math.hypot(xb - xa, yb - ya)))
        for s in range(steps + 1):
            x, y = xa + (xb - xa) * s / steps, ya + (yb - ya) * s / steps
            draw.ellipse([x - BRUSH, y - BRUSH, x + BRUSH, y + BRUSH], fill=INK)
    page.save(output, format="PNG", optimize=True)
    print(f"wrote {output} ({WIDTH}x{HEIGHT})")


if __name__ == "__main__":
    main()
