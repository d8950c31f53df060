"""Benchmark the course on this machine and write figures/benchmark.md.

    python -m tools.bench [--skip-full] [--skip-quick]
    python -m tools.bench --float32 NOTEBOOK ...   # only time these lessons in float32

Runs every notebook in full (as `make run` does) and again in float32 (as on a laptop without
bfloat16 units), times the quick test suite, and reports each model's training throughput
against the float32 and bfloat16 matmul rates, measured before and after the notebooks.
The float32 runs store each lesson's time and each model's training seconds (which lesson 03
quotes beside its bfloat16 time through ``coursekit.results.float32_train_seconds``).
"""

import argparse, json, os, platform, subprocess, sys, tempfile, time, timeit
from pathlib import Path

from coursekit import facts
from coursekit.errors import CourseError
from coursekit.paths import COURSE_ROOT
from coursekit.results import FLOAT32_SECONDS, read_results
from tools.update_readme import across_seeds

DTYPES = ("float32", "bfloat16")
FIGURES = COURSE_ROOT / "figures"


def matmul_gflops(dtype: str, size: int = 2048, repeats: int = 30) -> float:
    from coursekit.display import quiet_tensorflow_import
    quiet_tensorflow_import()
    import tensorflow as tf

    a, b = (tf.cast(tf.random.stateless_normal((size, size), seed=(s, 0)), dtype) for s in (1, 2))
    scale = tf.constant(1e-3, dtype)

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, b) * scale
        return x

    chain(a).numpy()  # trace and warm up
    best = min(timeit.repeat(lambda: chain(a).numpy(), number=1, repeat=3))
    return 2 * size**3 * repeats / best / 1e9


def training_work(entry: dict) -> float:  # GFLOP per image x images x epochs, or 0
    return entry.get("train_gflop_per_sample", 0) * entry.get("train_samples", 0) * entry["epochs"]


def time_quick_suite() -> float:
    start = time.perf_counter()
    suite = subprocess.run([sys.executable, "-m", "pytest", "-q", "notebooks"], cwd=COURSE_ROOT)
    if suite.returncode:
        raise CourseError("the quick test suite failed (see above); fix it, or bench with "
                          "--skip-quick")
    return time.perf_counter() - start


def row(*cells) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def report(results: dict, seeds: dict, notebook_times: dict, float32: dict,
           rates_before: dict, rates_after: dict, quick_seconds: float | None) -> str:
    """benchmark.md; ``rates_before`` is {} when the notebooks did not run in this bench."""
    from coursekit.precision import gpus

    rates = {dtype: (rates_before.get(dtype, rate) + rate) / 2  # the mean if measured twice
             for dtype, rate in rates_after.items()}
    peak, gpu_names = rates["float32"], ", ".join(gpu.name for gpu in gpus())
    ends = {dtype: f" ({rates_before[dtype]:.0f} before the notebooks, {rates_after[dtype]:.0f} "
                   f"after)" if rates_before else "" for dtype in DTYPES}
    lines = [
        "# Benchmark", "", f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{f'GPU: {gpu_names}' if gpu_names else 'no GPU'}. Measured matmul rates (TensorFlow, "
        f"2048x2048{'' if rates_before else ', once: this bench reused the last full run'}): "
        f"float32 **{peak:.0f} GFLOP/s**{ends['float32']}, bfloat16 {rates['bfloat16']:.0f} "
        f"GFLOP/s{ends['bfloat16']}, {rates['bfloat16'] / peak:.1f}x the float32 rate.", "",
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
                         across_seeds(spread) + floor))
    trained = {model_id: entry for model_id, entry in sorted(results.items())
               if training_work(entry)}
    total_work = sum(map(training_work, trained.values()))
    total_seconds = sum(entry["train_seconds"] for entry in trained.values())
    overall = total_work / total_seconds
    slow = {model_id: entry["train_seconds"] for model_id, entry in trained.items()
            if training_work(entry) / entry["train_seconds"] < peak / 2}
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
              "## Whole notebooks (wall time, kernel start-up included)", "",
              "| Notebook | Full run (s) | In float32, as on a laptop without bfloat16 units (s) |",
              "|---|---|---|"]
    lines += [row(name, f"{seconds:.0f}", f"{float32.get(name, float('nan')):.0f}")
              for name, seconds in notebook_times.items()]
    full, in_float32 = sum(notebook_times.values()), sum(float32.values())
    lines.append(row(f"**all {len(notebook_times)}**", f"**{full:.0f}** ({full / 60:.1f} min)",
                     f"**{in_float32:.0f}** ({in_float32 / 60:.1f} min)"))
    if quick_seconds is not None:
        lines += ["", f"Quick test suite over the notebooks (`pytest notebooks`, quick mode): "
                      f"**{quick_seconds:.0f} s** ({quick_seconds / 60:.1f} min)."]
    return "\n".join(lines) + "\n"


def time_in_float32(paths: list) -> int:
    """Run lessons with every model in float32, as on a laptop without bfloat16 units; merge
    their times into figures/notebook_times_float32.json and FLOAT32_SECONDS."""
    from tools import run_notebooks
    lessons_file = FIGURES / "notebook_times_float32.json"
    lessons = json.loads(lessons_file.read_text()) if lessons_file.is_file() else {}
    models = read_results(FLOAT32_SECONDS)
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="course-float32-") as out:
            _, report, seconds = run_notebooks.execute(path, figures=Path(out), precision="float32")
        lessons[path.name] = round(seconds, 1)
        models.update({model: {"train_seconds": entry["train_seconds"]}
                       for model, entry in report["results"].items()})
        for file, times in ((lessons_file, lessons), (FLOAT32_SECONDS, models)):
            file.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="reuse `make run`'s times")
    parser.add_argument("--skip-quick", action="store_true", help="do not time the test suite")
    parser.add_argument("--float32", nargs="+", type=Path, metavar="NOTEBOOK",
                        help="only time these lessons in float32")
    args = parser.parse_args(argv)
    if args.float32:
        return time_in_float32([path.resolve() for path in args.float32])
    times_file = FIGURES / "notebook_times.json"
    float32_file = FIGURES / "notebook_times_float32.json"
    rates_before, status = {}, 0
    try:
        if not args.skip_full:
            from tools import run_notebooks
            rates_before = {dtype: matmul_gflops(dtype) for dtype in DTYPES}
            if status := run_notebooks.main(["--times", str(times_file)]):
                raise CourseError(f"the full run failed (exit {status}, see above)")
            time_in_float32(sorted(run_notebooks.NOTEBOOKS.glob("[0-9]*.ipynb")))
        try:
            notebook_times = json.loads(times_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CourseError(f"figures/notebook_times.json cannot be read ({error}): `make run` "
                              f"writes it (`git checkout -- figures/notebook_times.json` restores "
                              f"the course's), or bench without --skip-full") from error
        quick_seconds = None if args.skip_quick else time_quick_suite()
        results = read_results(FIGURES / "results.json")
        seeds = read_results(FIGURES / "seeds.json")
        for model_id in seeds:
            facts.model(model_id)  # a model course.toml does not know stops here
        if not any(training_work(entry) for entry in results.values()):
            raise CourseError("figures/results.json records no model's training work: run "
                              "`make run` first")
    except CourseError as error:
        print(f"bench: {str(error).rstrip('.')}; figures/benchmark.md was not written.",
              file=sys.stderr)
        return status or 1  # 130 after a Ctrl-C in the full run
    rates_after = {dtype: matmul_gflops(dtype) for dtype in DTYPES}
    float32 = json.loads(float32_file.read_text()) if float32_file.is_file() else {}
    text = report(results, seeds, notebook_times, float32, rates_before, rates_after, quick_seconds)
    (FIGURES / "benchmark.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
