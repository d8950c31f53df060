"""Benchmark the course on this machine and write figures/benchmark.md.

    python -m tools.bench [--float32 NOTEBOOK ...]   (--float32: only time these in float32)

Runs every lesson as `make run` does and again in float32, as on a laptop without bfloat16 units
(storing each lesson's time, for the README, and each model's training seconds, for
``coursekit.results.float32_train_seconds``), times the quick test suite, and reports each
model's training throughput against the measured float32 and bfloat16 matmul rates."""

import argparse, json, os, platform, subprocess, sys, tempfile, time, timeit
from pathlib import Path

from coursekit import facts
from coursekit.errors import CourseError
from coursekit.paths import COURSE_ROOT
from coursekit.results import FLOAT32_SECONDS, read_results, results_text
from tools import update_readme

FIGURES = COURSE_ROOT / "figures"


def matmul_gflops(dtype: str, size: int = 2048, repeats: int = 30) -> float:
    from coursekit.display import quiet_tensorflow_import
    quiet_tensorflow_import()
    import tensorflow as tf

    a, b = (tf.cast(tf.random.stateless_normal((size, size), seed=(s, 0)), dtype) for s in (1, 2))

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, b) * 1e-3  # kept in range
        return x

    chain(a).numpy()  # trace and warm up
    best = min(timeit.repeat(lambda: chain(a).numpy(), number=1, repeat=3))
    return 2 * size**3 * repeats / best / 1e9


def training_work(entry: dict) -> float:  # GFLOP per image x images x epochs, or 0
    return entry.get("train_gflop_per_sample", 0) * entry.get("train_samples", 0) * entry["epochs"]


def row(*cells) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def report(results: dict, seeds: dict, rates: dict, quick_seconds: float) -> str:
    from coursekit.precision import gpus

    peak, gpu_names = rates["float32"], ", ".join(gpu.name for gpu in gpus())
    lines = [
        "# Benchmark", "", f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{f'GPU: {gpu_names}' if gpu_names else 'no GPU'}. Measured matmul rates (TensorFlow, "
        f"2048x2048, after the notebooks): float32 **{peak:.0f} GFLOP/s**, bfloat16 "
        f"{rates['bfloat16']:.0f} GFLOP/s, {rates['bfloat16'] / peak:.1f}x the float32 rate.", "",
        "## Training, per model (full runs, from figures/results.json)", "",
        row("Model", "Precision", "Epochs", "Train images", "Training work (GFLOP)", "Training s",
            "GFLOP/s", "% of float32 matmul rate", "% of its precision's matmul rate",
            "Test accuracy", "Across seeds (`make seeds`): mean ± sd (floor)"), "|---" * 11 + "|"]
    for model_id, entry in sorted(results.items()):
        work, spread, seconds = training_work(entry), seeds.get(model_id), entry["train_seconds"]
        own_peak = rates.get(entry.get("precision", "").removeprefix("mixed_"))
        percent = lambda of: f"{100 * work / seconds / of:.0f}%" if work and of else ""
        floor = f" (floor: {facts.model(model_id).floor_words})" if spread else ""
        lines.append(row(model_id, entry.get("precision", ""), entry["epochs"],
                         entry.get("train_samples", ""), f"{work:,.0f}" if work else "",
                         f"{seconds:.1f}", f"{work / seconds:.1f}" if work else "", percent(peak),
                         percent(own_peak), f"{entry['test_accuracy']:.4f}",
                         update_readme.across_seeds(spread) + floor))
    trained = {model_id: (training_work(entry), entry["train_seconds"])
               for model_id, entry in sorted(results.items()) if training_work(entry)}
    total_work, total_seconds = map(sum, zip(*trained.values()))
    overall = total_work / total_seconds
    slow = {m: seconds for m, (work, seconds) in trained.items() if work / seconds < peak / 2}
    bound = (f" The models below half that rate ({', '.join(slow)}) took {sum(slow.values()):.0f} "
             f"s on their own: even if every other model trained in no time, the course would "
             f"reach at most {100 * total_work / sum(slow.values()) / peak:.0f}% of the rate."
             if slow else "")
    lines += [row("**all**", "", "", "", f"**{total_work:,.0f}**", f"**{total_seconds:.0f}**",
                  f"**{overall:.1f}**", f"**{100 * overall / peak:.0f}%**", "", "", ""), "",
              "Training work is GFLOP per image (the multiply-adds of Conv2D and Dense layers, x3 "
              "for training) x training images x epochs, over the whole `fit` (validation "
              "included); bfloat16 models can pass 100% of the float32 rate. Small models stay far "
              "below either rate: their layers are too small to keep the matrix units busy, and "
              "dropout, the optimizer's updates, augmentation and validation count no FLOPs here.",
              "", f"At 100% of the float32 rate this training work would take "
                  f"{total_work / peak:.0f} s.{bound}", "",
              f"Quick test suite over the notebooks (`pytest notebooks`, quick mode): "
              f"**{quick_seconds:.0f} s** ({quick_seconds / 60:.1f} min). Each lesson's full run, "
              f"in bfloat16 and in float32: the README's times table."]
    return "\n".join(lines) + "\n"


def time_in_float32(paths: list) -> int:
    """Run lessons with every model in float32, as on a laptop without bfloat16 units; merge
    their times into figures/notebook_times_float32.json and FLOAT32_SECONDS."""
    from tools import run_notebooks
    lessons_file = FIGURES / "notebook_times_float32.json"
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="course-float32-") as out:
            _, report, seconds = run_notebooks.execute(path, figures=Path(out), precision="float32")
        lessons = run_notebooks.merged_times(lessons_file, {path.name: round(seconds, 1)})
        lessons_file.write_text(json.dumps(lessons, indent=2) + "\n")
        FLOAT32_SECONDS.write_bytes(results_text(FLOAT32_SECONDS, {  # merged into the file's
            m: {"train_seconds": e["train_seconds"]} for m, e in report["results"].items()}))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--float32", nargs="+", type=Path, metavar="NOTEBOOK",
                        help="only time these lessons in float32")
    args = parser.parse_args(argv)
    if args.float32:
        return time_in_float32([path.resolve() for path in args.float32])
    from tools import run_notebooks
    try:  # run_notebooks.main returns its failures, so status is set before any CourseError
        if status := run_notebooks.main(["--times", str(FIGURES / "notebook_times.json")]):
            raise CourseError(f"the full run failed (exit {status}, see above)")
        time_in_float32(sorted(run_notebooks.NOTEBOOKS.glob("[0-9]*.ipynb")))
        start = time.perf_counter()
        suite = subprocess.run([sys.executable, "-m", "pytest", "-q", "notebooks"], cwd=COURSE_ROOT)
        if suite.returncode:
            raise CourseError("the quick test suite (`pytest notebooks`) failed (see above)")
        quick_seconds = time.perf_counter() - start
        results, seeds = (read_results(FIGURES / name) for name in ("results.json", "seeds.json"))
        list(map(facts.model, seeds))  # a model course.toml does not know stops here
    except CourseError as error:
        print(f"bench: {str(error).rstrip('.')}; figures/benchmark.md was not written.",
              file=sys.stderr)
        return status or 1  # 130 after a Ctrl-C in the full run
    rates = {dtype: matmul_gflops(dtype) for dtype in ("float32", "bfloat16")}
    text = report(results, seeds, rates, quick_seconds)
    (FIGURES / "benchmark.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
