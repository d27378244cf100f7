"""What the loop tells the user: Ctrl-C handling, divergence and convergence messages."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .exceptions import ConvergenceWarning, StillImprovingWarning
from .history import History

__all__ = [
    "DIVERGED",
    "Interrupt",
    "diverged",
    "user_stacklevel",
    "warn_diverged",
    "warn_if_improving",
    "warn_interrupted",
    "warn_unmet_rules",
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
        if self.requested:  # a second Ctrl-C: the user really wants out (named: SIGTERM too)
            raise KeyboardInterrupt(
                "SIGTERM" if signum == getattr(signal, "SIGTERM", None) else "Ctrl-C"
            )
        self.requested = True
        if signum == getattr(signal, "SIGTERM", None):
            self.signal = "SIGTERM"

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


DIVERGED = "training diverged at epoch "
"""How a divergence's stop reason begins (:func:`diverged`)."""


WEIGHTS_OVERFLOWED = "the weights overflowed to infinity or NaN"
"""What a divergence's stop reason says when the weights themselves became non-finite (not
only the loss): scikit-learn's estimators raise then (:mod:`deltarule.sklearn`)."""


def diverged(
    loss: float,
    epoch: int,
    lr: float,
    cause: str | None = None,
    best: tuple[int, float, float] | None = None,
    weights_overflowed: bool = False,
) -> str:
    """The stop reason of a diverged run: what happened and what to try. ``best``: (the
    epoch whose starting weights were restored instead of the last finite epoch's, its
    loss, the loss of the last finite epoch's weights), see
    :class:`deltarule._epochs.BestStart`. ``weights_overflowed``: the weights became
    non-finite too (said after a non-finite loss: :data:`WEIGHTS_OVERFLOWED`).

    The trainer issues it as a :class:`ConvergenceWarning` when the fit ends
    (:func:`warn_diverged`), unless the caller handles it (``warn_divergence=False``).
    """
    if cause is None and math.isfinite(loss):
        cause = f"{WEIGHTS_OVERFLOWED} (loss {loss:.4g})"
    what = cause or f"the loss became {loss}" + (
        f" and {WEIGHTS_OVERFLOWED}" if weights_overflowed else ""
    )
    if best is not None:
        start, low, last = best
        whose = "the initial weights" if start == 1 else f"the weights epoch {start} started from"
        restored = (
            f"{whose} were restored (loss {low:.4g}), those of the last finite epoch "
            f"({epoch - 1}) having loss {last:.4g}"
        )
    elif epoch == 1:
        restored = "the initial weights were restored (no epoch finished)"
    else:
        restored = f"the weights of the last finite epoch ({epoch - 1}) were restored"
    return (
        f"{DIVERGED}{epoch}: {what}; {restored}. Try "
        + (f"a lower learning rate (now {lr:g}), " if lr else "")
        + "standardising the inputs (they may be too large), or clipping large targets."
    )


def warn_diverged(reason: str) -> None:
    """Warn, at the user's call, when ``reason`` (a stop reason) says training diverged."""
    if reason.startswith(DIVERGED):
        warnings.warn(reason, ConvergenceWarning, stacklevel=user_stacklevel())


def warn_interrupted(reason: str, history: History, max_epochs: int) -> None:
    """Warn, at the user's call, when ``reason`` says Ctrl-C (or SIGTERM) stopped the run:
    fit returns normally then, so a quiet run (``verbose=0``) would go on with a partly
    trained network unnoticed."""
    if not reason.startswith("interrupted"):
        return
    warnings.warn(
        f"training was {reason} (of {max_epochs} planned): the network is only partly "
        f"trained ({history.last_epoch} epoch{'s' * (history.last_epoch != 1)} recorded). fit "
        "stopped cleanly and returned, so the program goes on; press Ctrl-C twice to stop "
        "it, or check history.stop_reason.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )


def _losses(history: Any) -> np.ndarray:
    """The history's training losses as an array (a History keeps one: no list of a
    million floats rebuilt by each check)."""
    array = getattr(history, "loss_array", None)
    return array() if callable(array) else np.asarray(history.loss, dtype=float)


class _LossesOnce:
    """A history whose losses are read into an array once for all the checks (each check
    asks for them; one array of a million epochs is ~3 ms to build): the checks share the
    array and must not change it. Other attributes are the history's (not its ``len``,
    indexing or iteration: the checks use none)."""

    def __init__(self, history: Any) -> None:
        self._history, self._losses = history, None

    def loss_array(self) -> np.ndarray:
        if self._losses is None:
            self._losses = _losses(self._history)
        return self._losses

    def __getattr__(self, name: str) -> Any:
        return getattr(self._history, name)


def still_improving(
    history: History, lr: float, early_stopping: bool = False
) -> StillImprovingWarning | None:
    """The warning for a run whose loss was still falling when it ended (over the last
    tenth of ``history``'s epochs, at least one), or None."""
    losses = _losses(history)
    if len(losses) < 4:
        return None
    k = max(1, len(losses) // 10)
    old, new = losses[-1 - k], losses[-1]
    if not (math.isfinite(old) and math.isfinite(new)) or old <= 0:
        return None
    drop = (old - new) / abs(old)
    if drop <= 1e-3:
        return None
    return StillImprovingWarning(
        history.last_epoch, drop, k, old, new, float(lr or 0.0), early_stopping
    )


def rose(history: History, lr: float) -> str | None:
    """The warning for a run that hit its epoch limit with its training loss above its
    first epoch's, or that rose :data:`JUMP` times or more from one epoch to the next
    (steps that overshoot: a learning rate far too large), or None.

    Such a run's loss jumps up and down; a fall over its last epochs is no sign that more
    epochs would help, so :func:`warn_if_improving` gives this warning instead of
    :func:`still_improving`'s."""
    losses = _losses(history)
    if len(losses) < 2:
        return None
    first, last = float(losses[0]), float(losses[-1])
    if not (math.isfinite(first) and math.isfinite(last)):
        return None
    low = float(np.nanmin(np.asarray(losses, dtype=float)))
    if last > first * ROSE:
        how = f"at {last:.4g}, above its first epoch's {first:.4g} (its lowest: {low:.4g})"
    else:
        jump = _largest_jump(losses)
        if jump is None:
            return None
        epoch, factor = jump
        how = (
            f"jumping up and down (epoch {epoch}'s {factor:.3g} times epoch {epoch - 1}'s, "
            f"above the first epoch's {first:.4g}; now {last:.4g})"
        )
    return (
        f"training stopped at the maximum number of epochs ({history.last_epoch}) with the "
        f"training loss {how}: the steps overshoot, so the run does not converge. "
        + (f"Lower the learning rate (now {lr:g}); " if lr else "")
        + "standardise the inputs if they are large; early stopping on the loss keeps the "
        "best epoch's weights."
    )


ROSE = 1.01
"""A run whose last training loss is above this many times its first epoch's rose: steps
that overshoot (a loss 0.03% up after two epochs of noise is no sign of it)."""
JUMP = 2.0
"""An epoch whose training loss is this many times the epoch before's, and above the first
epoch's, is a jump: steps that overshoot (a learning rate far too large), not noise (a
converging run's losses may double from one epoch to the next near zero, far below where
they started)."""


def _largest_jump(losses: Any) -> tuple[int, float] | None:
    """The epoch (counted from 1) whose loss rose most over the epoch before's to above the
    first epoch's, and by what factor, when that is at least :data:`JUMP`; else None."""
    values = np.asarray(losses, dtype=float)
    # only the epochs above the first's can count (a converging run has few or none: one
    # pass over a million losses instead of six)
    above = np.flatnonzero(values[1:] > values[0])
    before, after = values[above], values[above + 1]
    ok = (before > 0) & np.isfinite(before) & np.isfinite(after)
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(ok, after / before, 0.0)
    if not len(factors) or factors.max() < JUMP:
        return None
    i = int(factors.argmax())
    return int(above[i]) + 2, float(factors[i])


BLOWN_UP = 1000.0
"""A run whose last training loss is this many times that of always predicting the targets'
mean (:func:`baseline_loss`) has blown up: its steps overshoot."""


def baseline_loss(network: Any, y: Any, sample_weight: Any) -> float | None:
    """The network's loss when it predicts every row as the targets' (weighted) mean, the
    larger of that and predicting 0 for a regression loss (an untrained network's outputs
    are near 0: targets far from 0 start it above the mean's loss); None when it is not a
    positive finite number (constant targets) or cannot be computed."""
    from .losses import CLASSIFICATION_LOSSES

    try:
        y = np.asarray(y, dtype=network.dtype).reshape(len(y), -1)
        mean = np.average(y, axis=0, weights=sample_weight)
        if network.loss.name in CLASSIFICATION_LOSSES or network.loss.name == "poisson":
            if len(y) and not np.ptp(y, axis=0).any():  # (constant: the mean is exact, and
                return None  # a clipped log gives its loss as eps, not 0: no scale to judge)
            value = _loss_of(network, mean, y, sample_weight)
        else:
            value = max(_loss_of(network, guess, y, sample_weight) for guess in (mean, 0.0))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _loss_of(network: Any, guess: Any, y: np.ndarray, sample_weight: Any) -> float:
    """The network's loss when it predicts ``guess`` (a row, or a number) for every row of
    ``y`` (the network's dtype)."""
    with np.errstate(all="ignore"):
        outputs = np.broadcast_to(np.asarray(guess, dtype=y.dtype), y.shape)
        return float(network.loss(outputs, y, sample_weight))


STANDARDISABLE = ("mse", "half_squared_error", "mae", "huber")
"""Losses whose targets can be standardised (a Poisson's counts cannot: they would go
negative)."""


def mean_fit(network: Any, y: Any, sample_weight: Any) -> tuple[float, float, bool] | None:
    """For a regression loss: (the loss of predicting every row as the targets' weighted
    mean, the targets' scale: the largest |mean| or standard deviation of a column, whether
    the loss takes standardised targets); None for a classification loss, or when it
    cannot be computed."""
    from .losses import CLASSIFICATION_LOSSES

    if network.loss.name in CLASSIFICATION_LOSSES:
        return None
    try:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        mean = np.average(y, axis=0, weights=sample_weight)
        spread = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=sample_weight))
        value = _loss_of(network, mean, y.astype(network.dtype), sample_weight)
        scale = float(max(np.abs(mean).max(), spread.max()))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return None
    if not (math.isfinite(value) and value > 0 and math.isfinite(scale)):
        return None
    return value, scale, network.loss.name in STANDARDISABLE


WORSE = 2.0
"""A training loss over this many times the mean's is a fit worse than the mean (with room
for a penalty or dropout, which add to the training loss)."""
SCALE = 100.0
"""Targets of this order or more are far from an untrained network's outputs (near 0)."""


def worse_than_mean(
    history: History, lr: float, fit: tuple[float, float, bool] | None
) -> str | None:
    """The warning for a regression run that hit its epoch limit fitting its targets worse
    than their mean does (``fit``: :func:`mean_fit`), with why when the targets are large
    (outputs start near 0: 3e5 house prices took 200 epochs to move 0.2%), or None."""
    losses = _losses(history)
    if fit is None or not len(losses):
        return None
    mean_loss, scale, standardisable = fit
    last = float(losses[-1])
    if not (math.isfinite(last) and last > WORSE * mean_loss):
        return None
    start = (
        f"training stopped at the maximum number of epochs ({history.last_epoch}) with the "
        f"training loss at {last:.4g}, over {WORSE:g} times that of always predicting the "
        f"targets' mean ({mean_loss:.4g}): the network fits the targets worse than their "
        "mean. "
    )
    if scale >= SCALE and standardisable:
        return start + (
            f"The targets are of order {scale:.2g}, an untrained network's outputs near 0: "
            "standardise them, (y - y.mean(0)) / y.std(0), and scale the predictions back "
            "(deltarule train does so)"
            + (f", or raise the learning rate (now {lr:g})." if lr else ".")
        )
    return start + (
        f"Train for more epochs or raise the learning rate (now {lr:g})."
        if lr
        else "Train for more epochs."
    )


def blown_up(history: History, lr: float, baseline: float | None) -> str | None:
    """The warning for a run that hit its epoch limit with its training loss over
    :data:`BLOWN_UP` times ``baseline`` (:func:`baseline_loss`), not falling at every
    epoch, or None.

    A run whose loss fell at every epoch is slow, not overshooting (counts of 1,000 under
    a Poisson loss, falling from 11,450 to 11,410 in 5 epochs, were told to lower the
    rate): :func:`worse_than_mean` or the still-falling warning speak for it."""
    losses = _losses(history)
    if baseline is None or not len(losses):
        return None
    last = float(losses[-1])
    if not (math.isfinite(last) and last > BLOWN_UP * baseline):
        return None
    steps = np.diff(losses)
    if len(steps) and (steps < 0).all():
        return None
    return (
        f"training stopped at the maximum number of epochs ({history.last_epoch}) with the "
        f"training loss at {last:.4g}, over {BLOWN_UP:g} times that of always predicting the "
        f"targets' mean ({baseline:.4g}): the steps overshoot, so the run does not converge. "
        + (f"Lower the learning rate (now {lr:g}); " if lr else "")
        + "standardise the inputs if they are large."
    )


NEGLIGIBLE = 0.01
"""A training loss under this fraction of the loss of predicting the targets' mean
(:func:`baseline_loss`) fits the training data all but exactly: still falling, it is no
sign that more epochs would help."""


def warn_if_improving(
    history: History,
    lr: float,
    early_stopping: bool = False,
    baseline: float | None = None,
    fit: tuple[float, float, bool] | None = None,
    negligible: float | None = None,
) -> bool:
    """Warn when a run that hit its epoch limit was still improving, and by how much (the
    advice to add a stopping rule left out when ``early_stopping`` already watches), or
    when its loss ended above its first epoch's or jumped (:func:`rose`), or far above
    ``baseline``, the loss of predicting the targets' mean (:func:`blown_up`), or above the
    mean's (``fit``: :func:`worse_than_mean`); returns whether it warned. A loss still
    falling but under :data:`NEGLIGIBLE` times ``negligible`` (the loss of predicting the
    mean of targets that vary) is not warned about."""
    history = _LossesOnce(history)  # (the checks read the losses of millions of epochs)
    unstable = rose(history, lr) or blown_up(history, lr, baseline)
    warning = still_improving(history, lr, early_stopping)
    if warning is not None and negligible is not None and warning.new < NEGLIGIBLE * negligible:
        warning = None  # (digits' 4.7e-5 -> 2.8e-5 was told to train on and raise the rate)
    if unstable is None and (warning is None or (fit is not None and fit[1] >= SCALE)):
        unstable = worse_than_mean(history, lr, fit)  # (a run still falling: "train longer"
        # says enough, unless the targets' scale is why it is slow)
    if unstable is not None:
        warnings.warn(unstable, ConvergenceWarning, stacklevel=user_stacklevel())
        return True
    if warning is not None:
        warnings.warn(warning, stacklevel=user_stacklevel())
    return warning is not None


def _unmet(rule: Any, state: Any, history: History) -> str | None:
    """What the stopping rule ``rule`` (TargetError, AllCorrect, GradientNormBelow) asked
    for and where the run ended instead, or None for another callback."""
    from .callbacks import AllCorrect, GradientNormBelow, TargetError
    from .callbacks._monitor import _monitored
    from .callbacks.stopping import _summed_error_gradient

    last = history.last  # (not history.records: millions of compiled epochs)
    if isinstance(rule, TargetError):
        name = "target_error" if rule.monitor == "loss" else f"TargetError on {rule.monitor}"
        value = _monitored(last, rule.monitor)
        return f"{name} {rule.target:g} not reached: {rule.monitor} {value:.6g}"
    if isinstance(rule, AllCorrect):
        wrong, n = AllCorrect.misclassified(state), state.X.shape[0]
        return (
            f"stop_when_all_correct was not met: {wrong} of {n} example{'s' * (n != 1)} "
            "still misclassified"
        )
    if isinstance(rule, GradientNormBelow):
        if rule.rule == "l2_mean":
            return (
                f"min_gradient_norm {rule.threshold:g} not reached: gradient norm "
                f"{last.gradient_norm:.3g}"
            )
        largest = float(np.max(np.abs(_summed_error_gradient(state)), initial=0.0))
        return (
            f"GradientNormBelow {rule.threshold:g} (rule 'neuralnet') not reached: largest "
            f"gradient component {largest:.3g}"
        )
    return None


SILENCE = "warn_convergence=False silences this"
"""The end of an unmet rule's warning (the command line leaves it out: it has no such
option)."""


def _contradictions(state: Any) -> int:
    """How many training rows have the same inputs as a row of another class (no network
    can classify both: all-correct can never be met), 0 when unknown (sparse inputs).

    Rows are compared by their bytes, one at a time (no sorted copy of the data: a
    60,000-row table's np.unique held 3 times its size)."""
    from .metrics import target_labels

    X, y = state.X, state.y
    if not isinstance(X, np.ndarray) or X.ndim != 2 or y is None or not len(X):
        return 0
    labels = np.asarray(target_labels(y)).reshape(len(X), -1)
    seen: dict[bytes, bytes] = {}
    mixed: set[bytes] = set()
    for row, label in zip(X, labels):
        key, value = (row + 0.0).tobytes(), label.tobytes()  # (+ 0.0: -0.0 is 0.0)
        if seen.setdefault(key, value) != value:
            mixed.add(key)
    if not mixed:
        return 0
    return sum(1 for row in X if (row + 0.0).tobytes() in mixed)


def impossible_rule(state: Any, callbacks: Sequence[Any]) -> int:
    """How many rows make the all-correct rule the run asked for impossible (rows of the
    same inputs and different classes), 0 when none or not asked: its warning
    (:func:`warn_unmet_rules`) then says so, rather than "the loss was still falling"."""
    asked = any(type(cb).__name__ == "AllCorrect" for cb in callbacks)
    return _contradictions(state) if asked else 0


def warn_unmet_rules(
    history: History, state: Any, callbacks: Sequence[Any], twins: int | None = None
) -> None:
    """Warn (:class:`ConvergenceWarning`) for each stopping rule the run asked for (a target
    error, all examples correct, a gradient norm) that the epoch limit ended unmet, naming
    its last value, as R neuralnet warns "algorithm did not converge ... within the stepmax".
    """
    if not len(history):
        return
    epochs = len(history)
    for rule in callbacks:
        what = _unmet(rule, state, history)
        if what is None:
            continue
        head, _, value = what.partition(": ")
        if type(rule).__name__ != "AllCorrect":
            twins_here = 0
        else:
            twins_here = _contradictions(state) if twins is None else twins
        advice = (
            f"{twins_here} training rows share their inputs with a row of another class, so no "
            "network can classify every row: stop on the error (target_error) or with early "
            "stopping instead"
            if twins_here
            else "The epoch limit ended the run first: train for more epochs, loosen the "
            "rule, or make the network able to meet it (another learning rate, a wider "
            "hidden layer)"
        )
        message = f"{head} in {epochs} epoch{'s' * (epochs != 1)}: {value}. {advice}; {SILENCE}."
        warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())
