"""Each model's recorded result (``results.json``), its training work, its floor and its
spread over seeds."""

import json
from pathlib import Path

from . import facts
from .errors import CourseError, DataError
from .paths import COURSE_ROOT

RESULTS_FILE = "results.json"
FLOAT32_SECONDS = COURSE_ROOT / "figures" / "train_seconds_float32.json"  # tools.bench --float32


def read_results(path: Path) -> dict:
    """The entries stored in ``path`` ({model id: entry}), or {} if there is no such file;
    a damaged file (half a merge, a stray edit) stops with the file and how to recover."""
    path = Path(path)
    if not path.exists():
        return {}
    rewrites = "`make seeds`" if path.name == "seeds.json" else "`make run`"
    recover = (f"If it is the course's, restore it with `git checkout -- figures/{path.name}` "
               f"({rewrites} rewrites it from real runs); if it is your own, delete it.")
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


def results_text(path: Path, entries: dict) -> bytes:
    """``path``'s entries with ``entries`` ({model id: entry}) merged in, as file bytes."""
    results = {**read_results(path), **entries}
    return (json.dumps(dict(sorted(results.items())), indent=2) + "\n").encode()


def floor_check(model_id: str, test_accuracy: float, *, quick: bool) -> str:
    """How ``test_accuracy`` compares with the model's floor (``course.toml``), or its
    ``quick_floor`` in a quick run (it learned something); raises when it falls short."""
    model = facts.model(model_id)
    floor = model.quick_floor if quick else model.floor
    if floor is None:
        return f"{model_id}: test accuracy {test_accuracy:.4f} (no floor)"
    words = f"a quick run's floor {floor}" if quick else model.floor_words
    if test_accuracy < floor:
        raise CourseError(f"{model_id}: test accuracy {test_accuracy:.4f} is below {words}: "
                          f"check the recipe.")
    return f"{model_id}: test accuracy {test_accuracy:.4f}, at or above {words}"


def training_flops(model) -> float:
    """Floating-point operations to train on one image: 3x the forward pass (the backward
    pass does twice its work), counting the multiply-adds of Conv2D and Dense layers (2
    FLOPs each), next to which pooling, activations and the optimizer are small."""
    forward = 0
    for layer in getattr(model, "layers", []):
        kind = type(layer).__name__
        if hasattr(layer, "layers"):
            forward += training_flops(layer) / 3
        elif kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            forward += 2 * kh * kw * cin * cout * height * width
        elif kind == "Dense":
            fan_in, fan_out = layer.kernel.shape
            forward += 2 * fan_in * fan_out
    return 3.0 * forward


def across_seeds(model_id: str) -> dict:
    """The model's entry in ``figures/seeds.json`` (``make seeds``): seeds, test_accuracy per
    seed, mean, sd, min; a lesson's prose reads it in a field."""
    entry = read_results(COURSE_ROOT / "figures" / "seeds.json").get(model_id)
    if entry is None:
        raise CourseError(f"figures/seeds.json has no entry for {model_id}: run `make seeds`.")
    return entry


def float32_train_seconds(model_id: str) -> float:
    """The model's training seconds with every layer in float32, as on a laptop without
    bfloat16 units (``python -m tools.bench --float32``); a lesson's prose reads it."""
    from .precision import FORCED
    if FORCED:  # this is such a float32 run: it stores no prose, and its own time is not in yet
        return float("nan")
    entry = read_results(FLOAT32_SECONDS).get(model_id)
    if entry is None:
        raise CourseError(f"{FLOAT32_SECONDS.name} has no entry for {model_id}: run "
                          f"`python -m tools.bench --float32` on its lesson.")
    return entry["train_seconds"]
