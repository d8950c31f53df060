"""The course's facts, written once in ``course.toml`` and read here: models, the
tutorials' numbers (a lesson reads them with :func:`tutorial`), floors, the repository."""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseError

REPO_URL_ENV = "COURSE_REPO_URL"
FACTS_FILE = Path(__file__).with_name("course.toml")
_FACTS = tomllib.loads(FACTS_FILE.read_text(encoding="utf-8"))
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
REPOSITORY: str = _FACTS["repository"]["slug"]
BRANCH: str = _FACTS["repository"]["branch"]


@dataclass(frozen=True)
class ModelFacts:
    """One model of the source tutorials, as the course reports it."""

    id: str
    title: str
    dataset: str
    lesson: str
    quick_floor: float
    reported: dict = field(default_factory=dict)
    floor_setting: float | str | None = None

    def __post_init__(self):
        headline, floor = self.reported.get("headline"), self.floor_setting
        if headline is not None and headline not in self.reported:
            self._wrong(f"reported.headline names {headline!r}, which it does not report")
        if floor == "tutorial" and not headline:
            self._wrong('floor = "tutorial" needs a reported headline number')
        if not (floor == "tutorial" or isinstance(floor, float | int | None)):
            self._wrong('floor must be "tutorial", a number, or absent')

    def _wrong(self, problem: str):
        raise CourseError(f"{FACTS_FILE.name}, [models.{self.id}]: {problem}.")

    @property
    def floor(self) -> float | None:
        """The test accuracy a full run must reach: the tutorial's headline accuracy (1
        minus a headline error), the course's own target, or None."""
        if self.floor_setting != "tutorial":
            return self.floor_setting
        value = self.reported[self.reported["headline"]]
        return round(1 - value, 6) if self.reported["headline"].endswith("_error") else value

    @property
    def floor_words(self) -> str:
        """The floor with whose it is: "the tutorial's 0.9224", "the course's target 0.97"."""
        if self.floor is None:
            return "no floor"
        owner = "the tutorial's" if self.floor_setting == "tutorial" else "the course's target"
        return f"{owner} {self.floor:g}"

    @property
    def tutorial(self) -> str:
        """What the tutorial reported, in words: "test error 1.07%", or "curves only"."""
        name = self.reported.get("headline")
        if name is None:
            return "curves only"
        value = self.reported[name]
        label = {"other_person_accuracy": "accuracy on another person's drawings"}.get(
            name, name.replace("_", " "))
        words = (f"{label} {value * 100:.2f}".rstrip("0").rstrip(".") + "%"
                 if self.dataset == "hand-drawn shapes" or name.endswith("_error")
                 else f"{label} {value:g}")
        return words + (f" (epoch {self.reported['epoch']})" if "epoch" in self.reported else "")


MODELS: dict[str, ModelFacts] = {
    model_id: ModelFacts(id=model_id, floor_setting=fields.pop("floor", None), **fields)
    for model_id, fields in _FACTS["models"].items()
}


def model(model_id: str) -> ModelFacts:
    """The facts of ``model_id``, or an error that says where models are declared."""
    if model_id not in MODELS:
        raise CourseError(f"{model_id!r} is not a model of the course: coursekit/course.toml "
                          f"declares {', '.join(MODELS)}. A new model needs a [models.{model_id}] "
                          f"table there (title, dataset, lesson, quick_floor, reported; floor if "
                          f"a full run must reach an accuracy).")
    return MODELS[model_id]


def tutorial(model_id: str) -> dict:
    """The numbers the source tutorial published for ``model_id`` (see ``course.toml``)."""
    return dict(model(model_id).reported)


def repository_url() -> str:
    """The repository's web address; ``COURSE_REPO_URL`` overrides it (mirrors, tests)."""
    return (os.environ.get(REPO_URL_ENV, "").strip()
            or f"https://github.com/{REPOSITORY}").rstrip("/")


def github_url(path: str = "", ref: str = BRANCH) -> str:
    """A file or folder of the repository on GitHub (its page, not its raw bytes)."""
    base = f"https://github.com/{REPOSITORY}"
    return f"{base}/blob/{ref}/{path}" if path else base


def colab_url(notebook: str, ref: str = BRANCH) -> str:
    """Open-in-Colab address of a lesson notebook (a file name in ``notebooks/``)."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{ref}/notebooks/{notebook}"
