"""What the loop tells the user: Ctrl-C handling, divergence and convergence messages."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import warnings
from typing import Any

from .exceptions import ConvergenceWarning, StillImprovingWarning
from .history import History

__all__ = [
    "DIVERGED",
    "Interrupt",
    "diverged",
    "user_stacklevel",
    "warn_diverged",
    "warn_if_improving",
]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside deltarule."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


class Interrupt:
    """Turns the first Ctrl-C into a flag checked between batches (never a half-done update).

    ``signal`` names what asked to stop, for stop reasons: ``"Ctrl-C"``, or ``"SIGTERM"``
    when the handler is called for that signal (the command line relays a SIGTERM to it).
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal = "Ctrl-C"
        self._previous: Any = None

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt
        self.requested = True
        if signum == getattr(signal, "SIGTERM", None):
            self.signal = "SIGTERM"

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


DIVERGED = "training diverged at epoch "
"""How a divergence's stop reason begins (:func:`diverged`)."""


def diverged(loss: float, epoch: int, lr: float, cause: str | None = None) -> str:
    """The stop reason of a diverged run: what happened and what to try.

    The trainer issues it as a :class:`ConvergenceWarning` when the fit ends
    (:func:`warn_diverged`), unless the caller handles it (``warn_divergence=False``).
    """
    if cause is None and math.isfinite(loss):
        cause = f"the weights overflowed to infinity or NaN (loss {loss:.4g})"
    what = cause or f"the loss became {loss}"
    return (
        f"{DIVERGED}{epoch}: {what}; the "
        f"weights of the last finite epoch were restored. Try "
        + (f"a lower learning rate (now {lr:g}), " if lr else "")
        + "standardising the inputs (they may be too large), or clipping large targets."
    )


def warn_diverged(reason: str) -> None:
    """Warn, at the user's call, when ``reason`` (a stop reason) says training diverged."""
    if reason.startswith(DIVERGED):
        warnings.warn(reason, ConvergenceWarning, stacklevel=user_stacklevel())


def warn_if_improving(history: History, lr: float, early_stopping: bool = False) -> None:
    """Warn when a run that hit its epoch limit was still improving, and by how much (the
    advice to add a stopping rule left out when ``early_stopping`` already watches)."""
    losses = history.loss
    if len(losses) < 4:
        return
    k = max(1, len(losses) // 10)
    old, new = losses[-1 - k], losses[-1]
    if not (math.isfinite(old) and math.isfinite(new)) or old <= 0:
        return
    drop = (old - new) / abs(old)
    if drop > 1e-3:
        warning = StillImprovingWarning(
            history.last_epoch, drop, k, old, new, float(lr or 0.0), early_stopping
        )
        warnings.warn(warning, stacklevel=user_stacklevel())
