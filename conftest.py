"""Every test run is a quick run whose outputs go to a temporary folder.

Set here, before any notebook kernel starts, so that the kernels nbval launches
inherit the settings and the committed figures and results are never touched.
"""

import os
import shutil
import tempfile
from pathlib import Path

_OUTPUT_DIR = tempfile.mkdtemp(prefix="keras-course-test-")


def pytest_configure(config):
    os.environ["COURSE_QUICK"] = "1"  # even with COURSE_QUICK=0 exported in the shell
    os.environ["COURSE_OUTPUT_DIR"] = _OUTPUT_DIR
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def pytest_unconfigure(config):
    shutil.rmtree(_OUTPUT_DIR, ignore_errors=True)
