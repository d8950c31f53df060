"""Each model's result: compared with its tutorial, and stored in ``results.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import facts
from .datasets import loaded_from
from .errors import CourseError, DataError
from .outputs import _FIGURES_DIR, atomic_write_bytes, output_dir
from .settings import STRICT_ENV, quick_mode

__all__ = ["RESULTS_FILE", "STRICT_ENV", "compare_with_tutorial", "record_result",
           "read_results", "merge_results"]

RESULTS_FILE = "results.json"
# STRICT_ENV is set by tools/run_notebooks.py for the reference full run: there a result
# under the model's floor is a failure. Anywhere else it is reported and the lesson
# goes on.


# The committed files that map each model id to an entry, and what rewrites each.
_COMMITTED_TABLES = {RESULTS_FILE: "`make run`", "seeds.json": "`make seeds`"}


def read_results(path: Path) -> dict:
    """The entries stored in ``path`` ({model id: entry}), or {} if there is no such file.

    ``path`` is a ``results.json`` or the committed ``figures/seeds.json``. A damaged
    file (half a merge, a stray edit) stops with the file and how to recover; a lesson
    reads its results file at Setup (:func:`coursekit.check_settings`), before any
    training.
    """
    path = Path(path)
    if not path.exists():
        return {}
    committed = (path.name in _COMMITTED_TABLES
                 and path.resolve() == (_FIGURES_DIR / path.name).resolve())
    recover = (f"Restore the committed copy with `git checkout -- figures/{path.name}` "
               f"({_COMMITTED_TABLES[path.name]} rewrites it from real runs)." if committed else
               "Delete it: it holds only your own runs' results, and each lesson records "
               "its models again when it runs.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path} cannot be read ({error}). {recover}") from error
    if any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines()):
        raise DataError(f"{path} holds git merge-conflict markers (<<<<<<< ... >>>>>>>), so "
                        f"it is not JSON. {recover}")
    try:
        results = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error}). {recover}") from error
    if not isinstance(results, dict) or not all(isinstance(v, dict) for v in results.values()):
        raise DataError(f"{path} should map each model id to its result "
                        f'({{"B1": {{...}}, ...}}). {recover}')
    return results


def merge_results(path: Path, entries: dict) -> None:
    """Store ``entries`` ({model id: entry}) in ``path``, keeping the other models'."""
    results = read_results(path)
    results.update(entries)
    text = json.dumps(dict(sorted(results.items())), indent=2) + "\n"
    atomic_write_bytes(Path(path), text.encode())


def compare_with_tutorial(model_id: str, test_accuracy: float, *, same_data: bool = True) -> None:
    """Print how ``test_accuracy`` compares with the model's floor, and check it.

    The floor is the tutorial's published number, or the course's own target where the
    tutorial published none (``floor_source`` in ``course.toml``), and
    the line says which. A quick run must show that the model learned something (its
    ``quick_floor``). A full run below the floor says so plainly and goes on, except in
    the reference run (``COURSE_STRICT_FLOORS=1``), where it stops. ``same_data=False``
    (a learner's own images) compares with nothing.
    """
    model = facts.model(model_id)
    if quick_mode():
        print(f"{model_id}: test accuracy {test_accuracy:.4f} (quick run: a small slice, "
              f"so no comparison with the tutorial)")
        if test_accuracy < model.quick_floor:
            raise CourseError(f"{model_id}: test accuracy {test_accuracy:.4f} is below "
                              f"{model.quick_floor} even for a quick run: it did not learn.")
        return
    if model.floor is None or not same_data:
        print(f"{model_id}: test accuracy {test_accuracy:.4f}")
        return
    margin = test_accuracy - model.floor
    if margin >= 0:
        print(f"{model_id}: test accuracy {test_accuracy:.4f}, at or above "
              f"{model.floor_words} (by {margin:.4f})")
        return
    message = (f"{model_id}: test accuracy {test_accuracy:.4f}, below {model.floor_words} "
               f"by {-margin:.4f}")
    if os.environ.get(STRICT_ENV) == "1":
        raise CourseError(message + ". The reference run must reach it: check the recipe.")
    print(message + ". Another machine, library version or seed can land a little "
          "either side; the lesson goes on.")


def record_result(model_id: str, *, epochs: int, batch_size: int, train_seconds: float,
                  test_accuracy: float, test_loss: float, keras_model=None,
                  train_samples: int | None = None, **extra) -> dict:
    """Store one model's result in ``results.json`` (merged by model id) and return it.

    The model's title, dataset and tutorial figure come from ``course.toml``; the data
    source (official files, local rebuild, download) from what :func:`load_data` saw in
    this process. Given the model, its precision policy is stored; given also the number
    of training images, the training work and throughput (see :func:`_training_flops`).
    """
    model = facts.model(model_id)
    data_source = extra.pop("data_source", "")  # the caller's word, if load_data saw nothing
    policy = getattr(keras_model, "dtype_policy", None)
    if policy is not None:  # the number format it trained in, which sets its speed
        extra.setdefault("precision", policy.name)
    if keras_model is not None and train_samples:
        samples_per_s = train_samples * epochs / train_seconds
        flops = _training_flops(keras_model)
        extra.update(train_samples=int(train_samples), samples_per_s=round(samples_per_s, 1),
                     train_gflop_per_sample=round(flops / 1e9, 5),
                     train_gflop_per_s=round(flops * samples_per_s / 1e9, 2))
    entry = {
        "dataset": model.dataset,
        "data_source": loaded_from(model.dataset) or data_source,
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "train_seconds": round(float(train_seconds), 1),
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "quick_mode": quick_mode(),
        **extra,
    }
    merge_results(output_dir() / RESULTS_FILE, {model_id: entry})
    return entry


def _training_flops(model) -> float:
    """Floating-point operations to train on one image: about 3x the forward pass.

    The forward pass counts the multiply-adds of Conv2D and Dense layers (2 FLOPs
    each); pooling, activations and the optimizer are small next to them. Training
    adds the two backward products of each layer, hence the usual factor of 3.
    """
    forward = 0
    for layer in getattr(model, "layers", []):
        kind = type(layer).__name__
        if hasattr(layer, "layers"):
            forward += _training_flops(layer) / 3
        elif kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            forward += 2 * kh * kw * cin * cout * height * width
        elif kind == "Dense":
            fan_in, fan_out = layer.kernel.shape
            forward += 2 * fan_in * fan_out
    return 3.0 * forward
