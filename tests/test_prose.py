"""The lessons say their results in words; these tests hold the words to the outputs.

A lesson's prose states results the way a person would ("B3 misreads 1.03% of the test
digits", "B6 ends closest to its floor"). CLAIMS below ties each such sentence to what
the notebook printed (and, for summaries, to ``figures/results.json``):

- ``Stated``: the number in the sentence (the pattern's group ``n``) must equal the true
  value rounded as the sentence rounds it: "98.1%" is 0.9808 to one decimal of a
  percent, "about 99%" is 0.9897 to a whole percent.
- ``Holds``: a comparison in the sentence (closest, best, above, fewer...) must be true
  of the printed numbers.

Numbers are read from the outputs of the code cells *before* the sentence (nearest
first), so the prose can only repeat what a reader has just seen. Every pattern must
match exactly one markdown cell: rewording a sentence without updating its claim fails,
and so does a claim that no longer finds its sentence. Every evaluation in the checked
lessons must have a checked number in the markdown right before or after it, and no
lesson may point at "the cell above" instead of saying the result.
"""

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from coursekit import facts
from tools.seeds import FLOOR_MODELS  # the models `make seeds` trains with several seeds

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "figures" / "results.json"
SEEDS = ROOT / "figures" / "seeds.json"
CHECKED = ["02_mnist_mlp.ipynb", "03_mnist_first_cnn.ipynb", "04_mnist_mlp_vs_cnn.ipynb",
           "05_mnist_vgg_functional.ipynb", "06_fashion_mnist.ipynb", "07_cifar10.ipynb",
           "08_hand_drawn_shapes.ipynb"]
EVALUATION = re.compile(r"\.evaluate\(|compare_with_tutorial\(")
POINTING = re.compile(r"\b(?:cell|printout|lines) above\b|\bprinted above\b|"
                      r"\bcommitted (?:full )?run\b", re.IGNORECASE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def output_text(cell) -> str:
    """What a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return ANSI.sub("", "".join(parts))


def prose_text(cell) -> str:
    """A markdown cell with its line breaks folded, so patterns need not know them."""
    return " ".join(cell.source.split())


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def percent(fraction) -> Decimal:
    return Decimal(str(fraction)) * 100


class Prose:
    """One markdown cell, and the numbers the notebook shows around it."""

    def __init__(self, cells, index: int, results: dict, seeds: dict | None = None):
        self.cells, self.index, self.results, self.seeds = cells, index, results, seeds or {}

    def _code_cells(self, after: bool):
        order = range(self.index + 1, len(self.cells)) if after else range(self.index - 1, -1, -1)
        return [self.cells[i] for i in order if self.cells[i].cell_type == "code"]

    def printed(self, pattern: str, group: int = 1, after: bool = False) -> Decimal:
        """The first match of ``pattern`` in the output of the nearest code cell before
        this one (or after it, for a sentence that announces a measurement)."""
        for cell in self._code_cells(after):
            match = re.search(pattern, output_text(cell), re.MULTILINE)
            if match:
                return number(match.group(group))
        raise LookupError(f"no output {'after' if after else 'before'} it matches {pattern!r}")

    def printed_pairs(self, pattern: str) -> dict:
        """name -> value for every match of ``pattern`` (groups: name, value) in the nearest
        code cell before this one that has any."""
        for cell in self._code_cells(after=False):
            pairs = re.findall(pattern, output_text(cell), re.MULTILINE)
            if pairs:
                return {name.strip(): number(value) for name, value in pairs}
        raise LookupError(f"no output before it matches {pattern!r}")

    def epochs(self, nth: int = 0, after: bool = False) -> list:
        """The per-epoch metrics of the nth nearest training log before this cell (or after
        it); ``ms_per_step`` is the epoch's time per step, where Keras printed it in ms."""
        logs = [cell for cell in self._code_cells(after) if "val_accuracy:" in output_text(cell)]
        if len(logs) <= nth:
            raise LookupError(f"fewer than {nth + 1} training logs {'after' if after else 'before'} it")
        lines = re.findall(r"^\d+/\d+ - .*$", output_text(logs[nth]), re.MULTILINE)
        pairs = [re.findall(r"(\w+): ([\d.]+)", line)
                 + [("ms_per_step", ms) for ms in re.findall(r" - (\d+)ms/step", line)] for line in lines]
        return [{key: number(value) for key, value in line} for line in pairs]

    def code(self, pattern: str) -> Decimal:
        """A value set in the notebook's code (first match in any code cell)."""
        for cell in self.cells:
            match = cell.cell_type == "code" and re.search(pattern, cell.source, re.MULTILINE)
            if match:
                return number(match.group(1))
        raise LookupError(f"no code matches {pattern!r}")

    def result(self, model_id: str, key: str = "test_accuracy") -> Decimal:
        return Decimal(str(self.results[model_id][key]))

    def across_seeds(self, model_id: str, key: str) -> Decimal:
        """``mean``, ``sd`` or ``min`` of a model's test accuracy over ``make seeds``'s seeds."""
        return Decimal(str(self.seeds[model_id][key]))


@dataclass(frozen=True)
class Stated:
    """A number in the prose (group ``n`` of ``pattern``) equals ``truth`` at its rounding."""
    notebook: str
    pattern: str
    truth: Callable[[Prose], Decimal]


@dataclass(frozen=True)
class Holds:
    """A comparison the prose makes is true of the results."""
    notebook: str
    pattern: str
    truth: Callable[[Prose], bool]


def as_stated(value: Decimal, stated: str) -> Decimal:
    """``value`` rounded to as many decimals as ``stated`` has (half up, as people round)."""
    decimals = len(stated.partition(".")[2])
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def check(claims, notebooks: dict, results: dict, seeds: dict | None = None) -> list:
    """Every way the prose disagrees with the outputs, as readable messages."""
    problems = []
    for claim in claims:
        where = f"{claim.notebook}: {claim.pattern!r}"
        cells = notebooks[claim.notebook].cells
        hits = [(i, m) for i, cell in enumerate(cells) if cell.cell_type == "markdown"
                for m in [re.search(claim.pattern, prose_text(cell))] if m]
        if len(hits) != 1:
            problems.append(f"{where} matches {len(hits)} markdown cells, not exactly one")
            continue
        index, match = hits[0]
        prose = Prose(cells, index, results, seeds)
        try:
            truth = claim.truth(prose)
        except (LookupError, KeyError) as error:
            problems.append(f"{where}: {error}")
            continue
        if isinstance(claim, Stated):
            stated = match.group("n")
            if Decimal(stated) != as_stated(truth, stated):
                problems.append(f"{where} says {stated}, the outputs say {truth} "
                                f"({as_stated(truth, stated)} at that rounding)")
        elif not truth:
            problems.append(f"{where} is not true of the outputs")
    return problems


def unstated_evaluations(notebook, claims) -> list:
    """Indices of evaluation cells with no checked number in the markdown next to them."""
    patterns = [claim.pattern for claim in claims if isinstance(claim, Stated)]
    cells = notebook.cells

    def states_a_number(index):
        return index is not None and any(re.search(p, prose_text(cells[index])) for p in patterns)

    missing = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and EVALUATION.search(cell.source):
            before = next((j for j in range(i - 1, -1, -1) if cells[j].cell_type == "markdown"), None)
            after = next((j for j in range(i + 1, len(cells)) if cells[j].cell_type == "markdown"), None)
            if not (states_a_number(before) or states_a_number(after)):
                missing.append(i)
    return missing


# --- what the lessons' outputs look like -------------------------------------------

def lesson04_row(p: Prose, model_id: str) -> dict:
    """One model's row of lesson 04's comparison table."""
    names = ["params", "epochs", "seconds", "accuracy", "loss"]
    pattern = rf"^{model_id} .*?\s([\d,]+)\s+(\d+)\s+([\d.]+)\s+(0\.\d+)\s+(0\.\d+)$"
    return {name: p.printed(pattern, group) for group, name in enumerate(names, start=1)}


def lesson04_margins(p: Prose) -> dict:
    return {m: lesson04_row(p, m)["accuracy"] - floor(m)
            for m in ("B2", "B5", "B6")}


def fashion_classes(p: Prose) -> dict:
    return p.printed_pairs(r"^  (\S[^\n]*?)\s+(0\.\d+)$")


def cifar_classes(p: Prose) -> dict:
    line = re.escape("per-class accuracy: ")
    for cell in p._code_cells(after=False):
        text = output_text(cell)
        if re.search(line, text):
            listing = text.split("per-class accuracy: ", 1)[1].splitlines()[0]
            return {name: number(value) for name, value in
                    (item.rsplit(" ", 1) for item in listing.split(", "))}
    raise LookupError("no per-class accuracy printed before it")


def lowest(scores: dict, n: int) -> set:
    return set(sorted(scores, key=scores.get)[:n])


def floor(model_id: str) -> Decimal:
    return Decimal(str(facts.MODELS[model_id].floor))


def even_epochs(step_ms: list) -> bool:
    """Every epoch after the first (which also traces the model) ran at about one speed:
    none took 1.3 times the fastest one's time per step, where a slowed epoch takes 1.6."""
    return len(step_ms) > 2 and max(step_ms[1:]) < Decimal("1.3") * min(step_ms[1:])


def spread(notebook: str, model_id: str, mean: str, sd: str, lowest: str, in_percent: bool = False) -> list:
    """Claims for a sentence giving a model's mean, standard deviation and lowest test
    accuracy over the seeds of ``make seeds`` (group ``n`` of each pattern)."""
    scale = percent if in_percent else Decimal
    return [Stated(notebook, pattern, lambda p, key=key: scale(p.across_seeds(model_id, key)))
            for key, pattern in (("mean", mean), ("sd", sd), ("min", lowest))]


def errors_of(accuracy: Decimal, images: int = 10_000) -> Decimal:
    return (1 - accuracy) * images


def lesson08_rows(p: Prose, pattern: str) -> dict:
    """label -> (percent, ...) for each line of a lesson 08 score printout before the prose."""
    for cell in p._code_cells(after=False):
        rows = re.findall(pattern, output_text(cell), re.MULTILINE)
        if rows:
            return {label: tuple(number(v) for v in values) for label, *values in rows}
    raise LookupError(f"no output before it matches {pattern!r}")


def lesson08_validation(p: Prose) -> dict:
    return lesson08_rows(p, r"^([^:\n]+): real drawings ([\d.]+)%; generated other style ([\d.]+)%$")


def lesson08_shear(p: Prose) -> dict:
    return lesson08_rows(p, r"^([^:\n]+): own training drawings ([\d.]+)%; real drawings ([\d.]+)%; "
                            r"generated other style ([\d.]+)%$")


def lesson08_test(p: Prose) -> dict:
    return lesson08_rows(p, r"^(E1\S*)\s+([\d.]+)%\s+([\d.]+)%$")


def lesson08_probabilities(p: Prose) -> dict:
    """file -> (true class, {class: probability}) from the table of E1's test predictions."""
    rows = lesson08_rows(p, r"^(\w+\.png)\s+\w+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$")
    return {name: (name.rsplit("_", 1)[0], dict(zip(("circle", "rectangle", "triangle"), row)))
            for name, row in rows.items()}


def least_certain(probabilities: dict) -> str:
    return min(probabilities, key=lambda name: max(probabilities[name][1].values()))


def first_epoch_reaching(epochs: list, val_accuracy: Decimal) -> int:
    """The number (from 1) of the first epoch whose validation accuracy reaches ``val_accuracy``."""
    return next(number for number, epoch in enumerate(epochs, 1) if epoch["val_accuracy"] >= val_accuracy)


def tutorial_recipe_seconds(p) -> Decimal:
    """Lesson 07: 10 epochs of 313 steps (40,000 images in batches of 128) at Part 1's
    median time per step, its first epoch (tracing) left out."""
    steps = sorted(epoch["ms_per_step"] for epoch in p.epochs(after=True)[1:])
    return 10 * 313 * steps[len(steps) // 2] / 1000


def notebook_seconds(name: str) -> Decimal:
    return Decimal(str(json.loads((ROOT / "figures" / "notebook_times.json").read_text())[name]))


L02, L03, L04, L05, L06, L07, L08 = CHECKED
E1_TEST = r"E1 test accuracy: ([\d.]+)% \(tutorial: 100%\), test loss ([\d.]+)"
QUICKDRAW = "quickdraw_test_accuracy"
B1_ACC = r"B1:? test accuracy (0\.\d+)"
B3_LINE = r"B3 test accuracy (0\.\d+), test error ([\d.]+)%"
PART1_LAST = r"weights of the last epoch \(\d+\):\s+test loss ([\d.]+), accuracy ([\d.]+)"
PART1_KEPT = r"weights kept by early stopping \((\d+)\): test loss ([\d.]+), accuracy ([\d.]+)"
TABLE_TEST = r"^test accuracy\s+-\s+(0\.\d+)"

CLAIMS = [
    # 02: two dense networks
    Holds(L02, r"which is 94 steps per epoch",
          lambda p: p.printed(r"^(\d+)/\d+ - ", after=True) == 94),
    Holds(L02, r"the two epochs take seconds, not minutes",
          lambda p: p.printed(r"^Epoch \d+/(\d+)") == 2 and p.printed(r"training took (\d+) s") < 60),
    Holds(L02, r"Validation accuracy is not below training accuracy",
          lambda p: all(e["val_accuracy"] >= e["accuracy"] for e in p.epochs()) and len(p.epochs()) == 2),
    Holds(L02, r"two are enough to pass the tutorial's number",
          lambda p: p.printed(B1_ACC, after=True) > floor("B1")),
    Stated(L02, r"B1 gets (?P<n>[\d.]+)% of the test digits right", lambda p: percent(p.printed(B1_ACC))),
    Stated(L02, r"its test loss, (?P<n>[\d.]+), is below",
           lambda p: p.printed(r"B1 test (?:accuracy 0\.\d+, )?loss (0\.\d+)")),
    Holds(L02, r"is below the tutorial's 0\.2772",
          lambda p: p.printed(r"B1 test (?:accuracy 0\.\d+, )?loss (0\.\d+)") < Decimal("0.2772")),
    Stated(L02, r"its last epoch's accuracy, (?P<n>0\.\d+), is above the tutorial's 0\.9183",
           lambda p: p.epochs()[-1]["val_accuracy"]),
    Holds(L02, r"its last epoch's accuracy, 0\.\d+, is above the tutorial's 0\.9183",
          lambda p: p.epochs()[-1]["val_accuracy"] > Decimal("0.9183")),
    Holds(L02, r"Validation accuracy and loss improve in every epoch, by less each time, and in the third "
               r"epoch training accuracy overtakes validation accuracy",
          lambda p: [e["accuracy"] > e["val_accuracy"] for e in p.epochs()] == [False, False, True]
          and p.epochs()[0]["val_accuracy"] < p.epochs()[1]["val_accuracy"] < p.epochs()[2]["val_accuracy"]
          and p.epochs()[0]["val_loss"] > p.epochs()[1]["val_loss"] > p.epochs()[2]["val_loss"]
          and p.epochs()[1]["val_accuracy"] - p.epochs()[0]["val_accuracy"]
          > p.epochs()[2]["val_accuracy"] - p.epochs()[1]["val_accuracy"]
          and p.epochs()[0]["val_loss"] - p.epochs()[1]["val_loss"]
          > p.epochs()[1]["val_loss"] - p.epochs()[2]["val_loss"]),
    Stated(L02, r"B2 gets (?P<n>[\d.]+)% right", lambda p: percent(p.printed(r"B2 test accuracy (0\.\d+)"))),
    Stated(L02, r"right and B1 (?P<n>[\d.]+)%", lambda p: percent(p.printed(B1_ACC))),
    Holds(L02, r"B2 is the more accurate, with fewer parameters",
          lambda p: p.printed(r"B2 test accuracy (0\.\d+)") > p.printed(B1_ACC)
          and p.printed(r"B2 test accuracy 0\.\d+ +\(([\d,]+) parameters")
          < p.printed(r"B1 test accuracy 0\.\d+ +\(([\d,]+) parameters")),
    Holds(L02, r"Both are still short of the 99% that the best convolutional network of each of "
               r"lessons 03, 04 and 05 passes",
          lambda p: max(p.printed(B1_ACC), p.printed(r"B2 test accuracy (0\.\d+)")) < Decimal("0.99")
          and all(max(p.result(m) for m in lesson) >= Decimal("0.99")
                  for lesson in (("B3", "B4"), ("B5", "B6"), ("B7",)))),
    Stated(L02, r"gets to about (?P<n>\d+)%", lambda p: percent(p.result("B3"))),
    *spread(L02, "B1", r"with seeds 1, 2 and 3 \(`make seeds`\), B1's mean test accuracy is (?P<n>[\d.]+)%",
            r"B1's mean test accuracy is [\d.]+%, with a standard deviation of (?P<n>[\d.]+) points",
            r"points and (?P<n>[\d.]+)% at the lowest, so every seed passes the tutorial's 92\.2%",
            in_percent=True),
    Holds(L02, r"so every seed passes the tutorial's 92\.2%", lambda p: p.across_seeds("B1", "min") > floor("B1")),
    *spread(L02, "B2", r"With seeds 1, 2 and 3, B2's test accuracy averages (?P<n>[\d.]+)%",
            r"B2's test accuracy averages [\d.]+% \(standard deviation (?P<n>[\d.]+) points",
            r"points, lowest (?P<n>[\d.]+)%\): above the course's 97% target with every seed",
            in_percent=True),
    Holds(L02, r"above the course's 97% target with every seed",
          lambda p: p.across_seeds("B2", "min") >= floor("B2")),

    # 03: first CNNs, a saved model, a drawn digit
    Holds(L03, r"Training both models takes well under a minute on a 2-core laptop CPU",
          lambda p: p.result("B3", "train_seconds") + p.result("B4", "train_seconds") < 50),
    Holds(L03, r"and train 6 epochs", lambda p: p.printed(r"^Epoch \d+/(\d+)", after=True) == 6),
    Holds(L03, r"training took a few seconds per epoch",
          lambda p: p.printed(r"training took \d+ s \(([\d.]+) s per epoch") < 10),
    Holds(L03, r"Training accuracy stays below it to the end",
          lambda p: all(e["accuracy"] < e["val_accuracy"] for e in p.epochs())),
    Stated(L03, r"B3 misreads (?P<n>[\d.]+)% of the test digits", lambda p: p.printed(B3_LINE, 2)),
    Holds(L03, r"against the tutorial's 1\.07%: a little better", lambda p: p.printed(B3_LINE, 2) < Decimal("1.07")),
    Stated(L03, r"last epoch's validation accuracy, (?P<n>0\.\d+), is a little above the tutorial's 0\.9893",
           lambda p: p.printed(r"val\. acc\. last epoch\s+0\.9893\s+(0\.\d+)")),
    Holds(L03, r"is a little above the tutorial's 0\.9893",
          lambda p: Decimal("0") < p.printed(r"val\. acc\. last epoch\s+0\.9893\s+(0\.\d+)") - Decimal("0.9893")
          <= Decimal("0.005")),
    Stated(L03, r"after the first epoch ours, (?P<n>0\.\d+), was above its 0\.9758 too",
           lambda p: p.epochs()[0]["val_accuracy"]),
    Holds(L03, r"after the first epoch ours, 0\.\d+, was above its 0\.9758 too",
          lambda p: p.epochs()[0]["val_accuracy"] > Decimal("0.9758")),
    Stated(L03, r"test accuracy of (?P<n>[\d.]+)% means", lambda p: percent(p.printed(B3_LINE))),
    Stated(L03, r"(?P<n>\d+) of the 10,000, is still misread", lambda p: errors_of(p.printed(B3_LINE))),
    Holds(L03, r"single epoch, which takes validation accuracy past the 0\.9433 the tutorial reached after ten",
          lambda p: p.printed(r"^epochs\s+10\s+(\d+)$", after=True) == 1
          and p.printed(r"val_accuracy: (0\.\d+)", after=True) > Decimal("0.9433")),
    Holds(L03, r"With one epoch there is one point per curve", lambda p: len(p.epochs()) == 1),
    Stated(L03, r"B4's training accuracy, (?P<n>0\.\d+), below", lambda p: p.epochs()[0]["accuracy"]),
    Stated(L03, r"below its validation accuracy, (?P<n>0\.\d+): Keras averages",
           lambda p: p.epochs()[0]["val_accuracy"]),
    Holds(L03, r"training accuracy, 0\.\d+, below its validation accuracy",
          lambda p: p.epochs()[0]["accuracy"] < p.epochs()[0]["val_accuracy"]),
    Stated(L03, r"B4 gets (?P<n>[\d.]+)% of the test digits right",
           lambda p: percent(p.printed(r"test accuracy\s+not reported\s+(0\.\d+)"))),
    Stated(L03, r"Its validation accuracy, (?P<n>0\.\d+), is far above the tutorial's 0\.9433",
           lambda p: p.printed(r"validation accuracy\s+0\.9433\s+(0\.\d+)")),
    Stated(L03, r"The reloaded model scores (?P<n>0\.\d+) on the validation set",
           lambda p: p.printed(r"validation accuracy (0\.\d+) \(best")),
    Holds(L03, r"on the validation set, the best epoch's accuracy",
          lambda p: p.printed(r"validation accuracy (0\.\d+) \(best")
          == p.printed(r"best during training: (0\.\d+)")),
    Stated(L03, r"reads the drawing as a (?P<n>\d),", lambda p: p.printed(r"guess 1: (\d)")),
    Stated(L03, r"with a probability of (?P<n>[\d.]+) to four decimals",
           lambda p: p.printed(r"guess 1: \d with probability ([\d.]+)")),
    Stated(L03, r"B3 misread (?P<n>[\d.]+)% of the test digits", lambda p: 100 - percent(p.result("B3"))),
    Stated(L03, r"B4 reached a test accuracy of (?P<n>[\d.]+)%", lambda p: percent(p.result("B4"))),
    *spread(L03, "B3", r"\(`make seeds`\), B3's test accuracy is (?P<n>[\d.]+)% on average",
            r"B3's test accuracy is [\d.]+% on average \(standard deviation (?P<n>[\d.]+) points",
            r"and (?P<n>[\d.]+)% at the lowest, above the tutorial's 98\.93% every time",
            in_percent=True),
    Holds(L03, r"B3's test accuracy .* above the tutorial's 98\.93% every time",
          lambda p: p.across_seeds("B3", "min") > floor("B3")),
    *spread(L03, "B4", r"With seeds 1, 2 and 3, B4's single epoch gives a mean test accuracy of (?P<n>[\d.]+)%",
            r"B4's single epoch gives a mean test accuracy of [\d.]+% \(standard deviation (?P<n>[\d.]+)",
            r"points, lowest (?P<n>[\d.]+)%\), well above 0\.9433 with every seed",
            in_percent=True),
    Holds(L03, r"well above 0\.9433 with every seed", lambda p: p.across_seeds("B4", "min") > floor("B4")),

    # 04: MLP vs CNN vs deep CNN
    Holds(L04, r"under a minute for all three models \(most of it for the deep CNN\)",
          lambda p: sum(p.result(m, "train_seconds") for m in ("B2", "B5", "B6")) < 60
          and max(("B2", "B5", "B6"), key=lambda m: p.result(m, "train_seconds")) == "B6"),
    Holds(L04, r"30 epochs of it alone would take several minutes on a 2-core CPU even with batches of 128",
          lambda p: 30 * p.result("B6", "train_seconds") / p.result("B6", "epochs") > 180
          and p.result("B6", "batch_size") == 128),
    Holds(L04, r"the whole cost of training: seconds per epoch, not minutes",
          lambda p: max(lesson04_row(p, m)["seconds"] / lesson04_row(p, m)["epochs"]
                        for m in ("B2", "B5", "B6")) < 60),
    Holds(L04, r"to train all three in well under a minute on a 2-core CPU",
          lambda p: sum(lesson04_row(p, m)["seconds"] for m in ("B2", "B5", "B6")) < 50),
    Stated(L04, r"the MLP \(B2\) gets (?P<n>[\d.]+)% of the digits right",
           lambda p: percent(lesson04_row(p, "B2")["accuracy"])),
    Stated(L04, r"the small CNN \(B5\) (?P<n>[\d.]+)%", lambda p: percent(lesson04_row(p, "B5")["accuracy"])),
    Stated(L04, r"the deep CNN \(B6\) (?P<n>[\d.]+)%", lambda p: percent(lesson04_row(p, "B6")["accuracy"])),
    Holds(L04, r"The CNN beats the MLP with fewer parameters \(217,194 against 335,114\)",
          lambda p: lesson04_row(p, "B5")["accuracy"] > lesson04_row(p, "B2")["accuracy"]
          and (lesson04_row(p, "B5")["params"], lesson04_row(p, "B2")["params"]) == (217_194, 335_114)),
    Holds(L04, r"The deep CNN is the most accurate but costs the most time per epoch",
          lambda p: max(("B2", "B5", "B6"), key=lambda m: lesson04_row(p, m)["accuracy"]) == "B6"
          and max(("B2", "B5", "B6"), key=lambda m: lesson04_row(p, m)["seconds"]
                  / lesson04_row(p, m)["epochs"]) == "B6"),
    Stated(L04, r"in its third epoch \((?P<n>0\.\d+) against", lambda p: p.epochs(2)[2]["accuracy"]),
    Stated(L04, r"against (?P<n>0\.\d+)\): the first sign of over-fitting", lambda p: p.epochs(2)[2]["val_accuracy"]),
    Holds(L04, r"overtakes its validation accuracy in its third epoch",
          lambda p: [e["accuracy"] > e["val_accuracy"] for e in p.epochs(2)] == [False, False, True]),
    Stated(L04, r"The MLP gets (?P<n>\d+) of the 10,000 test digits wrong",
           lambda p: errors_of(lesson04_row(p, "B2")["accuracy"])),
    Stated(L04, r"wrong, the CNN (?P<n>\d+) and", lambda p: errors_of(lesson04_row(p, "B5")["accuracy"])),
    Stated(L04, r"and the deep CNN (?P<n>\d+)\.", lambda p: errors_of(lesson04_row(p, "B6")["accuracy"])),
    Holds(L04, r"the deeper CNN with dropout beats both and passes 99% test accuracy",
          lambda p: lesson04_row(p, "B6")["accuracy"] >= Decimal("0.99")
          and lesson04_row(p, "B6")["accuracy"] > lesson04_row(p, "B5")["accuracy"] > lesson04_row(p, "B2")["accuracy"]),
    Holds(L04, r"B6 ends closest to its floor \(0\.\d+ against 0\.99\)",
          lambda p: min(lesson04_margins(p), key=lesson04_margins(p).get) == "B6"
          and facts.MODELS["B6"].floor == 0.99),
    Stated(L04, r"B6 ends closest to its floor \((?P<n>0\.\d+) against", lambda p: lesson04_row(p, "B6")["accuracy"]),
    Holds(L04, r"seed 1 is this lesson's own", lambda p: p.code(r"run_seed\((\d+)\)") == 1),
    *spread(L04, "B5", r"Over those seeds B5's test accuracy averages (?P<n>0\.\d+)",
            r"B5's test accuracy averages 0\.\d+ \(standard deviation (?P<n>0\.\d+)",
            r"B5's test accuracy averages 0\.\d+ \(standard deviation 0\.\d+, lowest (?P<n>0\.\d+)\)"),
    Holds(L04, r"lowest 0\.\d+\), above its floor of 0\.985\.",
          lambda p: p.across_seeds("B5", "min") > floor("B5") == Decimal("0.985")),
    *spread(L04, "B6", r"Over the same seeds B6's test accuracy averages (?P<n>0\.\d+)",
            r"B6's test accuracy averages 0\.\d+ \(standard deviation (?P<n>0\.\d+)",
            r"B6's test accuracy averages 0\.\d+ \(standard deviation 0\.\d+, lowest (?P<n>0\.\d+)\)"),
    Holds(L04, r"lowest 0\.\d+\), above its floor of 0\.99\.",
          lambda p: p.across_seeds("B6", "min") > floor("B6") == Decimal("0.99")),
    Stated(L04, r"over seeds 1, 2 and 3 B5's lowest result comes closer to its own \((?P<n>0\.\d+) against 0\.985\)",
           lambda p: p.across_seeds("B5", "min")),
    Holds(L04, r"B5's lowest result comes closer to its own",
          lambda p: p.across_seeds("B5", "min") - Decimal("0.985") < p.across_seeds("B6", "min") - Decimal("0.99")),

    # 05: VGG-style network, label smoothing, throughput
    Stated(L05, r"Even a prediction of exactly 0\.91 and 0\.01, the best there is, scores about (?P<n>0\.\d+),",
           lambda p: p.printed(r"lowest possible loss: (0\.\d+) with smoothed targets")),
    Stated(L05, r"from 0 \(the \*\*warm-up\*\*, (?P<n>\d+) steps\)",
           lambda p: p.printed(r"\d+ training steps: (\d+) climbing", after=True)),
    Holds(L05, r"Estimated time for a full run on a 2-core CPU: under a minute \(most of it training\)",
          lambda p: notebook_seconds(L05) < 60 and p.result("B7", "train_seconds") > notebook_seconds(L05) / 2),
    Holds(L05, r"its matrix products run more than three times as fast in bfloat16 as in float32",
          lambda p: p.printed(r"bfloat16 / float32 matrix-product speed: ([\d.]+)x", after=True) > 3),
    Holds(L05, r"Training took under a minute on this 2-core CPU",
          lambda p: p.printed(r"training took (\d+) s for") < 60),
    Stated(L05, r"shows a training accuracy of (?P<n>0\.\d+) and", lambda p: p.epochs()[-1]["accuracy"]),
    Stated(L05, r"and a validation accuracy of (?P<n>0\.\d+)\.", lambda p: p.epochs()[-1]["val_accuracy"]),
    Holds(L05, r"That is why validation looks better than training here",
          lambda p: p.epochs()[-1]["val_accuracy"] > p.epochs()[-1]["accuracy"]),
    Holds(L05, r"bfloat16 matrix products ran more than three times as fast as float32 ones here",
          lambda p: p.printed(r"bfloat16 / float32 matrix-product speed: ([\d.]+)x") > 3),
    Holds(L05, r"stayed well below the bfloat16 rate",
          lambda p: p.printed(r"bfloat16 matrix products: \d+ GFLOP/s \(training reached (\d+)% of it\)") < 60),
    Stated(L05, r"Training reached (?P<n>\d+) GFLOP/s, \d+% of the float32 rate",
           lambda p: p.printed(r"^training throughput: [\d,]+ images/s = (\d+) GFLOP/s")),
    Stated(L05, r"Training reached \d+ GFLOP/s, (?P<n>\d+)% of the float32 rate",
           lambda p: p.printed(r"^float32 matrix products: \d+ GFLOP/s \(training reached (\d+)% of it\)")),
    Holds(L05, r"of the float32 rate: more than the fastest float32 arithmetic can deliver",
          lambda p: p.printed(r"^float32 matrix products: \d+ GFLOP/s \(training reached (\d+)% of it\)") > 100),
    Holds(L05, r"matrix products in bfloat16 ran more than three times as fast as in float32",
          lambda p: p.printed(r"bfloat16 / float32 matrix-product speed: ([\d.]+)x") > 3),
    Stated(L05, r"climbs from 0 to 0\.002 over the first (?P<n>\d+) steps",
           lambda p: p.printed(r"\d+ training steps: (\d+) climbing to")),
    Stated(L05, r"After (?P<n>\d+) epochs? the model gets", lambda p: p.printed(r"ours\s+0\.\d+\s+0\.\d+\s+(\d+)")),
    Stated(L05, r"the model gets (?P<n>[\d.]+)% of the test digits right", lambda p: percent(p.printed(r"ours\s+(0\.\d+)"))),
    Holds(L05, r"the tutorial reported 99\.1% after 20 epochs",
          lambda p: {"0.991", "20 epochs"} <= set(re.findall(r"[\d.]+(?: epochs)?", facts.MODELS["B7"].tutorial))),
    Stated(L05, r"the test loss is (?P<n>0\.\d+), just above", lambda p: p.printed(r"against smoothed targets: (0\.\d+)")),
    Stated(L05, r"just above the (?P<n>0\.\d+) that is the best possible", lambda p: p.printed(r"\(at best (0\.\d+)\)")),
    Holds(L05, r"just above the 0\.50 that is the best possible",
          lambda p: 0 < p.printed(r"against smoothed targets: (0\.\d+)") - p.printed(r"\(at best (0\.\d+)\)") < Decimal("0.05")),
    Stated(L05, r"the kind of loss the tutorial reported, is (?P<n>0\.\d+) against",
           lambda p: p.printed(r"ours\s+0\.\d+\s+(0\.\d+)")),
    Holds(L05, r"against the tutorial's 0\.0549: higher",
          lambda p: p.printed(r"ours\s+0\.\d+\s+(0\.\d+)") > Decimal("0.0549")
          and "loss 0.0549" in facts.MODELS["B7"].tutorial),
    Holds(L05, r"The smoothed model is right a little more often than the tutorial's",
          lambda p: Decimal("0.991") < p.printed(r"ours\s+(0\.\d+)") < Decimal("0.995")),
    Holds(L05, r"reaches the tutorial's 0\.991 test accuracy", lambda p: p.result("B7") >= Decimal("0.991")),
    Holds(L05, r"the lesson's own seed, 42, is not among them",
          lambda p: p.code(r"run_seed\((\d+)\)") == 42 and 42 not in p.seeds["B7"]["seeds"]),
    *spread(L05, "B7", r"Over seeds 1, 2 and 3, run by `make seeds`.*?B7's test accuracy averages (?P<n>0\.\d+)",
            r"B7's test accuracy averages 0\.\d+ \(standard deviation (?P<n>0\.\d+)",
            r"B7's test accuracy averages 0\.\d+ \(standard deviation 0\.\d+, lowest (?P<n>0\.\d+)\)"),
    Holds(L05, r"lowest 0\.\d+\), above the tutorial's 0\.991 every time",
          lambda p: p.across_seeds("B7", "min") > Decimal("0.991") == floor("B7")),

    # 06: Fashion-MNIST
    Holds(L06, r"about a minute \(20 epochs of a few seconds each\)",
          lambda p: p.code(r"^EPOCHS = 1 if QUICK else (\d+)") == p.result("C1", "epochs") == 20
          and p.result("C1", "train_seconds") < 90),
    Holds(L06, r"\*\*batches of 256\*\* \(`BATCH_SIZE`\), twice the tutorial's",
          lambda p: p.code(r"^BATCH_SIZE = (\d+)") == 2 * 128),
    Holds(L06, r"starts at `LEARNING_RATE`, 0\.004, four times Adam's default",
          lambda p: p.code(r"^LEARNING_RATE = ([\d.]+)") == Decimal("0.004") == 4 * Decimal("0.001")),
    Holds(L06, r"\*\*20 epochs\*\* instead of 10", lambda p: p.code(r"^EPOCHS = 1 if QUICK else (\d+)") == 20),
    Holds(L06, r"\*\*label smoothing\*\* \(`LABEL_SMOOTHING`, 0\.1\)",
          lambda p: p.code(r"^LABEL_SMOOTHING = ([\d.]+)") == Decimal("0.1")),
    # Keras's smoothed target: 1 - s + s/10 for the right class, s/10 for the nine others.
    Holds(L06, r"the loss asks for 0\.91 and 0\.01 each",
          lambda p: (lambda s: (1 - s + s / 10, s / 10))(p.code(r"^LABEL_SMOOTHING = ([\d.]+)"))
          == (Decimal("0.91"), Decimal("0.01"))),
    # The least a smoothed loss can be: the cross-entropy of the targets with themselves.
    Holds(L06, r"this loss cannot fall below about 0\.50",
          lambda p: round(-(Decimal("0.91") * Decimal("0.91").ln() + 9 * Decimal("0.01") * Decimal("0.01").ln()), 2)
          == Decimal("0.50")),
    Holds(L06, r"with it off every epoch below uses both cores",
          lambda p: "train_batches = batches(" in p.cells[p.index + 1].source
          and "fit(train_batches" in p.cells[p.index + 5].source
          and even_epochs([epoch["ms_per_step"] for epoch in p.epochs(after=True)])),
    Holds(L06, r"Training took a few seconds per epoch on the 2-core CPU that ran this notebook",
          lambda p: p.printed(r"training took \d+ s \(([\d.]+) s per epoch") < 15),
    Stated(L06, r"validation accuracy \((?P<n>0\.\d+) against 0\.\d+ in the last epoch\)",
           lambda p: p.epochs()[-1]["accuracy"]),
    Stated(L06, r"validation accuracy \(0\.\d+ against (?P<n>0\.\d+) in the last epoch\)",
           lambda p: p.epochs()[-1]["val_accuracy"]),
    Holds(L06, r"the validation loss falls much more slowly than the training loss",
          lambda p: p.epochs()[0]["val_loss"] - p.epochs()[-1]["val_loss"]
          < (p.epochs()[0]["loss"] - p.epochs()[-1]["loss"]) / 2),
    Holds(L06, r"Both losses stay above the 0\.50 that the smoothed targets allow",
          lambda p: min(min(e["loss"], e["val_loss"]) for e in p.epochs()) > Decimal("0.50")),
    Stated(L06, r"C1 gets (?P<n>[\d.]+)% of the test images right", lambda p: percent(p.printed(TABLE_TEST))),
    Stated(L06, r"right \((?P<n>0\.\d+)\), above the tutorial's validation accuracy of 0\.9191",
           lambda p: p.printed(TABLE_TEST)),
    Holds(L06, r"above the tutorial's validation accuracy of 0\.9191;", lambda p: p.printed(TABLE_TEST) > Decimal("0.9191")),
    Stated(L06, r"its own validation accuracy ends at (?P<n>0\.\d+)",
           lambda p: p.printed(r"val accuracy \(last\)\s+0\.9191\s+(0\.\d+)")),
    Holds(L06, r"so the test set is a little harder than our validation split",
          lambda p: p.printed(TABLE_TEST) < p.printed(r"val accuracy \(last\)\s+0\.9191\s+(0\.\d+)")),
    Stated(L06, r"Its test loss is (?P<n>0\.\d+) with the smoothed targets",
           lambda p: p.printed(r"test loss: (0\.\d+) with the smoothed targets")),
    Stated(L06, r"as a run without smoothing would be, it is (?P<n>0\.\d+),",
           lambda p: p.printed(r"(0\.\d+) as plain cross-entropy")),
    Holds(L06, r"which can never fall below 0\.50",
          lambda p: p.printed(r"test loss: (0\.\d+) with the smoothed targets") > Decimal("0.50")),
    *spread(L06, "C1", r"C1's test accuracy over seeds 1, 2 and 3 averages (?P<n>0\.\d+)",
            r"averages 0\.\d+ \(standard deviation (?P<n>0\.\d+)\), and its lowest",
            r"and its lowest, (?P<n>0\.\d+), is above the tutorial's 0\.9191 too"),
    Holds(L06, r"is above the tutorial's 0\.9191 too", lambda p: p.across_seeds("C1", "min") > Decimal("0.9191") == floor("C1")),
    Stated(L06, r"a shirt taken for a T-shirt/top, (?P<n>\d+) of the 1,000 test shirts",
           lambda p: p.printed(r"most frequent mistake: Shirt predicted as T-shirt/top \((\d+) of 1000")),
    Holds(L06, r"Shirt is the weakest class", lambda p: lowest(fashion_classes(p), 1) == {"Shirt"}),
    Stated(L06, r"with only (?P<n>[\d.]+)% of shirts recognised", lambda p: percent(fashion_classes(p)["Shirt"])),
    Holds(L06, r"the four weakest classes are the four upper-body garments",
          lambda p: lowest(fashion_classes(p), 4) == {"Shirt", "Pullover", "T-shirt/top", "Coat"}),
    Holds(L06, r"Trousers, bags and the three kinds of footwear are each recognised more than 96% of the time",
          lambda p: min(fashion_classes(p)[c] for c in ("Trouser", "Bag", "Sandal", "Sneaker", "Ankle boot"))
          > Decimal("0.96")),
    Stated(L06, r"almost all other footwear: (?P<n>\d+) of its", lambda p: p.printed(r"footwear mistakes: \d+, of which (\d+)")),
    Stated(L06, r"of its (?P<n>\d+) mistakes", lambda p: p.printed(r"footwear mistakes: (\d+),")),
    Holds(L06, r"the footwear's mistakes are almost all other footwear",
          lambda p: p.printed(r"footwear mistakes: \d+, of which (\d+)") >= Decimal("0.9") * p.printed(r"footwear mistakes: (\d+),")),
    Stated(L06, r"reaches (?P<n>[\d.]+)% test accuracy, above the tutorial's validation accuracy of 91\.9%",
           lambda p: percent(p.result("C1"))),
    Holds(L06, r"above the tutorial's validation accuracy of 91\.9%", lambda p: p.result("C1") > Decimal("0.9191")),

    # 07: CIFAR-10
    Stated(L07, r"A full run of that on 40,000 images would take over (?P<n>\d+) minutes here",
           lambda p: Decimal(int(tutorial_recipe_seconds(p) // 60))),
    Stated(L07, r"the training accuracy is (?P<n>0\.\d+) and the validation accuracy",
           lambda p: p.printed(r"last epoch: training accuracy (0\.\d+)")),
    Stated(L07, r"the validation accuracy (?P<n>0\.\d+), a gap", lambda p: p.printed(r"validation accuracy (0\.\d+) \(gap")),
    Stated(L07, r"a gap of (?P<n>0\.\d+)", lambda p: p.printed(r"\(gap \+(0\.\d+)\)")),
    Stated(L07, r"lowest point at epoch (?P<n>\d+) and then rose", lambda p: p.printed(PART1_KEPT, 1)),
    Holds(L07, r"lowest point at epoch \d+ and then rose",
          lambda p: p.epochs()[-1]["val_loss"] > min(e["val_loss"] for e in p.epochs())),
    Stated(L07, r"the kept weights have the lower loss, (?P<n>[\d.]+) against", lambda p: p.printed(PART1_KEPT, 2)),
    Stated(L07, r"against (?P<n>[\d.]+) for the last epoch's", lambda p: p.printed(PART1_LAST, 1)),
    Holds(L07, r"the kept weights have the lower loss", lambda p: p.printed(PART1_KEPT, 2) < p.printed(PART1_LAST, 1)),
    Stated(L07, r"but not a higher accuracy: (?P<n>0\.\d+) against", lambda p: p.printed(PART1_KEPT, 3)),
    Stated(L07, r"higher accuracy: 0\.\d+ against (?P<n>0\.\d+)\.", lambda p: p.printed(PART1_LAST, 2)),
    Holds(L07, r"but not a higher accuracy", lambda p: p.printed(PART1_KEPT, 3) <= p.printed(PART1_LAST, 2)),
    Holds(L07, r"Starting small avoids that",
          lambda p: p.code(r"^PEAK_LEARNING_RATE = ([\d.]+)") == Decimal("0.002")
          and p.code(r"^WARMUP_FRACTION = ([\d.]+)") == Decimal("0.1")
          and p.printed(r"learning rate ([\d.]+) at step 0", after=True) == 0),
    Holds(L07, r"a few minutes at most, depending on how busy it is",
          lambda p: notebook_seconds(L07) < 360),
    Holds(L07, r"Part 2 is five epochs of 10 to 45 seconds each",
          lambda p: p.result("D1", "epochs") == 5
          and 10 <= p.result("D1", "train_seconds") / p.result("D1", "epochs") <= 45),
    Holds(L07, r"With these, \*\*5 epochs\*\* \(`EPOCHS`\) instead of 10", lambda p: p.code(r"^EPOCHS = 1 if QUICK else (\d+)") == 5),
    Holds(L07, r"\*\*batches of 64\*\* \(`FINAL_BATCH_SIZE`\) instead of 128",
          lambda p: (p.code(r"^FINAL_BATCH_SIZE = (\d+)"), p.code(r"^BATCH_SIZE = (\d+)")) == (64, 128)),
    Holds(L07, r"\*\*label smoothing\*\* \(`LABEL_SMOOTHING`, 0\.1, as in lessons 05 and 06\)",
          lambda p: p.code(r"^LABEL_SMOOTHING = ([\d.]+)") == Decimal("0.1")),
    Holds(L07, r"With autotuning off, as below, every epoch used both cores",
          lambda p: "train_batches = batches(" in p.cells[p.index + 1].source
          and "fit(train_batches" in p.cells[p.index + 7].source
          and even_epochs([epoch["ms_per_step"] for epoch in p.epochs(after=True)])),
    Holds(L07, r"an epoch took less than the 67–80 seconds per epoch",
          lambda p: p.printed(r"training took \d+ s \(([\d.]+) s per epoch") < 67),
    Holds(L07, r"stay much closer together than in Part 1",
          lambda p: p.epochs(0)[-1]["accuracy"] - p.epochs(0)[-1]["val_accuracy"]
          < (p.epochs(1)[-1]["accuracy"] - p.epochs(1)[-1]["val_accuracy"]) / 2),
    Holds(L07, r"both keep improving until the schedule's last, smallest steps",
          lambda p: all(b[key] > a[key] for a, b in zip(p.epochs(0), p.epochs(0)[1:])
                        for key in ("accuracy", "val_accuracy"))),
    Holds(L07, r"In the first epochs the training accuracy is even below the validation accuracy",
          lambda p: p.epochs(0)[0]["accuracy"] < p.epochs(0)[0]["val_accuracy"]),
    Stated(L07, r"D1 gets (?P<n>[\d.]+)% of the test images right", lambda p: percent(p.printed(TABLE_TEST))),
    Holds(L07, r"right, above the tutorial's best validation accuracy of 68\.0% \(0\.6804, in epoch 9\)",
          lambda p: p.printed(TABLE_TEST) > Decimal("0.6804")),
    Stated(L07, r"after (?P<n>\d+) epochs instead of 10", lambda p: p.printed(r"0\.6707 \(ep 10\)\s+0\.\d+ \(ep (\d+)\)")),
    Holds(L07, r"still rising in its last epoch",
          lambda p: p.epochs()[-1]["val_accuracy"] > p.epochs()[-2]["val_accuracy"]),
    Stated(L07, r"last epoch, ending at (?P<n>0\.\d+), above", lambda p: p.printed(r"0\.6707 \(ep 10\)\s+(0\.\d+) \(ep \d+\)")),
    Holds(L07, r"ending at 0\.\d+, above the tutorial's peak",
          lambda p: p.printed(r"0\.6707 \(ep 10\)\s+(0\.\d+) \(ep \d+\)") > Decimal("0.6804")),
    Stated(L07, r"The plain cross-entropy on the test set \((?P<n>[\d.]+)\)",
           lambda p: p.printed(r"test loss \(plain / smoothed\)\s+-\s+([\d.]+) /")),
    Stated(L07, r"the smoothed loss \((?P<n>[\d.]+)\) cannot fall",
           lambda p: p.printed(r"test loss \(plain / smoothed\)\s+-\s+[\d.]+ / ([\d.]+)")),
    *spread(L07, "D1", r"D1's test accuracy over seeds 1, 2 and 3 averages (?P<n>0\.\d+)",
            r"averages 0\.\d+ \(standard deviation (?P<n>0\.\d+)\)",
            r"but its lowest, (?P<n>0\.\d+), falls just short of it"),
    Holds(L07, r"D1's test accuracy over seeds 1, 2 and 3 averages 0\.\d+ \(standard deviation 0\.\d+\), above the tutorial's 0\.6804",
          lambda p: p.across_seeds("D1", "mean") >= Decimal("0.6804") == floor("D1")),
    Holds(L07, r"falls just short of it: five epochs meet the tutorial's number on average, not on every seed",
          lambda p: Decimal(0) < Decimal("0.6804") - p.across_seeds("D1", "min") < Decimal("0.01")
          and p.code(r"^EPOCHS = 1 if QUICK else (\d+)") == 5),
    Stated(L07, r"a cat taken for a dog, (?P<n>\d+) of the 1,000 test cats",
           lambda p: p.printed(r"most frequent mistake: cat predicted as dog \((\d+) of 1000")),
    Holds(L07, r"The four lowest accuracies all belong to animals, cat, bird, dog and deer \(0\.49 to 0\.61\)",
          lambda p: lowest(cifar_classes(p), 4) == {"bird", "cat", "deer", "dog"}
          and (min(cifar_classes(p).values()), max(cifar_classes(p)[c] for c in ("bird", "cat", "deer", "dog")))
          == (Decimal("0.49"), Decimal("0.61"))),
    Holds(L07, r"automobile and ship are among the four easiest classes \(0\.83 and 0\.80\)",
          lambda p: {"automobile", "ship"} <= set(sorted(cifar_classes(p), key=cifar_classes(p).get)[-4:])
          and (cifar_classes(p)["automobile"], cifar_classes(p)["ship"]) == (Decimal("0.83"), Decimal("0.80"))),
    Holds(L07, r"trained for 5 epochs, reach", lambda p: p.result("D1", "epochs") == 5),
    Stated(L07, r"reach (?P<n>[\d.]+)% test accuracy, above the tutorial's best validation accuracy of 68\.0%",
           lambda p: percent(p.result("D1"))),
    Holds(L07, r"test accuracy, above the tutorial's best validation accuracy of 68\.0% \(measured",
          lambda p: p.result("D1") > Decimal("0.6804")),

    # 08: hand-drawn shapes; one person's drawings, augmentation, many people's drawings
    # The run with the shear is not recorded; it trains as long as E1-augmented (same data and epochs).
    Holds(L08, r"\*\*Training time:\*\* under two minutes on a 2-core CPU for the four training runs together",
          lambda p: p.result("E1", "train_seconds") + 2 * p.result("E1-augmented", "train_seconds")
          + p.result("E1-final", "train_seconds") < 120),
    Holds(L08, r"E1 trained in well under half a minute", lambda p: p.printed(r"training took ([\d.]+) s") < 20),
    Stated(L08, r"E1 gets all 15 test drawings right, (?P<n>\d+)%", lambda p: p.printed(E1_TEST, 1)),
    Stated(L08, r"100% with a test loss of (?P<n>[\d.]+),", lambda p: p.printed(E1_TEST, 2)),
    Holds(L08, r"Every drawing goes to its own class",
          lambda p: all(max(probs, key=probs.get) == true for true, probs in lesson08_probabilities(p).values())),
    Holds(L08, r"The least certain is `triangle_04\.png`",
          lambda p: least_certain(lesson08_probabilities(p)) == "triangle_04.png"),
    Stated(L08, r"`triangle_04\.png`: (?P<n>[\d.]+) triangle",
           lambda p: lesson08_probabilities(p)["triangle_04.png"][1]["triangle"]),
    Stated(L08, r"triangle, (?P<n>[\d.]+) circle\.", lambda p: lesson08_probabilities(p)["triangle_04.png"][1]["circle"]),
    Stated(L08, r"gets only (?P<n>[\d.]+)% of the real validation drawings right",
           lambda p: lesson08_validation(p)["E1"][0]),
    Stated(L08, r"right, and (?P<n>[\d.]+)% of the generated other style: far from",
           lambda p: lesson08_validation(p)["E1"][1]),
    Holds(L08, r"above both a blind guess among three classes \(33%\) and the 40%",
          lambda p: min(lesson08_validation(p)["E1"]) > 40),
    Holds(L08, r"Both models recognise all of their own training drawings \(100% each\)",
          lambda p: [row[0] for row in lesson08_shear(p).values()] == [100, 100]),
    Holds(L08, r"the one with the shear is behind on the real drawings",
          lambda p: lesson08_shear(p)["with the shear"][1] < lesson08_shear(p)["without it"][1]
          and lesson08_shear(p)["with the shear"][2] > lesson08_shear(p)["without it"][2]),
    Stated(L08, r"behind on the real drawings \((?P<n>[\d.]+)% against", lambda p: lesson08_shear(p)["with the shear"][1]),
    Stated(L08, r"% against (?P<n>[\d.]+)%\) and ahead", lambda p: lesson08_shear(p)["without it"][1]),
    Stated(L08, r"ahead on the other style \((?P<n>[\d.]+)% against", lambda p: lesson08_shear(p)["with the shear"][2]),
    Stated(L08, r"% against (?P<n>[\d.]+)%\); with 60", lambda p: lesson08_shear(p)["without it"][2]),
    Holds(L08, r"with 60 and 90 drawings, that is eight drawings one way and seven the other",
          lambda p: [round((s - a) * n / 100) for s, a, n in zip(lesson08_shear(p)["with the shear"][1:],
                                                                 lesson08_shear(p)["without it"][1:], (60, 90))]
          == [-8, 7] and (p.printed(r"^real drawings: (\d+)"), p.printed(r"^generated other style: (\d+)")) == (60, 90)),
    Stated(L08, r"in the last epoch the model with it got (?P<n>[\d.]+)% of its augmented",
           lambda p: percent(p.epochs(1)[-1]["accuracy"])),
    Stated(L08, r"right, the one without (?P<n>[\d.]+)%\.", lambda p: percent(p.epochs(0)[-1]["accuracy"])),
    Stated(L08, r"Training accuracy climbs to (?P<n>[\d.]+)%", lambda p: percent(p.epochs()[-1]["accuracy"])),
    Stated(L08, r"validation accuracy stops near 70% after about (?P<n>\d+) epochs",
           lambda p: first_epoch_reaching(p.epochs(), Decimal("0.70"))),
    Holds(L08, r"validation accuracy stops near 70% after about \d+ epochs",
          lambda p: (lambda rest: abs(sum(e["val_accuracy"] for e in rest) / len(rest) - Decimal("0.70"))
                     < Decimal("0.03"))(p.epochs()[first_epoch_reaching(p.epochs(), Decimal("0.70")) - 1:])),
    Stated(L08, r"its loss rises from about (?P<n>[\d.]+) to", lambda p: p.epochs()[0]["val_loss"]),
    Stated(L08, r"its loss rises from about [\d.]+ to (?P<n>[\d.]+):", lambda p: p.epochs()[-1]["val_loss"]),
    Stated(L08, r"E1 gets (?P<n>[\d.]+)% of the real validation drawings and",
           lambda p: lesson08_validation(p)["E1, many people"][0]),
    Stated(L08, r"drawings and (?P<n>[\d.]+)% of the generated other style right",
           lambda p: lesson08_validation(p)["E1, many people"][1]),
    Stated(L08, r"against (?P<n>[\d.]+)% and [\d.]+% for E1 and", lambda p: lesson08_validation(p)["E1"][0]),
    Stated(L08, r"against [\d.]+% and (?P<n>[\d.]+)% for E1 and", lambda p: lesson08_validation(p)["E1"][1]),
    Stated(L08, r"for E1 and (?P<n>[\d.]+)% and [\d.]+% for E1 with augmentation",
           lambda p: lesson08_validation(p)["E1 + augmentation"][0]),
    Stated(L08, r"for E1 and [\d.]+% and (?P<n>[\d.]+)% for E1 with augmentation",
           lambda p: lesson08_validation(p)["E1 + augmentation"][1]),
    Stated(L08, r"rise together this time, ending at (?P<n>[\d.]+)% and",
           lambda p: percent(p.epochs()[-1]["accuracy"])),
    Stated(L08, r"ending at [\d.]+% and (?P<n>[\d.]+)%, where", lambda p: percent(p.epochs()[-1]["val_accuracy"])),
    Stated(L08, r"the one-person model ended (?P<n>\d+) points apart",
           lambda p: 100 * (p.epochs(1)[-1]["accuracy"] - p.epochs(1)[-1]["val_accuracy"])),
    Holds(L08, r"On the course's own 15 test drawings all three models score 100%",
          lambda p: [row[0] for row in lesson08_test(p).values()] == [100] * 3),
    Stated(L08, r"E1 trained on one person gets (?P<n>[\d.]+)% right", lambda p: lesson08_test(p)["E1"][1]),
    Stated(L08, r"with augmentation, (?P<n>[\d.]+)%, close to", lambda p: lesson08_test(p)["E1-augmented"][1]),
    Holds(L08, r"close to the 73\.3% of the tutorial's follow-up",
          lambda p: abs(lesson08_test(p)["E1-augmented"][1] - Decimal("73.3")) < 5),
    Stated(L08, r"trained on many people, (?P<n>[\d.]+)%, all but", lambda p: lesson08_test(p)["E1-final"][1]),
    Stated(L08, r"The final model, (?P<n>[\d.]+)% right on the real test drawings",
           lambda p: lesson08_test(p)["E1-final"][1]),
    Holds(L08, r"all but two drawings", lambda p: round((1 - p.result("E1-final", QUICKDRAW)) * 90) == 2),
    Holds(L08, r"That last model keeps 100% on the tidy drawings", lambda p: lesson08_test(p)["E1-final"][0] == 100),
    Holds(L08, r"gets all 15 of its test drawings right", lambda p: p.result("E1") == 1),
    Stated(L08, r"but only (?P<n>[\d.]+)% of real drawings by other people", lambda p: percent(p.result("E1", QUICKDRAW))),
    Stated(L08, r"Augmenting one person's drawings helps \((?P<n>[\d.]+)% on the real test drawings\)",
           lambda p: percent(p.result("E1-augmented", QUICKDRAW))),
    Stated(L08, r"drawings by many people help far more: (?P<n>[\d.]+)%",
           lambda p: percent(p.result("E1-final", QUICKDRAW))),
    Holds(L08, r"with 100% kept on the course's own test set", lambda p: p.result("E1-final") == 1),
]


@pytest.fixture(scope="module")
def lessons():
    return {name: nbformat.read(NOTEBOOKS / name, as_version=4) for name in CHECKED}


def test_the_prose_says_what_the_outputs_show(lessons):
    problems = check(CLAIMS, lessons, json.loads(RESULTS.read_text()), json.loads(SEEDS.read_text()))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("model", [m for m in FLOOR_MODELS if m.lesson in CHECKED],
                         ids=lambda m: m.id)
def test_every_floor_model_says_how_it_varies_across_seeds(model):
    said = [claim for claim in CLAIMS if claim.notebook == model.lesson
            and model.id in claim.pattern and "seed" in claim.pattern]
    assert said, (f"{model.lesson} does not say, in a checked sentence naming {model.id} and "
                  f"its seeds, how {model.id}'s test accuracy varies across the seeds of "
                  f"figures/seeds.json; add the sentence and its claim to CLAIMS")


@pytest.mark.parametrize("name", CHECKED)
def test_every_evaluation_is_stated_in_words(lessons, name):
    claims = [claim for claim in CLAIMS if claim.notebook == name]
    missing = unstated_evaluations(lessons[name], claims)
    assert not missing, (f"{name}: evaluation cell(s) {missing} have no checked number in the "
                         f"markdown next to them; say the result and add a claim to CLAIMS")


@pytest.mark.parametrize("name", CHECKED)
def test_no_lesson_points_at_a_cell_instead_of_saying_the_result(lessons, name):
    pointing = [POINTING.search(prose_text(c)).group() for c in lessons[name].cells
                if c.cell_type == "markdown" and POINTING.search(prose_text(c))]
    assert not pointing, f"{name}: say the result in words instead of {pointing}"


# --- the checker itself, on a made-up notebook --------------------------------------

def fake_notebook(prose: str, printed: str = "B9 test accuracy 0.9897\n", code_first: bool = True):
    code = nbformat.v4.new_code_cell("print(model.evaluate(x_test))", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=printed)])
    markdown = nbformat.v4.new_markdown_cell(prose)
    return nbformat.v4.new_notebook(cells=[code, markdown] if code_first else [markdown, code])


FAKE_CLAIMS = [
    Stated("fake", r"B9 gets (?P<n>[\d.]+)% of the test", lambda p: percent(p.printed(r"B9 test accuracy (0\.\d+)"))),
    Holds("fake", r"above the tutorial's 98%", lambda p: p.printed(r"B9 test accuracy (0\.\d+)") > Decimal("0.98")),
]


def run_fake(prose: str, **kwargs) -> list:
    return check(FAKE_CLAIMS, {"fake": fake_notebook(prose, **kwargs)}, results={})


@pytest.mark.parametrize("stated", ["99.0", "98.97", "99"])
def test_checker_accepts_a_number_at_any_rounding(stated):
    assert run_fake(f"B9 gets {stated}% of the test digits right, above the tutorial's 98%.") == []


@pytest.mark.parametrize("stated", ["98.9", "99.1", "98", "98.96"])
def test_checker_rejects_a_wrong_number(stated):
    problems = run_fake(f"B9 gets {stated}% of the test digits right, above the tutorial's 98%.")
    assert len(problems) == 1 and f"says {stated}" in problems[0]


def test_checker_rejects_a_false_comparison():
    problems = run_fake("B9 gets 99.0% of the test digits right, above the tutorial's 98%.",
                        printed="B9 test accuracy 0.9790\n")
    assert any("says 99.0" in p for p in problems)
    assert any("is not true" in p for p in problems)


def test_checker_rejects_a_sentence_that_is_gone_or_repeated():
    assert all("matches 0 markdown cells" in p for p in run_fake("B9 did well."))
    notebook = fake_notebook("B9 gets 99.0% of the test digits right, above the tutorial's 98%.")
    notebook.cells.append(notebook.cells[1].copy())
    problems = check(FAKE_CLAIMS, {"fake": notebook}, results={})
    assert len(problems) == 2 and all("matches 2 markdown cells" in p for p in problems)


def test_checker_reads_only_what_was_printed_before_the_sentence():
    problems = run_fake("B9 gets 99.0% of the test digits right, above the tutorial's 98%.", code_first=False)
    assert len(problems) == 2 and all("no output before it" in p for p in problems)


def test_an_evaluation_followed_by_a_pointer_is_reported():
    pointer = fake_notebook("The cell above prints the test accuracy.")
    assert unstated_evaluations(pointer, FAKE_CLAIMS) == [0]
    assert POINTING.search(prose_text(pointer.cells[1]))
    said = fake_notebook("B9 gets 99.0% of the test digits right.")
    assert unstated_evaluations(said, FAKE_CLAIMS) == []


def test_rounding_is_half_up_as_people_round():
    assert as_stated(Decimal("53.05"), "53.1") == Decimal("53.1")
    assert as_stated(Decimal("98.97"), "99") == Decimal("99")
    assert as_stated(Decimal("103.0000"), "103") == Decimal("103")
