"""The course's facts from ``course.toml``: models, the tutorials' numbers, floors, repository.

Everything that would otherwise be typed in several places (a lesson, a test, the README
table, the benchmark, the site, a badge) is written once in ``course.toml`` and read here.
A lesson reads a tutorial's numbers with :func:`tutorial`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseError

__all__ = ["ModelFacts", "MODELS", "REPOSITORY", "BRANCH", "DATASET_TITLES", "REPO_URL_ENV",
           "model", "tutorial", "repository_url", "github_url", "colab_url"]

REPO_URL_ENV = "COURSE_REPO_URL"
FACTS_FILE = Path(__file__).with_name("course.toml")
_FACTS = tomllib.loads(FACTS_FILE.read_text(encoding="utf-8"))
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


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
        headline = self.reported.get("headline")
        if headline is not None and headline not in self.reported:
            self._wrong(f"reported.headline names {headline!r}, which it does not report")
        if self.floor_setting == "tutorial" and not headline:
            self._wrong('floor = "tutorial" needs a reported headline number')
        if not isinstance(self.floor_setting, (float, int, type(None))) and \
                self.floor_setting != "tutorial":
            self._wrong('floor must be "tutorial", a number, or absent')

    def _wrong(self, problem: str):
        raise CourseError(f"{FACTS_FILE.name}, [models.{self.id}]: {problem}.")

    @property
    def headline(self) -> float | None:
        """The tutorial's headline number as an accuracy (1 minus an error rate)."""
        name = self.reported.get("headline")
        if name is None:
            return None
        value = self.reported[name]
        return round(1 - value, 6) if name.endswith("_error") else value

    @property
    def floor(self) -> float | None:
        """The test accuracy a full run must reach, or None."""
        return self.headline if self.floor_setting == "tutorial" else self.floor_setting

    @property
    def floor_source(self) -> str | None:
        if self.floor_setting is None:
            return None
        return "tutorial" if self.floor_setting == "tutorial" else "course"

    @property
    def floor_words(self) -> str:
        """The floor with whose it is: "the tutorial's 0.9224", "the course's target 0.97"."""
        if self.floor is None:
            return "no floor"
        owner = "the tutorial's" if self.floor_source == "tutorial" else "the course's target"
        return f"{owner} {self.floor:g}"

    @property
    def tutorial(self) -> str:
        """What the tutorial reported, in words: "test error 1.07%", or "curves only"."""
        name = self.reported.get("headline")
        if name is None:
            return "curves only"
        words = describe(name, self.reported[name], percent=self.dataset == "hand-drawn shapes")
        if "epoch" in self.reported:
            words += f" (epoch {self.reported['epoch']})"
        return words


def describe(name: str, value, percent: bool = False) -> str:
    """A reported number in words: ("test_error", 0.0107) -> "test error 1.07%"."""
    label = {"other_person_accuracy": "accuracy on another person's drawings"}.get(
        name, name.replace("_", " "))
    if percent or name.endswith("_error"):
        return f"{label} {value * 100:.2f}".rstrip("0").rstrip(".") + "%"
    return f"{label} {value:g}"


MODELS: dict[str, ModelFacts] = {
    model_id: ModelFacts(id=model_id, floor_setting=fields.pop("floor", None), **fields)
    for model_id, fields in _FACTS["models"].items()
}


def model(model_id: str) -> ModelFacts:
    """The facts of ``model_id``, or an error that says where models are declared."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise CourseError(
            f"{model_id!r} is not a model of the course: coursekit/course.toml declares "
            f"{', '.join(MODELS)}. A new model needs a [models.{model_id}] table there "
            f"(title, dataset, lesson, quick_floor, reported; floor if a full run must "
            f"reach an accuracy).") from None


def tutorial(model_id: str) -> dict:
    """The numbers the source tutorial published for ``model_id`` (see ``course.toml``)."""
    return dict(model(model_id).reported)


REPOSITORY: str = _FACTS["repository"]["slug"]
BRANCH: str = _FACTS["repository"]["branch"]


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
