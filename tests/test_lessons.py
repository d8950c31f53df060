"""A function a lesson teaches is the very function later lessons import."""

import inspect
import re
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf

from coursekit import lessons

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TAUGHT_IN = {"plot_history": "02_mnist_mlp.ipynb", "batches": "02_mnist_mlp.ipynb"}


@pytest.mark.parametrize("name", lessons.__all__)
def test_lesson_and_package_define_the_same_function(name):
    assert name in TAUGHT_IN, f"say which lesson teaches coursekit.lessons.{name}"
    nb = nbformat.read(NOTEBOOKS / TAUGHT_IN[name], as_version=4)
    cells = [c.source.strip() for c in nb.cells
             if c.cell_type == "code" and c.source.lstrip().startswith(f"def {name}(")]
    assert cells, f"{TAUGHT_IN[name]} has no cell that starts with 'def {name}('"
    assert cells[0] == inspect.getsource(getattr(lessons, name)).strip(), (
        f"{TAUGHT_IN[name]}'s {name} and coursekit/lessons.py differ: copy the lesson's cell "
        f"into the package (the lesson is where the learner reads it)")
    source = inspect.getsource(lessons)
    assert f"# Taught in lesson {TAUGHT_IN[name][:2]}.\ndef {name}(" in source


def test_later_lessons_import_it_instead_of_writing_it_again():
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for name, lesson in TAUGHT_IN.items():
            if path.name != lesson:
                assert f"def {name}(" not in code, f"{path.name} writes {name} again"
            if path.name > lesson and f"{name}(" in code:
                imports = re.findall(r"^from coursekit\.lessons import (.+?)(?:  #.*)?$", code, re.MULTILINE)
                assert name in {n.strip() for line in imports for n in line.split(",")}, \
                    f"{path.name} uses {name} without importing it from coursekit.lessons"


def batch_orders(feed, seed=9, epochs=3):
    """The labels of the first batch ``fit`` trains on in each epoch, for a run seeded as
    the lessons seed theirs; ``feed`` is "arrays" (fit's own shuffling) or "batches"."""
    first_batches = []

    class Recorder(keras.Model):  # records the batches instead of training on them
        def train_step(self, data):
            tf.py_function(lambda y: first_batches.append(y.numpy().astype(int).tolist()) or 0.0,
                           [data[1]], tf.float32)
            return {"loss": tf.constant(0.0)}

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((1,))
    model = Recorder(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.arange(20, dtype="float32").reshape(20, 1), np.arange(20, dtype="float32")
    batch_size = 5
    if feed == "arrays":
        model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    else:
        model.fit(lessons.batches(x, y, batch_size, shuffle=True, seed=seed), epochs=epochs,
                  shuffle=False, verbose=0)
    return first_batches[::len(x) // batch_size]


def test_batches_draws_a_new_order_every_epoch_and_the_same_orders_every_run():
    orders = batch_orders("batches")
    assert len({tuple(order) for order in orders}) == 3, orders
    assert batch_orders("batches") == orders
    assert batch_orders("batches", seed=1) != orders


def test_fit_on_arrays_repeats_its_order_when_the_seed_is_fixed():
    """What lessons 02, 03, 04, 05 and 07 tell the learner about Keras 3's own shuffling.
    If this fails, Keras has changed: update those lessons' prose."""
    orders = batch_orders("arrays")
    assert orders[0] == orders[1] == orders[2], orders
    assert sorted(orders[0]) != orders[0]  # shuffled, only not anew
