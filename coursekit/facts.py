"""The course's facts from ``course.toml``: models, tutorial numbers, floors, repository.

Everything that would otherwise be written in several places (a lesson, a test, the
README table, the site, a badge) is written once in ``course.toml`` and read here.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ModelFacts", "MODELS", "REPOSITORY", "BRANCH", "DATASET_TITLES",
           "REPO_URL_ENV", "repository_url", "github_url", "colab_url", "raw_url",
           "archive_url"]

REPO_URL_ENV = "COURSE_REPO_URL"

_FACTS = tomllib.loads((Path(__file__).with_name("course.toml")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ModelFacts:
    """One model of the source tutorials, as the course reports it."""

    id: str
    title: str
    dataset: str
    lesson: str
    tutorial: str
    quick_floor: float
    floor: float | None = None  # None: the tutorial reported no comparable number


MODELS: dict[str, ModelFacts] = {
    model_id: ModelFacts(id=model_id, **fields) for model_id, fields in _FACTS["models"].items()
}
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


def raw_url(path: str, ref: str = BRANCH) -> str:
    """The raw bytes of one repository file."""
    return f"https://raw.githubusercontent.com/{REPOSITORY}/{ref}/{path}"


def archive_url(ref: str) -> str:
    """A ``.tar.gz`` of the repository at ``ref`` (a tag or commit), under ``repository_url()``."""
    return f"{repository_url()}/archive/{ref}.tar.gz"
