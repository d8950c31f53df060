"""A lesson notebook as the runner and tests handle it: :func:`prepare` adds to a copy the cells
a learner never sees, :func:`finish` takes them out and writes the prose fields' values
(CONTRIBUTING, "How a lesson runs"). A field: ``<!--{test_acc:.2%}-->99.16%<!--/-->``."""

import copy, hashlib, io, itertools, json, re, tokenize

import nbformat

from coursekit.runtime import REPORT_MARK

FIELD = re.compile(r"<!--(\{.*?)-->(.*?)<!--/-->", re.DOTALL)
INJECTED = "injected-by-course"


def prepare(nb, *, figures: str, models: str | None = None, parameters: dict | None = None,
            quick: bool = False, precision: str | None = None, solutions: bool = True):
    """A copy of ``nb`` with the runner's cells injected; ``solutions=False`` stops at the
    ``## Solutions`` heading (a seeds run measures the lesson's models, not the exercises')."""
    meta = nb.metadata.setdefault("course", {})
    parameters = {**(meta.get("quick", {}) if quick else {}), **(parameters or {})}
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if parameters and not tagged:
        raise ValueError("the notebook has no cell tagged 'parameters' to override")
    cells = [_injected("import coursekit.runtime as _course_runtime\n"
                       f"_course_runtime.start({figures!r}, {models!r}, {precision!r})\n"
                       "_course_prose = {}")]
    for index, cell in enumerate(nb.cells):
        if not solutions and cell.source.startswith("## Solutions"):
            break
        cells.append(copy.deepcopy(cell))
        if parameters and index == tagged[0]:
            cells.append(_injected("\n".join(f"{name} = {value!r}"
                                             for name, value in parameters.items())))
        templates = FIELD.findall(cell.source) if cell.cell_type == "markdown" else []
        if templates:
            values = ", ".join(f"{f'{index}.{n}'!r}: f{template!r}"
                               for n, (template, _) in enumerate(templates))
            cells.append(_injected(f"_course_prose.update({{{values}}})"))
    cells.append(_injected(f"print(_course_runtime.report({meta.get('results', {})!r}, "
                           f"globals(), _course_prose, quick={quick}))"))
    prepared = copy.deepcopy(nb)
    prepared.cells = cells
    return prepared


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
        for output in (o for o in cell.get("outputs", []) if "execution_count" in o):
            output.execution_count = count
    for index, cell in enumerate(nb.cells):  # each field gets the value its template had in the run
        if cell.cell_type == "markdown":
            keys = (f"{index}.{n}" for n in itertools.count())
            cell.source = FIELD.sub(lambda m: f"<!--{m[1]}-->{report['prose'][next(keys)]}<!--/-->",
                                    cell.source)
    meta = nb.metadata.setdefault("course", {})
    meta["code_sha256"], meta["prose"] = code_sha256(nb), prose_values(nb)
    return nb


def prose_values(nb) -> list[str]:
    """Every field's value in the notebook's markdown, in order."""
    return [value for cell in nb.cells if cell.cell_type == "markdown"
            for _, value in FIELD.findall(cell.source)]


def code_sha256(nb) -> str:
    """Hash of the code cells and the fields' templates, without comments and layout:
    rewording a comment or breaking a line needs no rerun, any change to the code does."""
    parts = [_code_tokens(c.source) if c.cell_type == "code"
             else [template for template, _ in FIELD.findall(c.source)]
             for c in nb.cells if INJECTED not in c.metadata.get("tags", [])
             and (c.cell_type == "code" or FIELD.search(c.source))]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _code_tokens(source: str) -> list[str]:
    """The cell's Python tokens without comments and layout (lines, for IPython magics)."""
    structure = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>",
                 tokenize.DEDENT: "<dedent>"}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [" ".join(line.split()) for line in source.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    return [structure.get(token.type, token.string) for token in tokens
            if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER)]
