"""A lesson notebook as the course's runner and tests handle it.

Three things a learner never sees are added to a copy of the notebook before it runs
(:func:`prepare`), and taken out again afterwards (:func:`finish`):

* a first cell that sends figures and models to the run's folders, makes the run
  repeatable and times every ``fit`` (``coursekit.runtime.start``);
* after the cell tagged ``parameters``, a cell that overrides its settings (a quick run's
  small slice and single epoch come from the notebook's ``course.quick`` metadata; a
  seed, from ``make seeds``), as papermill does;
* after each markdown cell that states a result, a cell that computes the numbers in it,
  and a last cell that reports them with each model's result (``course.results``
  metadata: expressions in the lesson's variables).

Numbers in prose are *fields*: ``<!--{test_acc:.2%}-->99.16%<!--/-->``. The comment holds
an f-string template evaluated in the lesson's variables right after that markdown cell;
the text between the comments is its value from the last full run, which
:func:`finish` writes. A reader sees only the value, in Jupyter and on the site.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import tokenize

import nbformat

from coursekit.runtime import REPORT_MARK

FIELD = re.compile(r"<!--(\{.*?)-->(.*?)<!--/-->", re.DOTALL)
INJECTED = "injected-by-course"
PARAMETERS = "parameters"


def field_templates(source: str) -> list[str]:
    return [match.group(1) for match in FIELD.finditer(source)]


def lesson_metadata(nb) -> dict:
    """The notebook's ``course`` metadata: ``quick`` parameters and ``results`` specs."""
    return nb.metadata.setdefault("course", {})


def prepare(nb, *, figures: str, models: str | None = None, parameters: dict | None = None,
            quick: bool = False, precision: str | None = None, solutions: bool = True):
    """A copy of ``nb`` with the runner's cells injected (see the module's docstring).

    ``solutions=False`` leaves out everything from the ``## Solutions`` heading on (a
    seeds run measures the lesson's models, not the exercises').
    """
    meta = lesson_metadata(nb)
    parameters = {**(meta.get("quick", {}) if quick else {}), **(parameters or {})}
    cells = [_injected("import coursekit.runtime as _course_runtime\n"
                       f"_course_runtime.start({figures!r}, {models!r}, {precision!r})\n"
                       "_course_prose = {}")]
    tagged = [i for i, c in enumerate(nb.cells) if PARAMETERS in c.metadata.get("tags", [])]
    if parameters and not tagged:
        raise ValueError("the notebook has no cell tagged 'parameters' to override")
    for index, cell in enumerate(nb.cells):
        if not solutions and cell.cell_type == "markdown" and \
                cell.source.startswith("## Solutions"):
            break
        cells.append(copy.deepcopy(cell))
        if tagged and index == tagged[0] and parameters:
            cells.append(_injected("\n".join(f"{name} = {value!r}"
                                             for name, value in parameters.items())))
        templates = field_templates(cell.source) if cell.cell_type == "markdown" else []
        if templates:
            values = ", ".join(f"{_key(index, n)!r}: f{template!r}"
                               for n, template in enumerate(templates))
            cells.append(_injected(f"_course_prose.update({{{values}}})"))
    cells.append(_injected(f"print(_course_runtime.report({meta.get('results', {})!r}, "
                           f"globals(), _course_prose, quick={quick}))"))
    prepared = copy.deepcopy(nb)
    prepared.cells = cells
    return prepared


def _key(cell_index: int, field_number: int) -> str:
    return f"{cell_index}.{field_number}"


def _injected(source: str):
    return nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED]})


def read_report(executed) -> dict:
    """The results and prose values the last injected cell printed."""
    text = "".join(output.get("text", "") for output in executed.cells[-1].get("outputs", []))
    line = next((line for line in text.splitlines() if line.startswith(REPORT_MARK)), None)
    if line is None:
        raise ValueError(f"the lesson's report is missing; its last cell printed {text!r}")
    return json.loads(line[len(REPORT_MARK):])


def finish(executed, report: dict):
    """The executed notebook without the injected cells, its prose fields filled in."""
    nb = copy.deepcopy(executed)
    nb.cells = [c for c in nb.cells if INJECTED not in c.metadata.get("tags", [])]
    code = [c for c in nb.cells if c.cell_type == "code"]
    for count, cell in enumerate(code, start=1):  # In [1], [2], ... as a reader's run numbers them
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output.execution_count = count
    prose = report["prose"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        numbers = iter(range(10_000))

        def fill(match):
            key = _key(index, next(numbers))
            return f"<!--{match.group(1)}-->{prose[key]}<!--/-->"

        cell.source = FIELD.sub(fill, cell.source)
    meta = lesson_metadata(nb)
    meta["code_sha256"] = code_sha256(nb)
    meta["prose"] = prose_values(nb)
    return nb


def prose_values(nb) -> list[str]:
    """Every field's value in the notebook's markdown, in order."""
    return [match.group(2) for cell in nb.cells if cell.cell_type == "markdown"
            for match in FIELD.finditer(cell.source)]


def code_sha256(nb) -> str:
    """Hash of what produced the outputs: the code cells and the prose fields' templates.

    Comments and layout are left out, so that fixing a comment's wording or a line break
    does not demand a rerun; any change to the code or to a field's template does.
    """
    parts = [_code_tokens(c.source) if c.cell_type == "code" else field_templates(c.source)
             for c in nb.cells if INJECTED not in c.metadata.get("tags", [])
             and (c.cell_type == "code" or FIELD.search(c.source))]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _code_tokens(source: str) -> list[str]:
    """The cell's Python tokens without comments and layout (lines, for IPython magics)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return [_STRUCTURE.get(tok.type, tok.string) for tok in tokens
                if tok.type not in _LAYOUT_TOKENS]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [" ".join(line.split()) for line in source.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]


_LAYOUT_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER}
_STRUCTURE = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>",
              tokenize.DEDENT: "<dedent>"}
