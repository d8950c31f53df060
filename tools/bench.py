"""Benchmark the course on this machine and write figures/benchmark.md.

    python -m tools.bench [--skip-full] [--skip-quick]

Runs every notebook in full (as `make run` does) and again in float32 (as on a laptop without
bfloat16 units), times the quick test suite, and reports each model's training throughput
against the float32 and bfloat16 matmul rates, measured before and after the notebooks.
"""

import argparse, json, os, platform, subprocess, sys, time, timeit

from coursekit import facts
from coursekit.errors import CourseError
from coursekit.paths import COURSE_ROOT
from coursekit.results import read_results
from tools.update_readme import across_seeds

DTYPES = ("float32", "bfloat16")
FIGURES = COURSE_ROOT / "figures"


def matmul_gflops(dtype: str, size: int = 2048, repeats: int = 30) -> float:
    from coursekit.display import quiet_tensorflow_import
    quiet_tensorflow_import()
    import tensorflow as tf

    a, b = (tf.cast(tf.random.stateless_normal((size, size), seed=s), dtype) for s in ((1, 2), (3, 4)))
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


def distance_to_peak(results: dict, peak: float) -> str:
    """What 100% of the float32 rate would take, and the bound the models below half that
    rate set: even if every other model trained in no time, their seconds remain."""
    trained = {model_id: entry for model_id, entry in sorted(results.items()) if training_work(entry)}
    total_work = sum(training_work(entry) for entry in trained.values())
    slow = [model_id for model_id, entry in trained.items()
            if training_work(entry) / entry["train_seconds"] < peak / 2]
    slow_seconds = sum(trained[model_id]["train_seconds"] for model_id in slow)
    text = f"At 100% of the float32 rate this training work would take {total_work / peak:.0f} s."
    if slow:
        text += (f" The models below half that rate ({', '.join(slow)}) took "
                 f"{slow_seconds:.0f} s on their own: even if every other model trained in no "
                 f"time, the course would reach at most "
                 f"{100 * total_work / slow_seconds / peak:.0f}% of the rate.")
    return text


def time_quick_suite() -> float | None:  # None: it failed
    start = time.perf_counter()
    suite = subprocess.run([sys.executable, "-m", "pytest", "-q", "notebooks"], cwd=COURSE_ROOT)
    return time.perf_counter() - start if suite.returncode == 0 else None


def report(results: dict, seeds: dict, notebook_times: dict, float32: dict,
           rates_before: dict, rates_after: dict, quick_seconds: float | None) -> str:
    """benchmark.md; ``rates_before`` is {} when the notebooks did not run in this bench."""
    from coursekit.precision import gpus

    rates = {dtype: (rates_before[dtype] + rates_after[dtype]) / 2 if rates_before
             else rates_after[dtype] for dtype in DTYPES}
    peak, peaks = rates["float32"], {"float32": rates["float32"], "mixed_bfloat16": rates["bfloat16"]}
    before, after = rates_before.get("float32"), rates_after["float32"]
    drift = (" (measured once: this bench reused the notebooks' last full run)" if before is None
             else f" (the mean of {before:.0f} before the notebooks and {after:.0f} after them: "
                  f"the machine's load moved it by {abs(after - before) / ((before + after) / 2):.0%})")
    both_ends = (f"{rates_before['bfloat16']:.0f} before, {rates_after['bfloat16']:.0f} after; "
                 if rates_before else "")
    gpu_names = ", ".join(gpu.name for gpu in gpus())
    lines = [
        "# Benchmark", "", f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{f'GPU: {gpu_names}' if gpu_names else 'no GPU'}. Measured float32 matmul rate (TensorFlow, "
        f"2048x2048): **{peak:.0f} GFLOP/s**{drift}; bfloat16: {peaks['mixed_bfloat16']:.0f} GFLOP/s "
        f"({both_ends}{peaks['mixed_bfloat16'] / peak:.1f}x the float32 rate).", "",
        "## Training, per model (full runs, from figures/results.json)", "",
        "Training work is GFLOP per image x training images x epochs; the last column is the test "
        "accuracy over `make seeds` (figures/seeds.json) beside the model's floor: the tutorial's "
        "published number, or the course's own target where the tutorial published none.", "",
        "| Model | Precision | Epochs | Train images | Training work (GFLOP) | Training s | GFLOP/s "
        "| % of float32 matmul rate | % of its precision's matmul rate | Test accuracy "
        "| Across seeds: mean ± sd (floor) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for model_id, entry in sorted(results.items()):
        work, spread, own_peak = training_work(entry), seeds.get(model_id), peaks.get(entry.get("precision"))
        rate = work / entry["train_seconds"] if work else None
        lines.append(
            f"| {model_id} | {entry.get('precision', '')} | {entry['epochs']} "
            f"| {entry.get('train_samples', '')} | {f'{work:,.0f}' if work else ''} "
            f"| {entry['train_seconds']:.1f} | {f'{rate:.1f}' if rate else ''} "
            f"| {f'{100 * rate / peak:.0f}%' if rate else ''} "
            f"| {f'{100 * rate / own_peak:.0f}%' if rate and own_peak else ''} "
            f"| {entry['test_accuracy']:.4f} | {across_seeds(spread)}"
            f"{f' (floor: {facts.model(model_id).floor_words})' if spread else ''} |")
    total_work = sum(training_work(entry) for entry in results.values())
    total_seconds = sum(entry["train_seconds"] for entry in results.values() if training_work(entry))
    overall = total_work / total_seconds
    lines += [f"| **all** | | | | **{total_work:,.0f}** | **{total_seconds:.0f}** | **{overall:.1f}** "
              f"| **{100 * overall / peak:.0f}%** | | | |",
              "", "FLOPs count the multiply-adds of Conv2D and Dense layers, x3 for training; images/s is "
              "over the whole `fit` (validation included). Models trained with the `mixed_bfloat16` "
              "policy can pass 100% of the float32 rate, since this CPU multiplies bfloat16 matrices "
              "faster. The small models stay far below either rate: their layers are too small to keep "
              "the matrix units busy (a first convolution on grey images has one input channel), and "
              "much of each step is work that counts no FLOPs here: dropout's random masks, the "
              "optimizer's update of every weight, augmentation and validation.",
              "", distance_to_peak(results, peak),
              "", "## Whole notebooks (wall time, kernel start-up included)", "",
              "The second column is the same run with every model in float32, as on a laptop or Mac "
              "without bfloat16 units.", "", "| Notebook | Full run (s) | In float32 (s) |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.0f} | {float32.get(name, float('nan')):.0f} |"
              for name, seconds in notebook_times.items()]
    full, slow = sum(notebook_times.values()), sum(float32.values())
    lines.append(f"| **all {len(notebook_times)}** | **{full:.0f}** ({full / 60:.1f} min) "
                 f"| **{slow:.0f}** ({slow / 60:.1f} min) |")
    if quick_seconds is not None:
        lines += ["", f"Quick test suite over the notebooks (`pytest notebooks`, quick mode): "
                      f"**{quick_seconds:.0f} s** ({quick_seconds / 60:.1f} min)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="reuse figures/notebook_times.json")
    parser.add_argument("--skip-quick", action="store_true", help="do not time the test suite")
    args = parser.parse_args(argv)
    times_file, float32_file = FIGURES / "notebook_times.json", FIGURES / "notebook_times_float32.json"
    rates_before, status = {}, 0
    try:
        if not args.skip_full:
            from tools import run_notebooks
            rates_before = {dtype: matmul_gflops(dtype) for dtype in DTYPES}
            if status := run_notebooks.main(["--times", str(times_file)]):
                raise CourseError(f"the full run failed (exit {status}, see above)")
            float32 = {path.name: round(run_notebooks.run_one(path, False, {}, None, store=False,
                                                              precision="float32"), 1)
                       for path in sorted(run_notebooks.NOTEBOOKS.glob("[0-9]*.ipynb"))}
            float32_file.write_text(json.dumps(float32, indent=2) + "\n")
        if not times_file.is_file():
            raise CourseError("figures/notebook_times.json is missing: run `make run` first, "
                              "or bench without --skip-full")
        try:
            notebook_times = json.loads(times_file.read_text(encoding="utf-8"))
        except ValueError as error:
            raise CourseError(f"figures/notebook_times.json is not valid JSON ({error}): restore "
                              f"it with `git checkout -- figures/notebook_times.json`, or bench "
                              f"without --skip-full") from error
        quick_seconds = None if args.skip_quick else time_quick_suite()
        if quick_seconds is None and not args.skip_quick:
            raise CourseError("the quick test suite failed (see above); fix it, or bench with "
                              "--skip-quick")
        results, seeds = read_results(FIGURES / "results.json"), read_results(FIGURES / "seeds.json")
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
