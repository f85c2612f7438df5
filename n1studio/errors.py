"""Errors users can cause; the CLI prints them as one line, the GUI as a message."""


class N1Error(Exception):
    """Base of every error N-1 Studio reports to users instead of a traceback."""


class CaseError(N1Error):
    """A grid case that cannot be read or is malformed."""


class ElementError(N1Error):
    """An element name that is malformed, unknown or out of range."""


class ModelError(N1Error):
    """A GGUF model that cannot be loaded or a model worker that failed."""


class StudyError(N1Error):
    """A study file that is not a study or cannot be opened."""


class StudyBusyError(StudyError):
    """A study another process is writing (it holds the study's writer lease)."""


class CaseDataError(CaseError):
    """A case file whose data is malformed; the message names the table, row and column."""


class OptionError(N1Error):
    """A command-line option whose value is out of range (a negative iteration count, NaN)."""
