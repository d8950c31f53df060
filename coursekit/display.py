"""What a notebook shows: TensorFlow without its start-up noise, and model diagrams."""

import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import CourseError
from .outputs import atomic_write_bytes, output_dir

_STARTUP_NOISE = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\) is called"
                            r"|I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on")


def _not_retracing(record: logging.LogRecord) -> bool:
    """Drop "... triggered tf.function retracing": lesson 08 trains several models in a
    loop, each traced once as it must be, and the warning's memory address differs per run."""
    return "triggered tf.function retracing" not in record.getMessage()


def quiet_tensorflow_import() -> None:
    """Import TensorFlow without the start-up lines (timestamped, so different on every
    run) it writes to the C-level stderr before any log setting applies; anything else it
    writes is passed on, and its logger drops the retracing warning."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Level 3 also hides TensorFlow 2.21's harmless "NodeDef mentions attribute
    # use_unbounded_threadpool" ERROR lines of every fit() with validation data (real
    # failures still raise Python exceptions).
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
    if _not_retracing not in logger.filters:
        logger.addFilter(_not_retracing)


def save_model_diagram(model, name: str) -> Path:
    """The layer diagram ``keras.utils.plot_model`` draws, without its need for the
    system's Graphviz: rendered by ``dot`` if there is one, else by ``graphviz-pure``."""
    import keras

    # graphviz-pure sits beside the kernel's Python, on PATH or not (a venv not activated).
    beside_python = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    program = shutil.which("dot") or shutil.which("graphviz-pure", path=beside_python)
    if program is None:
        raise CourseError("Drawing a model diagram needs Graphviz: `pip install graphviz-pure` "
                          "(as requirements.txt does) or install Graphviz from your system's "
                          "packages.")
    graph = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, dpi=70)
    path = output_dir() / f"{name}.png"
    atomic_write_bytes(path, graph.create(prog=program, format="png"))
    return path
