"""Runs are reproducible, and an interrupted run never damages what is committed."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

import coursekit
from tools import run_notebooks

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # trains and starts Jupyter kernels


def train_tiny_cnn(seed: int):
    """One epoch of a small CNN on fixed random data, as the lessons seed it."""
    coursekit.quiet_tensorflow_import()
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    data = np.random.default_rng(0)
    x = data.random((256, 12, 12, 1), dtype=np.float32)
    y = data.integers(0, 3, 256)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((12, 12, 1)),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.25, shuffle=True,
                        verbose=0)
    return model.get_weights(), history.history


def test_same_seed_same_weights_and_metrics():
    weights_a, history_a = train_tiny_cnn(seed=7)
    weights_b, history_b = train_tiny_cnn(seed=7)
    assert history_a == history_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    weights_c, _ = train_tiny_cnn(seed=8)
    assert any(not np.array_equal(a, c) for a, c in zip(weights_a, weights_c))


def notebook_with(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_failing_run_leaves_the_notebook_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    path = notebook_with(tmp_path, "print('first cell ran')", "raise RuntimeError('stopped')")
    before = path.read_bytes()
    with pytest.raises(Exception, match="stopped"):
        run_notebooks.execute(path, quick=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.ipynb"]


def test_a_full_run_stores_outputs_and_the_code_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    path = notebook_with(tmp_path, "import os\nprint(os.environ['COURSE_QUICK'])")
    run_notebooks.execute(path, quick=False)
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].outputs[0].text == "0\n"
    assert nb.metadata.course == {"code_sha256": run_notebooks.code_sha256(nb), "quick_mode": False}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.ipynb"]
