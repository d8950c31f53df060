"""What a notebook shows: TensorFlow without its start-up noise, and model diagrams."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import CourseError
from .outputs import atomic_write_bytes, output_dir

__all__ = ["quiet_tensorflow_import", "save_model_diagram"]

_STARTUP_NOISE = re.compile(
    r"(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on)"
)


class RetracingWarningFilter(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...> triggered
    tf.function retracing" warning, and nothing else.

    Keras traces one training function per model, so a lesson that builds and trains
    several models in a loop (lesson 08) triggers it, although nothing is traced more
    than each new model needs. The warning is harmless there, and it carries a memory
    address that differs on every run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_tensorflow_import() -> None:
    """Import TensorFlow without its start-up INFO lines reaching the notebook.

    TensorFlow 2.21 writes two INFO lines (with a timestamp and a process id) to the
    C-level stderr on import, before any log-level setting applies. They would clutter
    every lesson and differ on every run, so they are dropped here; anything else
    TensorFlow writes while importing is passed on. Its Python logger also stops
    passing on the retracing warning (see :class:`RetracingWarningFilter`).
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Level 3 also hides TensorFlow 2.21's harmless "NodeDef mentions attribute
    # use_unbounded_threadpool" ERROR lines, printed by every fit() with validation
    # data. Real failures still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  (imported for its side effect)
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines():
                if line.strip() and not _STARTUP_NOISE.search(line):
                    print(line, file=sys.stderr)
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, RetracingWarningFilter) for f in logger.filters):
        logger.addFilter(RetracingWarningFilter())


def save_model_diagram(model, name: str) -> Path:
    """Draw ``model`` as a layer diagram (what ``keras.utils.plot_model`` draws).

    ``plot_model`` insists on the system's Graphviz ``dot`` program. This uses the same
    ``keras.utils.model_to_dot`` graph and renders it with ``dot`` when the system has
    it, else with ``graphviz-pure``, the pip-installable port the course installs.
    """
    import keras

    # graphviz-pure sits beside the kernel's Python, on PATH or not (a venv used
    # without activating it).
    venv_bin = str(Path(sys.executable).parent)
    program = shutil.which("dot") or shutil.which("graphviz-pure", path=venv_bin) \
        or shutil.which("graphviz-pure")
    if program is None:
        raise CourseError(
            "Drawing a model diagram needs Graphviz: `pip install graphviz-pure` (as "
            "requirements.txt does) or install Graphviz from your system's packages."
        )
    graph = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, dpi=70)
    path = output_dir() / f"{name}.png"
    atomic_write_bytes(path, graph.create(prog=program, format="png"))
    return path
