"""The errors the course raises for problems a learner can fix."""


class CourseError(Exception):
    """A problem the user can fix; the message says which file or setting and how."""


class DataError(CourseError):
    """A dataset file is missing, damaged or not what it claims to be."""


class SettingError(CourseError):
    """An environment variable has a value the course cannot use."""
