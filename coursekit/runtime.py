"""What the course's runner (and its tests) set up inside a lesson's kernel, out of sight:
:func:`start` runs before the lesson's first cell and :func:`report` prints after its last;
a learner's own run calls neither."""

import json
import math
import time

from . import facts
from .datasets import loaded_from
from .display import quiet_tensorflow_import
from .outputs import use_output_folder
from .precision import FORCED
from .results import floor_check, training_flops

REPORT_MARK = "course-report:"
FIT_SECONDS: dict[int, float] = {}  # id(model) -> seconds spent in its fit calls


def start(figures: str, models: str | None = None, precision: str | None = None) -> None:
    """Quiet TensorFlow, choose the output folders, make runs repeatable, time every fit;
    ``precision`` ("float32") overrides what ``coursekit.choose_precision`` would pick."""
    quiet_tensorflow_import()
    if precision:
        FORCED["policy"] = precision
    import keras
    import tensorflow as tf

    use_output_folder(figures, models)
    tf.config.experimental.enable_op_determinism()  # same seed, same numbers
    fit = keras.Model.fit

    def timed_fit(self, *args, **kwargs):
        begin = time.perf_counter()
        try:
            return fit(self, *args, **kwargs)
        finally:
            FIT_SECONDS[id(self)] = FIT_SECONDS.get(id(self), 0.0) + time.perf_counter() - begin

    keras.Model.fit = timed_fit


def report(specs: dict, namespace: dict, prose: dict, quick: bool) -> str:
    """The lesson's results (``specs``: metadata ``course.results``, CONTRIBUTING) and prose
    values as one line of JSON for the runner; in a quick run each must reach its quick floor."""
    results = {}
    for model_id, spec in specs.items():
        values = {name: eval(expression, namespace) for name, expression in spec.items()}
        keras_model = values.pop("model", None)
        dataset = facts.model(model_id).dataset
        entry = {"dataset": dataset, "data_source": loaded_from(dataset)}
        entry.update((name, _plain(value)) for name, value in values.items())
        if keras_model is not None:
            entry["precision"] = keras_model.dtype_policy.name
            entry.setdefault("train_seconds", round(FIT_SECONDS.get(id(keras_model), 0.0), 1))
            if entry.get("train_samples") and entry["train_seconds"]:
                samples_per_s = entry["train_samples"] * entry["epochs"] / entry["train_seconds"]
                flops = training_flops(keras_model)
                entry.update(samples_per_s=round(samples_per_s, 1),
                             train_gflop_per_sample=round(flops / 1e9, 5),
                             train_gflop_per_s=round(flops * samples_per_s / 1e9, 2))
        if quick:
            floor_check(model_id, entry["test_accuracy"], quick=True)
        results[model_id] = entry
    return REPORT_MARK + json.dumps({"results": results, "prose": prose})


def _plain(value):
    """A number fit for JSON: 4 decimals for fractions, None for NaN."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value
