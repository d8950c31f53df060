"""Train B1-B7, C1 and D1 with several seeds, fixed in advance.

    python -m tools.seeds [--seeds 1 2 3] [--set NAME=VALUE ...] [--out FILE] [NOTEBOOK ...]

One result on one seed is an anecdote. This runs each lesson that trains a model with
a floor on MNIST, Fashion-MNIST or CIFAR-10 (lessons 02 to 07; the hand-drawn shapes of
lesson 08 are left out) in full up to its Solutions, once per seed, with ``SEED`` set in
its parameters cell, nothing stored, and writes ``figures/seeds.json`` (and `make seeds` then the
README's "Across seeds" column): for each model id the seeds, the test accuracy (and
last validation accuracy) of each, and their mean, standard deviation and minimum. The
default seeds, 1, 2 and 3, were fixed before any result was seen. ``--set`` runs a
candidate recipe (a parameters-cell setting) and ``--out`` writes its results elsewhere:
recipes are chosen on the mean validation accuracy of such runs (CONTRIBUTING).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from coursekit.errors import CourseError
from coursekit.facts import MODELS
from coursekit.outputs import atomic_write_bytes
from coursekit.paths import COURSE_ROOT
from coursekit.results import read_results
from tools import run_notebooks

SEEDS_FILE = COURSE_ROOT / "figures" / "seeds.json"
SEEDS = (1, 2, 3)
FLOOR_MODELS = [model for model in MODELS.values() if model.floor is not None
                and model.dataset != "hand-drawn shapes"]


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
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        type=run_notebooks.parse_setting, metavar="NAME=VALUE")
    parser.add_argument("--out", type=Path, default=SEEDS_FILE)
    args = parser.parse_args(argv)
    lessons = sorted({model.lesson for model in FLOOR_MODELS})
    paths = [p.resolve() for p in args.notebooks] or [COURSE_ROOT / "notebooks" / n for n in lessons]
    recorded: dict = {}
    for path in paths:
        runs: dict[str, list[dict]] = {}
        for seed in args.seeds:
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="course-seed-") as out:
                settings = {**dict(args.settings), "SEED": seed}
                _, report, _ = run_notebooks.execute(path, parameters=settings,
                                                     figures=Path(out), solutions=False)
            for model_id, entry in report["results"].items():
                if model_id in {m.id for m in FLOOR_MODELS}:
                    runs.setdefault(model_id, []).append(entry)
            print(f"{path.name}, seed {seed}: "
                  + ", ".join(f"{m} validation {r[-1]['val_accuracy']:.4f}" for m, r in runs.items())
                  + f" ({time.perf_counter() - start:.0f} s)", flush=True)
        # read just before writing: another `tools.seeds` may have written other lessons
        recorded = read_results(args.out)
        for model_id, entries in runs.items():
            accuracies = [entry["test_accuracy"] for entry in entries]
            recorded[model_id] = {"seeds": list(args.seeds), "test_accuracy": accuracies,
                                  "val_accuracy": [entry.get("val_accuracy") for entry in entries],
                                  **summary(accuracies), "floor": MODELS[model_id].floor,
                                  **({"settings": dict(args.settings)} if args.settings else {})}
        # after each lesson, so that a stop keeps what finished
        text = json.dumps(dict(sorted(recorded.items())), indent=2) + "\n"
        atomic_write_bytes(args.out, text.encode())
    if args.settings:  # a candidate: chosen on validation, so its test numbers stay unread
        return 0
    for model_id, entry in sorted(recorded.items()):
        verdict = "meets" if entry["mean"] >= entry["floor"] else "MISSES"
        print(f"{model_id}: mean {entry['mean']:.4f} ± {entry['sd']:.4f} (min {entry['min']:.4f}) "
              f"{verdict} the floor {entry['floor']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
