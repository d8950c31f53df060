"""Functions the lessons teach, kept here so that later lessons can reuse them.

Each one is written out in full in the lesson that teaches it, where the learner reads
it; a test checks that the lesson's cell and this file say exactly the same. Later
lessons import it from here with a note of where it was taught (the d2l habit).
"""

import matplotlib.pyplot as plt
import numpy as np

from .display import quiet_tensorflow_import

quiet_tensorflow_import()  # batches needs TensorFlow; this keeps its start-up lines out
import tensorflow as tf  # noqa: E402

__all__ = ["plot_history", "batches"]


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


# Taught in lesson 02.
def batches(images, labels, batch_size, shuffle=False, seed=None):
    """A tf.data pipeline of (images, labels) batches, in a new order every epoch if shuffled."""
    images, labels = tf.constant(images), tf.constant(labels)
    order = tf.data.Dataset.range(len(images))
    if shuffle:
        order = order.shuffle(len(images), seed=seed)  # reshuffled at every epoch
    pipeline = order.batch(batch_size).map(lambda i: (tf.gather(images, i), tf.gather(labels, i)))
    options = tf.data.Options()
    options.autotune.enabled = False  # on a 2-core CPU autotuning left one core idle in many epochs
    return pipeline.prefetch(2).with_options(options)
