"""Functions the lessons teach, kept here so that later lessons can reuse them.

Each one is written out in full in the lesson that teaches it, where the learner reads
it; a test checks that the lesson's cell and this file say exactly the same. Later
lessons import it from here with a note of where it was taught (the d2l habit).
"""

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_history"]


# Taught in lesson 02.
def plot_history(history, title):
    """Accuracy and loss per epoch from ``model.fit``, training beside validation."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
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
