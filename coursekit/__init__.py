"""coursekit: the chores every lesson needs and no learner has to study.

=============================  ===========================================================
``load_data(name)``            ``keras.datasets.<name>.load_data()``, from verified files
``save_figure(fig, name)``     a figure into the run's output folder (``my-outputs/``)
``save_model_diagram(m, name)``  the layer diagram ``keras.utils.plot_model`` draws
``model_path(name)``           where a lesson saves a trained model (``models/``)
``course_path("data/...")``    one of the course's own files, wherever the course is
``check_image_folder(path)``   a folder of images checked before Keras reads it
``choose_precision()``         the 16- or 32-bit number format this hardware computes fastest
``tutorial(model_id)``         the numbers the source tutorial published for a model
``display_path(path)``         a path fit to print: relative to the course
=============================  ===========================================================

One module per job: ``datasets``, ``images``, ``outputs``, ``paths``, ``settings``
(``COURSE_DATA_DIR``), ``facts`` (``course.toml``), ``results``, ``precision``,
``display``, ``errors``; ``runtime`` is what the course's runner sets up inside a
lesson's kernel; ``lessons`` holds functions a lesson taught, for later lessons.
Importing the package changes nothing on disk and imports no TensorFlow.
"""

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
