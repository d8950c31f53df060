"""coursekit: the chores every lesson needs and no learner has to study, one module per job
(CONTRIBUTING.md lists them); the names below are what a lesson calls. Importing it changes
nothing on disk and imports no TensorFlow."""

from .datasets import load_data
from .display import quiet_tensorflow_import, save_model_diagram
from .errors import CourseError, DataError, SettingError
from .facts import tutorial
from .images import check_image_folder
from .outputs import model_path, save_figure
from .paths import course_path, display_path
from .precision import choose_precision

__version__ = "3.0.0"

__all__ = ["load_data", "save_figure", "save_model_diagram", "model_path", "course_path",
           "check_image_folder", "choose_precision", "tutorial", "display_path",
           "quiet_tensorflow_import", "CourseError", "DataError", "SettingError"]
