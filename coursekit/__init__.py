"""coursekit: the chores every lesson needs and no learner has to study.

=====================  ==================================================================
``quick_mode()``       True under ``COURSE_QUICK=1``: small slices and one epoch (the tests)
``run_seed(42)``       the lesson's seed, or ``COURSE_SEED`` when ``make seeds`` sets it
``load_data(name)``    ``keras.datasets.<name>.load_data()`` from verified files
``save_figure(fig, name)``, ``save_model_diagram(model, name)``, ``model_path(name)``
                       where a lesson's figures, diagrams and saved models go
``compare_with_tutorial(id, accuracy)``, ``record_result(id, ...)``
                       a model's result beside its floor, stored in results.json
``check_image_folder(path)``  a folder of images checked before Keras reads it
``course_path("data/samples")``  one of the course's own files, wherever the course is
``choose_precision()`` the 16- or 32-bit number format this hardware computes fastest
``quiet_tensorflow_import()``, ``display_path(path)``, ``folder_setting(env, default)``
``facts``              models, tutorial numbers, floors and whose they are, the repository
                       (``course.toml``)
``lessons``            functions a lesson taught, for later lessons (``plot_history``,
                       ``batches``); imported on its own, since it brings TensorFlow
=====================  ==================================================================

One module per job: settings, datasets, outputs, results, images, display, facts, paths,
precision, errors; ``install`` is what a notebook opened alone runs to install the
course. This package re-exports what lessons call; tools and tests import the rest
from its module.
"""

from . import facts
from .datasets import DATASETS, load_data
from .display import quiet_tensorflow_import, save_model_diagram
from .errors import CourseError, DataError, SettingError
from .images import ImageFolderReport, check_image_folder
from .outputs import display_path, model_path, output_dir, save_figure
from .paths import course_path
from .precision import choose_precision
from .results import RESULTS_FILE, compare_with_tutorial, record_result
from .settings import check_settings, folder_setting, quick_mode, run_seed

__version__ = "2.0.0"

__all__ = [
    "facts",
    "quick_mode", "run_seed", "folder_setting", "check_settings",
    "DATASETS", "load_data",
    "output_dir", "display_path", "save_figure", "model_path",
    "RESULTS_FILE", "compare_with_tutorial", "record_result",
    "ImageFolderReport", "check_image_folder",
    "course_path", "choose_precision",
    "quiet_tensorflow_import", "save_model_diagram",
    "CourseError", "DataError", "SettingError",
]
