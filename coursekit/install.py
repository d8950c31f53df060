"""Install what a lesson opened alone needs: missing dependencies, then coursekit itself.

Each lesson's set-up cell (its first code cell) runs this file as a script from the
course folder it has just fetched, ``python <course>/coursekit/install.py``, because
``coursekit`` cannot be imported before it is installed. So it uses the standard
library only. It prints one line saying what it installed.

What it installs, from the pins in the course's ``requirements.txt``:

* ``keras``, ``pydot``, ``graphviz-pure``: the pinned version, unless present at exactly
  that version. The lessons' code and diagrams were made with these versions.
* TensorFlow: only if missing or older than 2.16 (the first release Keras 3 runs on).
  A host's own TensorFlow is kept: Colab's is built for Colab's GPUs and drivers, and
  replacing it would download hundreds of megabytes and could lose the GPU.
* numpy, matplotlib, scikit-learn, Pillow: only if missing. Replacing them under a
  running Jupyter (Colab's numpy, for one) breaks packages built against them.

Anything else in ``requirements.txt`` (Jupyter, pytest, the site builder) a lesson
does not need. Then ``coursekit`` is installed editable from the course folder, so it
finds the course's ``data/``.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
EXACT = {"keras", "pydot", "graphviz-pure"}
IF_MISSING = {"numpy", "matplotlib", "scikit-learn", "pillow"}
TENSORFLOW_MINIMUM = (2, 16)
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)\s*==\s*(?P<version>[^\s;]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def to_install(requirement_lines: list[str], installed: dict[str, str]) -> list[str]:
    """The requirement lines a lesson needs that ``installed`` (name -> version) lacks.

    ``installed["tensorflow"]`` is the version of whichever distribution provides the
    ``tensorflow`` module (tensorflow, tensorflow-cpu, ...). Environment markers stay on
    the lines: pip installs a line only where its marker holds.
    """
    needed = []
    for line in requirement_lines:
        line = line.split("#", 1)[0].strip()
        pin = PIN.match(line)
        if not pin:
            continue
        name, version = normalized(pin["name"]), pin["version"]
        if name.startswith("tensorflow"):
            have = installed.get("tensorflow")
            if have is None or version_tuple(have) < TENSORFLOW_MINIMUM:
                needed.append(line)
        elif name in EXACT and installed.get(name) != version:
            needed.append(line)
        elif name in IF_MISSING and name not in installed:
            needed.append(line)
    return needed


def installed_versions() -> dict[str, str]:
    versions = {normalized(dist.metadata["Name"]): dist.version
                for dist in importlib.metadata.distributions() if dist.metadata["Name"]}
    providers = importlib.metadata.packages_distributions().get("tensorflow", [])
    if providers:
        versions["tensorflow"] = importlib.metadata.version(providers[0])
    return versions


def pip_install(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args],
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"pip install {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def main() -> None:
    requirements = (COURSE_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    needed = to_install(requirements, installed_versions())
    if needed:
        pip_install(*needed)
    # Without build isolation pip uses the setuptools already here (Colab has one)
    # instead of downloading one; a bare Python gets one from the index.
    try:
        isolation = [] if int(importlib.metadata.version("setuptools").split(".")[0]) < 64 \
            else ["--no-build-isolation"]
    except importlib.metadata.PackageNotFoundError:
        isolation = []
    pip_install("--no-deps", *isolation, "--editable", str(COURSE_ROOT))
    print(f"installed {', '.join(needed + ['coursekit'])}; every other package a lesson "
          f"needs was here")


if __name__ == "__main__":
    main()
