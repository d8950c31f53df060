"""Execute the course notebooks and store their outputs, all or nothing.

    python -m tools.run_notebooks [--quick] [--times FILE] [NOTEBOOK ...]

With no notebook named, runs every lesson (``notebooks/[0-9]*.ipynb``) in lesson
order. A full run (the default) refreshes the committed outputs, figures,
``figures/results.json`` and the README's results table; a quick run stores nothing.

This tool (``make run``, ``make bench``) is what changes the committed notebooks and
their figures and results (``make seeds`` writes ``figures/seeds.json`` and the
README's table; ``make bench``, ``figures/benchmark.md`` too), and a notebook changes
them all or nothing. Each notebook runs with ``COURSE_OUTPUT_DIR`` pointing at a fresh
staging folder, so its figures and results go there while it runs. Only once every
cell has succeeded do they land together: its figures move into ``figures/``, its
results merge into ``figures/results.json``, the README's table is regenerated and the
executed notebook replaces the committed one, each file through a temporary file renamed
into place, with Ctrl-C held off until the last one is in. A failing cell or a Ctrl-C
leaves every tracked file of that notebook as it was, and one line says so. The
SHA-256 of the notebook's code is stored in its metadata so the tests can tell that the
outputs were produced by the code beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tokenize
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from coursekit.outputs import LANDS_IN_ENV, atomic_write_bytes
from coursekit.results import RESULTS_FILE, merge_results, read_results
from coursekit.settings import (DATA_ENV, OUTPUT_ENV, QUICK_ENV, SHAPES_ENV, STRICT_ENV,
                                resolve_setting_path)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
FIGURES = REPO / "figures"
README = REPO / "README.md"


def code_sha256(nb) -> str:
    """Hash of what the code cells do, in order: what produced the outputs.

    Comments and layout are left out, so that fixing a comment's wording or a line
    break does not demand a full retrain; any change to the code itself does.
    """
    return hashlib.sha256(json.dumps([_code_tokens(cell.source) for cell in nb.cells
                                      if cell.cell_type == "code"]).encode()).hexdigest()


def _code_tokens(source: str) -> list[str]:
    """The cell's Python tokens without comments and white space (lines, for IPython magics)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        # Indentation and statement ends are structure, so they count, by kind only.
        return [_STRUCTURE.get(tok.type, tok.string) for tok in tokens
                if tok.type not in _LAYOUT_TOKENS]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [" ".join(line.split()) for line in source.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]


_LAYOUT_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER}
_STRUCTURE = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>",
              tokenize.DEDENT: "<dedent>"}


class InterruptedAfterSaving(KeyboardInterrupt):
    """Ctrl-C came while a finished notebook's outputs were landing: they all landed."""


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C (and SIGTERM) off until the block is done, then deliver it."""
    caught = []
    handlers = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            handlers[number] = signal.signal(number, lambda sig, _frame: caught.append(sig))
        except ValueError:  # not the main thread: nothing to hold
            pass
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if caught:
        raise InterruptedAfterSaving


def _kernel_environment(quick: bool, staging: Path | None) -> dict:
    """The settings a notebook's kernel starts with.

    Folders typed as relative paths are made absolute from here, where the user typed
    them: the kernel itself runs in notebooks/.
    """
    env = dict(os.environ)
    for name in (DATA_ENV, SHAPES_ENV, OUTPUT_ENV):
        if env.get(name, "").strip():
            env[name] = str(resolve_setting_path(env[name].strip()))
    env[QUICK_ENV] = "1" if quick else "0"
    if staging is not None:
        env[OUTPUT_ENV] = str(staging)
        env[LANDS_IN_ENV] = FIGURES.name
        env[STRICT_ENV] = "1"  # the reference run must meet every floor
    return env


def execute(path: Path, quick: bool, times_file: Path | None = None) -> float:
    """Run one notebook; in full mode, land its outputs if and only if every cell succeeded.

    ``times_file``, in a full run, gets the notebook's time merged in with its outputs.

    Raises what stopped it (``CellExecutionError``, ``KeyboardInterrupt``, ...) with
    nothing of this notebook stored.
    """
    nb = nbformat.read(path, as_version=4)
    staging = None if quick else Path(tempfile.mkdtemp(prefix=f"course-run-{path.stem}-"))
    try:
        client = NotebookClient(
            nb, timeout=None, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        try:
            _run(client, _kernel_environment(quick, staging))
        except CellExecutionError as error:
            error.cell_label = next(
                (f"In [{cell.execution_count}]" for cell in nb.cells if cell.cell_type == "code"
                 and any(out.output_type == "error" for out in cell.get("outputs", []))), "")
            raise
        seconds = time.perf_counter() - start
        nb.metadata["course"] = {"code_sha256": code_sha256(nb), "quick_mode": quick}
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                     "language": "python", "name": "python3"}
        if staging is not None:
            land(path, nb, staging, {path.name: round(seconds, 1)} if times_file else None,
                 times_file)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return seconds


def _run(client: NotebookClient, env: dict) -> None:
    """``client.execute()`` in a worker thread, so that Ctrl-C stops it cleanly.

    Interrupted in its own thread, nbclient leaves a kernel running and stops with a
    confusing error; here Ctrl-C reaches this thread, which stops the kernel and raises
    ``KeyboardInterrupt`` once nbclient has cleaned up. The kernel's own stderr
    (TensorFlow's start-up lines, its complaints when stopped) goes to a file: if the
    kernel dies, the error carries its last line.
    """
    outcome = {}

    def work():
        try:
            client.execute(env=env, stderr=kernel_log)
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error

    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            # Interrupt the cell as Jupyter's stop button does, so that nbclient ends and
            # shuts the kernel down normally; a kernel deaf to it for 10 s is killed.
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
            raise DeadKernelError(f"the kernel died ({_last_line(kernel_log.read())})") \
                from error
        if error is not None:
            raise error


def land(path: Path, nb, staging: Path, times: dict | None = None,
         times_file: Path | None = None) -> list[Path]:
    """Move a finished notebook's outputs from ``staging`` into the repository together.

    Everything is read and checked before the first file is replaced, and Ctrl-C is
    held off while they are, so an interruption cannot leave half of them.
    """
    figures = sorted(p for p in staging.iterdir() if p.is_file() and p.name != RESULTS_FILE)
    new_results = read_results(staging / RESULTS_FILE)
    readme = None
    if new_results:
        from tools import update_readme

        results = {**read_results(FIGURES / RESULTS_FILE), **new_results}
        seeds_file = FIGURES / update_readme.SEEDS.name
        seeds = read_results(seeds_file)
        readme = update_readme.updated_readme(README.read_text(encoding="utf-8"), results, seeds)
    notebook_text = nbformat.writes(nb)
    if not notebook_text.endswith("\n"):
        notebook_text += "\n"
    contents = [(FIGURES / figure.name, figure.read_bytes()) for figure in figures]
    if times:
        contents.append((times_file, _times_text(times_file, times)))
    landed = []
    with _signals_held():
        for target, data in contents:
            atomic_write_bytes(target, data)
            landed.append(target)
        if new_results:
            merge_results(FIGURES / RESULTS_FILE, new_results)
            landed.append(FIGURES / RESULTS_FILE)
            if readme != README.read_text(encoding="utf-8"):
                atomic_write_bytes(README, readme.encode("utf-8"))
                landed.append(README)
        mode = path.stat().st_mode & 0o777
        atomic_write_bytes(path, notebook_text.encode("utf-8"))
        os.chmod(path, mode)  # keep the notebook's permissions
        landed.append(path)
    return landed


def failure_line(path: Path, error: BaseException, finished: list[str], quick: bool) -> str:
    """One line: what stopped the run, and that nothing of that notebook was stored."""
    if isinstance(error, InterruptedAfterSaving):
        return (f"Interrupted just after {path.name} finished: it and {len(finished)} "
                f"notebook(s) before it were saved; nothing else changed.")
    if isinstance(error, KeyboardInterrupt) or getattr(error, "ename", "") == "KeyboardInterrupt":
        what = "interrupted"
    elif isinstance(error, CellExecutionError):
        cell = _failing_cell(error)
        what = f"failed{cell}: {error.ename}: {_first_line(error.evalue)}"
    else:
        what = f"failed: {type(error).__name__}: {_first_line(str(error))}"
    if quick:
        return f"{path.name} {what}. A quick run stores nothing."
    kept = (f"; {len(finished)} notebook(s) finished before it and were saved "
            f"({', '.join(finished)})" if finished else "")
    return (f"{path.name} {what}. Nothing of it was saved: its notebook, figures, "
            f"results.json entries and README rows are as they were{kept}.")


def _failing_cell(error: CellExecutionError) -> str:
    label = getattr(error, "cell_label", "")
    return f" in {label}" if label else ""


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "nothing on its stderr"


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    line = lines[0].strip() if lines else ""
    return line if len(line) <= 300 else line[:297] + "..."


def _times_text(times_file: Path, times: dict) -> bytes:
    """``times_file`` with {notebook: seconds} merged in, keeping the other notebooks' times."""
    try:
        recorded = (json.loads(times_file.read_text(encoding="utf-8"))
                    if times_file.exists() else {})
    except (OSError, ValueError) as error:
        raise ValueError(f"{times_file} is not readable JSON ({error}); restore it with "
                         f"`git checkout -- {times_file}` or delete it") from error
    recorded.update(times)
    return (json.dumps(dict(sorted(recorded.items())), indent=2) + "\n").encode()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--quick", action="store_true",
                        help="quick mode: run without storing outputs")
    parser.add_argument("--times", type=Path,
                        help="merge {notebook: seconds} of a full run into this JSON file")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    times = {}
    for path in paths:
        print(f"{'quick' if args.quick else 'full'} run: {path.name} ...", flush=True)
        try:
            seconds = round(execute(path.resolve(), args.quick, args.times), 1)
        except (KeyboardInterrupt, Exception) as error:
            print(failure_line(path, error, list(times), args.quick), file=sys.stderr,
                  flush=True)
            return 130 if isinstance(error, KeyboardInterrupt) else 1
        times[path.name] = seconds
        print(f"  done in {seconds:.0f} s", flush=True)
    print(f"total: {sum(times.values()):.0f} s for {len(times)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
