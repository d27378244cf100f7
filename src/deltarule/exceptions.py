"""Exceptions and warnings raised by deltarule.

Every error a user can cause is one of these (or a built-in ``ValueError`` /
``TypeError`` subclass of them), and its message says what was received, what
was expected and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeltaruleError(Exception):
    """Base class of every error deltarule raises on purpose.

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


class InputError(DeltaruleError, ValueError):
    """Data, shapes or arguments given by the user are not usable (``options``: see
    :class:`DeltaruleError`)."""


class KeywordError(InputError, TypeError):
    """A method was given a keyword argument it does not take (Keras's ``initial_epoch``, a
    misspelt ``epoch``); the message names the arguments it takes, or what to do instead.

    A ``TypeError``, as Python's own unexpected-keyword error is, and an :class:`InputError`.
    """


class UnknownNameError(DeltaruleError, KeyError, ValueError):
    """A name (activation, loss, optimizer, ...) is not in its registry.

    A ``KeyError`` (a failed look-up) and, like every other error a user can cause, a
    ``ValueError``.
    """

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly.
        return str(self.args[0]) if self.args else ""


class NotFittedError(DeltaruleError, ValueError, AttributeError):
    """A model was used before it was trained."""


class KerasAttributeError(DeltaruleError, AttributeError):
    """A Keras attribute deltarule has no counterpart of, by that name (a callback's
    ``self.model``, a network's ``stop_training``); the message says what to use instead.

    An ``AttributeError``, so ``hasattr`` and ``getattr(obj, name, default)`` work as usual.
    """


class IncompatibleFormatError(DeltaruleError, ValueError):
    """A model or checkpoint file is corrupt, foreign, or of an unknown format version."""


class DivergenceError(DeltaruleError, FloatingPointError):
    """Training produced a non-finite loss and could not go on."""


class ConvergenceWarning(UserWarning):
    """Training stopped at its iteration limit while the loss was still improving."""


class StillImprovingWarning(ConvergenceWarning):
    """The epoch limit stopped a run whose training loss was still falling.

    Its fields say by how much, so that a program (the command line) can phrase the advice
    in its own terms (:meth:`advice`) instead of reading the message.

    Attributes
    ----------
    epochs : int
        The last epoch trained.
    drop : float
        The loss's relative fall over the last ``window`` epochs, ``(old - new) / old``.
    window : int
        How many epochs back ``old`` is.
    old, new : float
        The loss ``window`` epochs before the last, and the last.
    learning_rate : float
        The rate of the last epoch; 0 for an optimizer that sizes its own steps (then not
        advised).
    early_stopping : bool
        Whether early stopping watched the run (then a stopping rule is not advised).
    """

    def __init__(
        self,
        epochs: int,
        drop: float,
        window: int,
        old: float,
        new: float,
        learning_rate: float,
        early_stopping: bool,
    ) -> None:
        self.epochs, self.drop, self.window = epochs, drop, window
        self.old, self.new = old, new
        self.learning_rate, self.early_stopping = learning_rate, early_stopping
        super().__init__(self.advice())

    def __reduce__(self) -> tuple:  # (pickles by its fields, not by its message)
        return type(self), (self.epochs, self.drop, self.window, self.old, self.new,
                            self.learning_rate, self.early_stopping)  # fmt: skip

    def advice(self, options: Mapping[str, str] | None = None, resumed: str | None = None) -> str:
        """The message: what happened, then what to do.

        ``options`` phrases the fixes for another interface: a dict with any of the keys
        ``"epochs"``, ``"learning_rate"`` and ``"stopping"`` (by default the Python
        parameters: ``epochs``, ``the learning rate``, ``target_error or early_stopping``).
        ``resumed``, when given, replaces the fixes (a resumed run cannot change them).
        """
        names = {
            "epochs": "epochs",
            "learning_rate": "the learning rate",
            "stopping": "target_error or early_stopping",
            **(options or {}),
        }
        what = (
            f"training stopped at the maximum number of epochs ({self.epochs}) while the "
            f"training loss was still falling: {self.drop:.1%} lower over the last "
            f"{f'{self.window} epochs' if self.window > 1 else 'epoch'} ({self.old:.4g} -> "
            f"{self.new:.4g})."
        )
        if resumed is not None:
            return f"{what} {resumed}"
        fixes = [f"raise {names['epochs']}"]
        if self.learning_rate:
            fixes.append(f"raise {names['learning_rate']} (now {self.learning_rate:g})")
        if not self.early_stopping:
            fixes.append(f"add a stopping rule ({names['stopping']})")
        if len(fixes) == 1:
            advice = fixes[0]
        else:
            advice = ", ".join(fixes[:-1]) + ("," if len(fixes) > 2 else "") + " or " + fixes[-1]
        return f"{what} {advice[0].upper()}{advice[1:]}."


class DataWarning(UserWarning):
    """The data were usable, but not as the caller may expect: unlike the data the model
    saw in training (e.g. a category it never saw), or weights that cannot act (sample
    weights in batches of one row)."""


class UnseenValuesWarning(DataWarning):
    """A categorical column holds values not seen in training: ``count`` of them in
    ``column``; ``detail`` says which came first, where, and what follows (the message's
    rest). Readers that warn a chunk at a time merge these by column (``deltarule predict
    --chunk-rows``) from the attributes, not the text."""

    def __init__(self, column: Any, count: int, detail: str) -> None:
        self.column, self.count, self.detail = column, count, detail
        super().__init__(f"column {column!r} has {count} value(s) not seen in training, {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.column, self.count, self.detail)
