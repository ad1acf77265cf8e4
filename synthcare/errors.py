"""Typed exceptions for the failures a user can cause and fix.

Every exception's ``str()`` is one plain line that says what failed, on which value, and what
to do. Callers show that line to the user and never a traceback.
"""


class SynthcareError(Exception):
    """Base class of every error that synthcare raises on purpose."""


class InputError(SynthcareError):
    """The table cannot be used as it is (unreadable, malformed, or too small)."""


class LimitError(InputError):
    """The table exceeds a configured limit (file size, rows, columns or categories)."""


class ConfigError(SynthcareError):
    """An option, hyperparameter or metadata file is invalid."""


class TrainingError(SynthcareError):
    """The synthesizer could not be fitted to the table."""


class GenerationError(SynthcareError):
    """The fitted synthesizer could not produce synthetic rows."""
