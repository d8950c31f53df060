"""Execute the course notebooks and store their outputs in place.

    python -m tools.run_notebooks [--quick] [--times FILE] [NOTEBOOK ...]

With no notebook named, runs every ``notebooks/*.ipynb`` in lesson order. A full run
(the default) refreshes the committed outputs, figures and ``figures/results.json``.

Each notebook is executed in memory and written only if every cell succeeded, through a
temporary file renamed over the original: stopping a run half-way leaves the committed
notebook as it was. The SHA-256 of the notebook's code is stored in its metadata so the
tests can tell that the outputs were produced by the code beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import tokenize
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


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


def execute(path: Path, quick: bool) -> float:
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ["COURSE_QUICK"] = "1" if quick else "0"
    if not quick:
        os.environ.pop("COURSE_OUTPUT_DIR", None)
        os.environ["COURSE_STRICT_FLOORS"] = "1"  # the reference run must meet every floor
    try:
        client = NotebookClient(
            nb, timeout=None, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    nb.metadata["course"] = {"code_sha256": code_sha256(nb), "quick_mode": quick}
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                 "language": "python", "name": "python3"}
    if not quick:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".part-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(nb, handle)
        os.chmod(tmp, path.stat().st_mode & 0o777)  # keep the notebook's permissions
        os.replace(tmp, path)
    return seconds


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
        times[path.name] = round(execute(path.resolve(), args.quick), 1)
        print(f"  done in {times[path.name]:.0f} s", flush=True)
    print(f"total: {sum(times.values()):.0f} s for {len(times)} notebook(s)")
    if args.times and not args.quick:
        # merged, so that re-running one notebook keeps the others' times
        recorded = json.loads(args.times.read_text()) if args.times.exists() else {}
        recorded.update(times)
        args.times.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
