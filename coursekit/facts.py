"""The course's facts from ``course.toml``: models, tutorial numbers, floors, repository.

Everything that would otherwise be written in several places (a lesson, a test, the
README table, the site, a badge) is written once in ``course.toml`` and read here.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import CourseError

__all__ = ["ModelFacts", "MODELS", "REPOSITORY", "BRANCH", "DATASET_TITLES",
           "REPO_URL_ENV", "model", "repository_url", "github_url", "colab_url"]

REPO_URL_ENV = "COURSE_REPO_URL"

_FACTS_FILE = Path(__file__).with_name("course.toml")
_FACTS = tomllib.loads(_FACTS_FILE.read_text(encoding="utf-8"))
FLOOR_SOURCES = ("tutorial", "course")


@dataclass(frozen=True)
class ModelFacts:
    """One model of the source tutorials, as the course reports it."""

    id: str
    title: str
    dataset: str
    lesson: str
    tutorial: str
    quick_floor: float
    floor: float | None = None  # None: a full run has no accuracy it must reach
    floor_source: str | None = None  # "tutorial" or "course": who set the floor

    def __post_init__(self):
        if (self.floor is None) != (self.floor_source is None) or (
                self.floor_source not in (None, *FLOOR_SOURCES)):
            raise CourseError(
                f"{_FACTS_FILE.name}, [models.{self.id}]: a floor needs floor_source = "
                f'"tutorial" (the tutorial published that number) or "course" (the '
                f"course's own target), and floor_source needs a floor")

    @property
    def floor_words(self) -> str:
        """The floor with where it comes from: "the tutorial's 0.9224", "the course's target 0.97"."""
        if self.floor is None:
            return "no floor"
        owner = "the tutorial's" if self.floor_source == "tutorial" else "the course's target"
        return f"{owner} {self.floor}"


MODELS: dict[str, ModelFacts] = {
    model_id: ModelFacts(id=model_id, **fields) for model_id, fields in _FACTS["models"].items()
}


def model(model_id: str) -> ModelFacts:
    """The facts of ``model_id``, or an error that says where models are declared."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise CourseError(
            f"{model_id!r} is not a model of the course: coursekit/course.toml declares "
            f"{', '.join(MODELS)}. A new model needs a [models.{model_id}] table there "
            f"(title, dataset, lesson, tutorial, quick_floor; floor and floor_source if a "
            f"full run must reach an accuracy).") from None


REPOSITORY: str = _FACTS["repository"]["slug"]
BRANCH: str = _FACTS["repository"]["branch"]
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def repository_url() -> str:
    """The repository's web address; ``COURSE_REPO_URL`` overrides it (mirrors, tests)."""
    return (os.environ.get(REPO_URL_ENV, "").strip() or f"https://github.com/{REPOSITORY}").rstrip("/")


def github_url(path: str = "", ref: str = BRANCH) -> str:
    """A file or folder of the repository on GitHub (its page, not its raw bytes)."""
    base = f"https://github.com/{REPOSITORY}"
    return f"{base}/blob/{ref}/{path}" if path else base


def colab_url(notebook: str, ref: str = BRANCH) -> str:
    """Open-in-Colab address of a lesson notebook (a file name in ``notebooks/``)."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{ref}/notebooks/{notebook}"

