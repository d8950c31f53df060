"""Execute the course notebooks and store their outputs, all or nothing.

    python -m tools.run_notebooks [--times FILE] [NOTEBOOK ...]

With no notebook named, runs every lesson in order, in full. It lands each lesson's outputs,
prose numbers, figures, ``figures/results.json`` and README tables once every cell has run
and every model has reached its floor (CONTRIBUTING, "How a lesson runs"). A quick run is
``pytest notebooks/NN_topic.ipynb``; a candidate setting, ``tools.seeds --set N=V --out FILE``.
"""

import argparse, ast, atexit, contextlib, json, signal, sys, tempfile, threading, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from coursekit.errors import CourseError
from coursekit.outputs import write_together
from coursekit.paths import COURSE_ROOT
from coursekit.results import RESULTS_FILE, floor_check, read_results, results_text
from tools import notebook, update_readme

NOTEBOOKS = COURSE_ROOT / "notebooks"
FIGURES = COURSE_ROOT / "figures"
README = COURSE_ROOT / "README.md"


class InterruptedAfterSaving(KeyboardInterrupt):
    """Ctrl-C came while a finished notebook's outputs were landing: they all landed."""


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C (and SIGTERM) off until the block is done, then deliver it."""
    caught = []
    handlers = {number: signal.signal(number, lambda sig, _frame: caught.append(sig))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if caught:
        raise InterruptedAfterSaving


def execute(path: Path, *, figures: Path, parameters: dict | None = None,
            precision: str | None = None, solutions: bool = True) -> tuple:
    """Run a prepared copy of one notebook in full: ``(finished notebook, report, seconds)``;
    figures go to ``figures`` (staging), models to ``models/``."""
    prepared = notebook.prepare(nbformat.read(path, as_version=4), figures=str(figures),
                                parameters=parameters, precision=precision, solutions=solutions)
    client = NotebookClient(prepared, timeout=None, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    _run(client)
    seconds, report = time.perf_counter() - start, notebook.read_report(prepared)
    finished = notebook.finish(prepared, report)
    finished.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                       "language": "python", "name": "python3"}
    return finished, report, seconds


def _run(client: NotebookClient) -> None:
    """``client.execute()`` in a worker thread, so that Ctrl-C interrupts the cell (as
    Jupyter's stop button does), then kills a kernel deaf to it; the kernel's stderr goes
    to a file, whose last line explains a dead kernel."""
    outcome = {}
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        def work():
            try:
                client.execute(stderr=kernel_log)
            except BaseException as error:  # handed to the main thread
                outcome["error"] = error

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            process = getattr(getattr(client.km, "provisioner", None), "process", None)
            for stop, wait in ((signal.SIGINT, 10), (signal.SIGKILL, 30)):
                if process is not None and worker.is_alive():
                    with contextlib.suppress(OSError):
                        process.send_signal(stop)
                worker.join(wait)
            raise KeyboardInterrupt from None
        finally:
            # nbclient also shuts the kernel down at exit, from the main thread; while the
            # worker still holds its sockets, that waits forever in zmq's term()
            atexit.unregister(client._cleanup_kernel)
        error = outcome.get("error")
        if isinstance(error, DeadKernelError):
            kernel_log.seek(0)
            lines = [line for line in kernel_log.read().splitlines() if line.strip()]
            raise DeadKernelError(f"the kernel died ({lines[-1][:300] if lines else 'silently'})")
        if error is not None:
            raise error


def merged_times(times_file: Path, times: dict) -> dict:
    """``times`` ({notebook: seconds}) merged into the other notebooks' times in the file."""
    try:
        recorded = json.loads(times_file.read_text(encoding="utf-8")) if times_file.exists() else {}
    except (OSError, ValueError) as error:
        raise CourseError(f"{times_file} is not readable JSON ({error}); restore it with "
                          f"`git checkout -- {times_file}` or delete it") from error
    return dict(sorted({**recorded, **times}.items()))


def land(path: Path, nb, staging: Path, results: dict, times: dict | None = None,
         times_file: Path | None = None) -> None:
    """Put a finished notebook's files in place together, or none of them; the renames, which
    need no space, happen with Ctrl-C held off."""
    contents = {FIGURES / p.name: p.read_bytes() for p in sorted(staging.glob("*.png"))}
    if times:
        times = merged_times(times_file, times)
        contents[times_file] = (json.dumps(times, indent=2) + "\n").encode()
    if results or times:
        contents[FIGURES / RESULTS_FILE] = results_text(FIGURES / RESULTS_FILE, results)
        contents[README] = update_readme.updated_readme(
            README.read_text(encoding="utf-8"), {**read_results(FIGURES / RESULTS_FILE), **results},
            read_results(FIGURES / "seeds.json"), times).encode()
    contents[path] = (nbformat.writes(nb).rstrip("\n") + "\n").encode()
    write_together(contents, renaming=_signals_held)


def failure_line(path: Path, error: BaseException, finished: list[str]) -> str:
    """One line: what stopped the run, and that nothing of that notebook was stored."""
    if isinstance(error, InterruptedAfterSaving):
        return (f"Interrupted just after {path.name} finished: it and {len(finished)} "
                f"notebook(s) before it were saved; nothing else changed.")
    name, text = ((error.ename, error.evalue) if isinstance(error, CellExecutionError)
                  else (type(error).__name__, str(error)))
    line = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    what = ("interrupted" if isinstance(error, KeyboardInterrupt) or name == "KeyboardInterrupt"
            else f"failed: {name}: {line if len(line) <= 300 else line[:297] + '...'}")
    kept = (f"; {len(finished)} notebook(s) finished before it and were saved "
            f"({', '.join(finished)})" if finished else "")
    return (f"{path.name} {what}. Nothing of it was saved: its notebook, figures, "
            f"results.json entries and README rows are as they were{kept}.")


def run_one(path: Path, times_file: Path | None) -> float:
    """Execute one notebook in full, check its floors and land its files."""
    with tempfile.TemporaryDirectory(prefix=f"course-run-{path.stem}-") as staging:
        finished, report, seconds = execute(path, figures=Path(staging))
        for model_id, entry in report["results"].items():
            print("  " + floor_check(model_id, entry["test_accuracy"], quick=False), flush=True)
        times = {path.name: round(seconds, 1)} if times_file else None
        land(path, finished, Path(staging), report["results"], times, times_file)
    return seconds


def parse_setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    if not name.isidentifier() or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: use NAME=VALUE, e.g. SEED=1")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--times", type=Path, help="merge {notebook: seconds} into this JSON file")
    args = parser.parse_args(argv)
    times = {}
    for path in args.notebooks or sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        print(f"full run: {path.name} ...", flush=True)
        try:
            times[path.name] = run_one(path.resolve(), args.times)
        except (KeyboardInterrupt, Exception) as error:
            print(failure_line(path, error, list(times)), file=sys.stderr, flush=True)
            return 130 if isinstance(error, KeyboardInterrupt) else 1
        print(f"  done in {times[path.name]:.0f} s", flush=True)
    print(f"total: {sum(times.values()):.0f} s for {len(times)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
