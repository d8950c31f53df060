"""Functions a lesson teaches, for later lessons to import; each is copied verbatim from
the lesson's cell, where the learner reads it (tests/test_lessons.py keeps them equal)."""

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

__all__ = ["plot_history", "prepare_drawing"]


# Taught in lesson 02.
def plot_history(history, title):
    """Accuracy and loss per epoch from ``model.fit``, training beside validation."""
    fig, axes = plt.subplots(1, 2, figsize=(8.8, 3.6))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for ax, metric in zip(axes, ["accuracy", "loss"]):
        ax.plot(epochs, history.history[metric], "o-", label="training")
        if "val_" + metric in history.history:
            ax.plot(epochs, history.history["val_" + metric], "s--", label="validation")
        ax.set(title=f"{title}: {metric}", xlabel="epoch", ylabel=metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    return fig


# Taught in lesson 03.
def prepare_drawing(image, size=28, margin=4, name="the image"):
    steps = {"original": image}
    if "A" in image.getbands() or image.mode == "P":  # lay transparency on white
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    grey = np.asarray(image.convert("L"), dtype="float32")  # 0 = black ... 255 = white
    steps["1 grey"] = grey
    page = np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]))
    if page > 127:  # light page, dark ink: flip
        grey, page = 255 - grey, 255 - page
    ink = np.clip(grey - page, 0, None)  # the page becomes exactly 0
    steps["2 white on black"] = ink
    if ink.max() < 40:
        raise ValueError(f"{name}: no ink found, the picture is (almost) one flat "
                         f"colour. Draw in a colour that stands out from the "
                         f"background, with thick strokes.")
    rows, cols = np.nonzero(ink > 0.2 * ink.max())
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    side = max(ink.shape)
    square = np.zeros((side, side), dtype="float32")
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    steps["3 square"] = square
    inner = size - 2 * margin  # the drawing's side inside the margin
    small = Image.fromarray(np.uint8(255 * square / square.max()))
    small = small.resize((inner, inner), Image.LANCZOS)
    drawing = np.zeros((size, size), dtype="float32")
    drawing[margin:margin + inner, margin:margin + inner] = np.asarray(small)
    steps[f"4 {size}x{size}"] = drawing
    drawing = drawing / drawing.max()
    steps["5 scaled"] = drawing
    return drawing, steps
