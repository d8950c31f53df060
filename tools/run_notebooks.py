"""Execute the course notebooks and store their outputs, all or nothing.

    python -m tools.run_notebooks [--quick] [--set NAME=VALUE ...] [--times FILE] [NOTEBOOK ...]

With no notebook named, runs every lesson (``notebooks/[0-9]*.ipynb``) in lesson order.
A full run (the default) refreshes the committed outputs, prose numbers, figures,
``figures/results.json`` and the README's results table; a quick run stores nothing.
``--set`` overrides a setting of the lessons' ``parameters`` cells (``--set SEED=1``).

Each notebook runs from a copy with the runner's cells injected (``tools.notebook``), its
figures sent to a fresh staging folder. Only once every cell has succeeded and every
model has reached its floor do its files land: each is first written beside its target
under a temporary name, and only when all of them are written are they renamed into
place, with Ctrl-C held off until the last rename. A failure (a cell, a floor, a full
disk) or a Ctrl-C leaves every tracked file as it was, and one line says what happened.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from coursekit.errors import CourseError
from coursekit.paths import COURSE_ROOT
from coursekit.results import RESULTS_FILE, floor_check, read_results, results_text
from tools import notebook

NOTEBOOKS = COURSE_ROOT / "notebooks"
FIGURES = COURSE_ROOT / "figures"
README = COURSE_ROOT / "README.md"


class InterruptedAfterSaving(KeyboardInterrupt):
    """Ctrl-C came while a finished notebook's outputs were landing: they all landed."""


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C (and SIGTERM) off until the block is done, then deliver it."""
    caught, handlers = [], {}
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: nothing to hold
            handlers[number] = signal.signal(number, lambda sig, _frame: caught.append(sig))
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if caught:
        raise InterruptedAfterSaving


def execute(path: Path, *, quick: bool = False, parameters: dict | None = None,
            figures: Path | None = None, precision: str | None = None,
            solutions: bool = True) -> tuple:
    """Run one notebook from a prepared copy; return ``(finished notebook, report, seconds)``.

    Figures go to ``figures`` (a staging folder); models, in a full run, to the course's
    ``models/``. Raises what stopped it, with nothing stored.
    """
    nb = nbformat.read(path, as_version=4)
    models = None if not quick else str(Path(figures) / "models")
    prepared = notebook.prepare(nb, figures=str(figures), models=models, quick=quick,
                                parameters=parameters, precision=precision,
                                solutions=solutions)
    client = NotebookClient(prepared, timeout=None, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    _run(client)
    seconds = time.perf_counter() - start
    report = notebook.read_report(prepared)
    finished = notebook.finish(prepared, report)
    finished.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                       "language": "python", "name": "python3"}
    return finished, report, seconds


def _run(client: NotebookClient) -> None:
    """``client.execute()`` in a worker thread, so that Ctrl-C stops it cleanly.

    Ctrl-C interrupts the cell as Jupyter's stop button does, then kills a kernel deaf
    to it; the kernel's own stderr goes to a file, whose last line explains a dead kernel.
    """
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
        error = outcome.get("error")
        if isinstance(error, DeadKernelError):
            kernel_log.seek(0)
            lines = [line for line in kernel_log.read().splitlines() if line.strip()]
            raise DeadKernelError(f"the kernel died ({lines[-1][:300] if lines else 'silently'})")
        if error is not None:
            raise error


def land(path: Path, nb, staging: Path, results: dict, times: dict | None = None,
         times_file: Path | None = None) -> list[Path]:
    """Put a finished notebook's files in place together, or none of them.

    Every new file is first written in full beside its target (``.part-`` name); a
    failure there (a full disk) removes the written ones and changes nothing. Then the
    renames, which need no space, happen with Ctrl-C held off.
    """
    contents = {FIGURES / p.name: p.read_bytes() for p in sorted(staging.iterdir())
                if p.is_file() and p.suffix == ".png"}
    all_times = None
    if times:
        contents[times_file] = _times_text(times_file, times)
        all_times = json.loads(contents[times_file])
    if results or times:
        from tools import update_readme

        contents[FIGURES / RESULTS_FILE] = results_text(FIGURES / RESULTS_FILE, results)
        merged = {**read_results(FIGURES / RESULTS_FILE), **results}
        readme = update_readme.updated_readme(README.read_text(encoding="utf-8"), merged,
                                              read_results(FIGURES / "seeds.json"), all_times)
        contents[README] = readme.encode()
    text = nbformat.writes(nb)
    contents[path] = (text if text.endswith("\n") else text + "\n").encode()
    written = {}
    try:
        for target, data in contents.items():
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".part-")
            written[target] = tmp
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
            os.chmod(tmp, mode)
    except OSError as error:
        for tmp in written.values():
            Path(tmp).unlink(missing_ok=True)
        raise CourseError(f"writing {target.name} failed ({error.strerror or error}), so "
                          f"nothing was replaced") from error
    with _signals_held():
        for target, tmp in written.items():
            os.replace(tmp, target)
    return list(written)


def failure_line(path: Path, error: BaseException, finished: list[str], quick: bool) -> str:
    """One line: what stopped the run, and that nothing of that notebook was stored."""
    if isinstance(error, InterruptedAfterSaving):
        return (f"Interrupted just after {path.name} finished: it and {len(finished)} "
                f"notebook(s) before it were saved; nothing else changed.")
    if isinstance(error, KeyboardInterrupt) or getattr(error, "ename", "") == "KeyboardInterrupt":
        what = "interrupted"
    elif isinstance(error, CellExecutionError):
        what = f"failed: {error.ename}: {_first_line(error.evalue)}"
    else:
        what = f"failed: {type(error).__name__}: {_first_line(str(error))}"
    if quick:
        return f"{path.name} {what}. A quick run stores nothing."
    kept = (f"; {len(finished)} notebook(s) finished before it and were saved "
            f"({', '.join(finished)})" if finished else "")
    return (f"{path.name} {what}. Nothing of it was saved: its notebook, figures, "
            f"results.json entries and README rows are as they were{kept}.")


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    line = lines[0].strip() if lines else ""
    return line if len(line) <= 300 else line[:297] + "..."


def _times_text(times_file: Path, times: dict) -> bytes:
    """``times_file`` with {notebook: seconds} merged in, keeping the other notebooks' times."""
    try:
        recorded = json.loads(times_file.read_text(encoding="utf-8")) if times_file.exists() else {}
    except (OSError, ValueError) as error:
        raise CourseError(f"{times_file} is not readable JSON ({error}); restore it with "
                          f"`git checkout -- {times_file}` or delete it") from error
    recorded.update(times)
    return (json.dumps(dict(sorted(recorded.items())), indent=2) + "\n").encode()


def run_one(path: Path, quick: bool, parameters: dict, times_file: Path | None,
            store: bool = True, precision: str | None = None) -> float:
    """Execute one notebook and, in a full run, check its floors and land its files."""
    with tempfile.TemporaryDirectory(prefix=f"course-run-{path.stem}-") as staging:
        finished, report, seconds = execute(path, quick=quick, parameters=parameters,
                                            figures=Path(staging), precision=precision)
        for model_id, entry in report["results"].items():
            print("  " + floor_check(model_id, entry["test_accuracy"], quick=quick), flush=True)
        if parameters or precision or not store:
            print("  nothing stored (settings or precision overridden, or --no-store)",
                  flush=True)
        elif not quick:
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
    parser.add_argument("--quick", action="store_true", help="small slices, one epoch; store nothing")
    parser.add_argument("--set", dest="settings", action="append", type=parse_setting, default=[],
                        metavar="NAME=VALUE", help="override a setting of the parameters cell")
    parser.add_argument("--times", type=Path, help="merge {notebook: seconds} into this JSON file")
    parser.add_argument("--no-store", action="store_true",
                        help="a full run that checks the floors but stores nothing")
    parser.add_argument("--precision", choices=["float32"],
                        help="compute in this format whatever the hardware (stores nothing)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    times = {}
    for path in paths:
        print(f"{'quick' if args.quick else 'full'} run: {path.name} ...", flush=True)
        try:
            times[path.name] = run_one(path.resolve(), args.quick, dict(args.settings), args.times,
                                       store=not args.no_store, precision=args.precision)
        except (KeyboardInterrupt, Exception) as error:
            print(failure_line(path, error, list(times), args.quick), file=sys.stderr, flush=True)
            return 130 if isinstance(error, KeyboardInterrupt) else 1
        print(f"  done in {times[path.name]:.0f} s", flush=True)
    print(f"total: {sum(times.values()):.0f} s for {len(times)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
