"""Train B1-B7, C1 and D1 with several seeds, fixed in advance.

    python -m tools.seeds [--seeds 1 2 3] [--set NAME=VALUE ...] [--out FILE] [NOTEBOOK ...]

Runs lessons 02-07 in full up to their Solutions once per seed (``SEED`` in the parameters cell)
into ``figures/seeds.json`` only: per floor model, each seed's test and last validation accuracy
and the test accuracies' mean, sd and minimum. Seeds 1-3 were fixed before any result was seen.
``--set`` runs a candidate recipe (``--out``: elsewhere), chosen on validation: no test numbers."""

import argparse, statistics, sys, tempfile
from pathlib import Path

from coursekit.errors import CourseError
from coursekit.facts import MODELS
from coursekit.outputs import atomic_write_bytes
from coursekit.paths import COURSE_ROOT
from coursekit.results import read_results, results_text
from tools import run_notebooks

SEEDS_FILE = COURSE_ROOT / "figures" / "seeds.json"
FLOOR_MODELS = {model.id: model for model in MODELS.values()
                if model.floor is not None and model.dataset != "hand-drawn shapes"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons 02-07")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        type=run_notebooks.parse_setting, help="a candidate recipe's setting")
    parser.add_argument("--out", type=Path, default=SEEDS_FILE)
    args = parser.parse_args(argv)
    settings = dict(args.settings)
    lessons = sorted({model.lesson for model in FLOOR_MODELS.values()})
    paths = args.notebooks or [COURSE_ROOT / "notebooks" / lesson for lesson in lessons]
    try:
        for path in map(Path.resolve, paths):
            runs: dict[str, list[dict]] = {}
            for seed in args.seeds:
                with tempfile.TemporaryDirectory(prefix="course-seed-") as out:
                    _, report, seconds = run_notebooks.execute(
                        path, parameters={**settings, "SEED": seed}, figures=Path(out),
                        solutions=False)
                for model_id, entry in report["results"].items():
                    if model_id in FLOOR_MODELS:
                        runs.setdefault(model_id, []).append(entry)
                print(f"{path.name}, seed {seed}: " + ", ".join(
                    f"{m} validation {r[-1]['val_accuracy']:.4f}" for m, r in runs.items())
                    + f" ({seconds:.0f} s)", flush=True)
            spreads = {}
            for model_id, entries in runs.items():
                accuracies = [entry["test_accuracy"] for entry in entries]
                spreads[model_id] = {
                    "seeds": args.seeds, "test_accuracy": accuracies,
                    "val_accuracy": [entry["val_accuracy"] for entry in entries],
                    "mean": round(statistics.fmean(accuracies), 4),
                    "sd": round(statistics.stdev(accuracies), 4) if len(accuracies) > 1 else 0.0,
                    "min": round(min(accuracies), 4), "floor": FLOOR_MODELS[model_id].floor,
                    **({"settings": settings} if settings else {})}
            # merged into what the file holds now (another `tools.seeds` may have written other
            # lessons) after each lesson, so that a stop keeps what finished
            atomic_write_bytes(args.out, results_text(args.out, spreads))
        recorded = read_results(args.out)
    except CourseError as error:
        print(f"seeds: {error}", file=sys.stderr)
        return 1
    if settings:  # a candidate is chosen on validation: its test numbers stay unread
        return 0
    for model_id, entry in sorted(recorded.items()):
        verdict = "meets" if entry["mean"] >= entry["floor"] else "MISSES"
        print(f"{model_id}: mean {entry['mean']:.4f} ± {entry['sd']:.4f} (min {entry['min']:.4f}) "
              f"{verdict} the floor {entry['floor']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
