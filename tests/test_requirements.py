"""requirements.txt installs on every platform and Python the course supports: pip resolves
it for each target in a dry run (metadata only) against the package index, with the
target's environment markers (RESOLVE_FOR_TARGET: pip would evaluate ours and every
dependency's for the interpreter running it)."""
import concurrent.futures
import json
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from coursekit.paths import COURSE_ROOT

PYTHONS = ("3.11", "3.12", "3.13")
# Per platform: wheel tags, marker environment, and a dependency only its markers pull in
# (proof that pip resolved for the target, not for us). pip does not widen manylinux_2_X
# to older glibc versions as it widens macOS tags, so every one down from glibc 2.28 is
# listed (RHEL 8, Debian 10, Ubuntu 20.04); macOS 12 is TensorFlow 2.21's oldest.
PLATFORMS = {
    "linux-x86_64": dict(tags=[f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)] + [
        "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"], only_here=None,
        markers=dict(os_name="posix", sys_platform="linux", platform_system="Linux",
                     platform_machine="x86_64")),
    "macos-arm64": dict(tags=["macosx_12_0_arm64"], only_here="appnope", markers=dict(
        os_name="posix", sys_platform="darwin", platform_system="Darwin",
        platform_machine="arm64")),
    "windows-x86_64": dict(tags=["win_amd64"], only_here="pywinpty", markers=dict(
        os_name="nt", sys_platform="win32", platform_system="Windows", platform_machine="AMD64")),
}
TARGETS = [(platform, python) for platform in PLATFORMS for python in PYTHONS]
# pip in a child process, packaging's default marker environment replaced by the target's
# (argv[1], JSON); the rest of argv are pip's arguments.
RESOLVE_FOR_TARGET = """
import json, sys
import pip._vendor.packaging.markers as markers
target_environment = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(target_environment)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""
# pip's words for a request that never got an answer (as opposed to an answer saying no).
INDEX_UNREACHABLE = re.compile(r"connection broken by|Could not fetch URL|NewConnectionError|"
                               r"NameResolutionError|ConnectTimeout|ProxyError")


def marker_environment(platform, python):
    # x.0, as pip's --python-version assumes: a learner may have x.0.
    return dict(PLATFORMS[platform]["markers"], implementation_name="cpython",
                platform_python_implementation="CPython", implementation_version=f"{python}.0",
                python_full_version=f"{python}.0", python_version=python, platform_release="",
                platform_version="")


def requirements():
    lines = (line.strip() for line in (COURSE_ROOT / "requirements.txt").read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-e"))]


@pytest.mark.parametrize("platform,python", TARGETS)
def test_markers_select_exactly_one_tensorflow_per_platform(platform, python):
    environment = marker_environment(platform, python)
    tensorflows = [req.name for req in requirements() if req.name.lower().startswith("tensorflow")
                   and (req.marker is None or req.marker.evaluate(environment))]
    assert len(tensorflows) == 1, (
        f"requirements.txt selects {tensorflows or 'no tensorflow'} for {platform} "
        f"Python {python}; its markers must pick exactly one TensorFlow build")


def test_every_requirement_is_pinned():
    unpinned = [str(req) for req in requirements()
                if [spec.operator for spec in req.specifier] != ["=="]]
    assert not unpinned, f"requirements.txt: pin these with ==: {unpinned}"


def pip_dry_run(platform, python):
    tags = [arg for tag in PLATFORMS[platform]["tags"] for arg in ("--platform", tag)]
    environment = json.dumps(marker_environment(platform, python))
    finished = subprocess.run(  # --quiet: the report alone on stdout
        [sys.executable, "-c", RESOLVE_FOR_TARGET, environment,
         "install", "--dry-run", "--ignore-installed", "--quiet", "--only-binary=:all:",
         "--implementation", "cp", "--python-version", python, "--report", "-",
         "--retries", "3", "--timeout", "30", *tags, *map(str, requirements())],
        capture_output=True, text=True)
    return finished, (json.loads(finished.stdout) if finished.returncode == 0 else None)


@pytest.fixture(scope="module")
def resolutions():
    """pip's dry run for every target, in parallel: {(platform, python): (process, report)}."""
    with concurrent.futures.ThreadPoolExecutor(len(TARGETS)) as pool:
        return dict(zip(TARGETS, pool.map(lambda target: pip_dry_run(*target), TARGETS)))


@pytest.mark.release
@pytest.mark.parametrize("platform,python", TARGETS)
def test_requirements_resolve_from_the_index(resolutions, platform, python):
    finished, report = resolutions[platform, python]
    unreachable = INDEX_UNREACHABLE.search(finished.stderr)
    if finished.returncode != 0 and unreachable:
        pytest.skip(f"package index unreachable: pip says {unreachable.group()!r}")
    assert finished.returncode == 0, (
        f"pip cannot install requirements.txt on {platform} with Python {python}:\n"
        f"{finished.stderr}")
    installed = {canonicalize_name(item["metadata"]["name"]) for item in report["install"]}
    for other, facts in PLATFORMS.items():
        if facts["only_here"]:
            assert (facts["only_here"] in installed) == (other == platform), (
                f"{facts['only_here']} (needed on {other} only) resolved wrongly for "
                f"{platform}: pip did not apply {platform}'s environment markers")
