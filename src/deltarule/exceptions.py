"""Exceptions and warnings raised by deltarule.

Every error a user can cause is one of these (or a built-in ``ValueError`` /
``TypeError`` subclass of them), and its message says what was received, what
was expected and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping


class DeltaruleError(Exception):
    """Base class of every error deltarule raises on purpose."""


class InputError(DeltaruleError, ValueError):
    """Data, shapes or arguments given by the user are not usable.

    Parameters
    ----------
    *args
        The message, as for any exception.
    options : mapping of str to str, optional
        Phrases of the message that name a Python parameter, each with the same advice in
        the command line's spelling: ``{"task='regression' (--task regression on the command
        line)": "--task regression"}``. The command line shows the message with each phrase
        replaced (:meth:`for_command_line`); ``str(error)`` is the Python spelling.
    """

    def __init__(self, *args: object, options: Mapping[str, str] | None = None) -> None:
        super().__init__(*args)
        self.options: dict[str, str] = dict(options or {})

    def for_command_line(self) -> str:
        """The message with each of :attr:`options`' phrases in the command line's spelling."""
        text = str(self)
        for python, option in self.options.items():
            text = text.replace(python, option)
        return text


class UnknownNameError(DeltaruleError, KeyError, ValueError):
    """A name (activation, loss, optimizer, ...) is not in its registry.

    A ``KeyError`` (a failed look-up) and, like every other error a user can cause, a
    ``ValueError``.
    """

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly.
        return str(self.args[0]) if self.args else ""


class NotFittedError(DeltaruleError, ValueError, AttributeError):
    """A model was used before it was trained."""


class IncompatibleFormatError(DeltaruleError, ValueError):
    """A model or checkpoint file is corrupt, foreign, or of an unknown format version."""


class DivergenceError(DeltaruleError, FloatingPointError):
    """Training produced a non-finite loss and could not go on."""


class ConvergenceWarning(UserWarning):
    """Training stopped at its iteration limit while the loss was still improving."""


class DataWarning(UserWarning):
    """The data were usable, but not as the caller may expect: unlike the data the model
    saw in training (e.g. a category it never saw), or weights that cannot act (sample
    weights in batches of one row)."""
