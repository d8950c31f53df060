"""Train B1-B7, C1 and D1 with several seeds, fixed in advance.

    python -m tools.seeds [--seeds 1 2 3] [NOTEBOOK ...]

One result on one seed is an anecdote. This runs each lesson that trains a model with
a floor on MNIST, Fashion-MNIST or CIFAR-10 (B1-B7, C1, D1: lessons 02 to 07; the
hand-drawn shapes of lesson 08 are left out) in full mode once per seed, with
``COURSE_SEED`` set, its outputs sent to a temporary folder, and writes
``figures/seeds.json`` (and `make seeds` then the README's "Across seeds" column): for
each model id the seeds, the test accuracy of each, and their mean, standard deviation
and minimum. The default seeds, 1, 2 and 3, were fixed before any result was seen and
are the same for every lesson (a lesson's own seed may be one of them: lesson 04's is
1). By default it runs lessons 02 to 07 in full three times (`make seeds`, in the
background; it is not part of `make test`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursekit.errors import CourseError
from coursekit.facts import MODELS
from coursekit.outputs import atomic_write_bytes
from coursekit.results import read_results

REPO = Path(__file__).resolve().parent.parent
SEEDS_FILE = REPO / "figures" / "seeds.json"
SEEDS = (1, 2, 3)
FLOOR_MODELS = [model for model in MODELS.values() if model.floor is not None
                and model.dataset != "hand-drawn shapes"]


def run_with_seed(path: Path, seed: int, output_dir: Path) -> dict:
    """Execute ``path`` in full mode with ``seed``; return the results it recorded."""
    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(COURSE_QUICK="0", COURSE_SEED=str(seed),
                      COURSE_OUTPUT_DIR=str(output_dir))
    os.environ.pop("COURSE_STRICT_FLOORS", None)  # a seed under the floor is a finding
    try:
        NotebookClient(nb, timeout=None, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return read_results(output_dir / "results.json")


def summary(accuracies: list[float]) -> dict:
    return {"mean": round(statistics.fmean(accuracies), 4),
            "sd": round(statistics.stdev(accuracies), 4) if len(accuracies) > 1 else 0.0,
            "min": round(min(accuracies), 4)}


def main(argv=None) -> int:
    try:
        return run(argv)
    except CourseError as error:
        print(f"seeds: {error}", file=sys.stderr)
        return 1


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: every lesson that trains a floor model")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    args = parser.parse_args(argv)
    lessons = sorted({model.lesson for model in FLOOR_MODELS})
    paths = [p.resolve() for p in args.notebooks] or [REPO / "notebooks" / n for n in lessons]
    recorded: dict = {}
    for path in paths:
        accuracies: dict[str, list[float]] = {}
        for seed in args.seeds:
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="course-seed-") as out:
                results = run_with_seed(path, seed, Path(out))
            for model in FLOOR_MODELS:
                if model.id in results:
                    accuracies.setdefault(model.id, []).append(results[model.id]["test_accuracy"])
            print(f"{path.name}, seed {seed}: "
                  + ", ".join(f"{m} {a[-1]:.4f}" for m, a in accuracies.items())
                  + f" ({time.perf_counter() - start:.0f} s)", flush=True)
        # read just before writing: another `tools.seeds` may have written other lessons
        recorded = read_results(SEEDS_FILE)
        for model_id, values in accuracies.items():
            recorded[model_id] = {"seeds": list(args.seeds), "test_accuracy": values,
                                  **summary(values), "floor": MODELS[model_id].floor}
        # after each lesson, so that a stop keeps what finished
        text = json.dumps(dict(sorted(recorded.items())), indent=2) + "\n"
        atomic_write_bytes(SEEDS_FILE, text.encode())
    for model_id, entry in sorted(recorded.items()):
        verdict = "meets" if entry["mean"] >= entry["floor"] else "MISSES"
        print(f"{model_id}: mean {entry['mean']:.4f} ± {entry['sd']:.4f} (min {entry['min']:.4f}) "
              f"{verdict} the floor {entry['floor']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
