"""Callbacks: everything the training loop does besides training.

The loop (:mod:`deltarule.training`) calls, in order, ``on_train_begin``,
then per epoch ``on_epoch_begin`` and ``on_epoch_end`` — which returns None to
continue or a string, the reason to stop — and finally ``on_train_end``.
Printing, stopping rules, learning-rate changes, logging and checkpoints are
all callbacks; the loop never changes to add one.

A callback reads and may change the :class:`TrainingState` (e.g. its
``learning_rate``); it may also restore weights in place at the end.

A callback whose state changes what later epochs do (early stopping's best value and
counter, a plateau's counters) returns it from :meth:`Callback.state_dict` as plain
JSON-able data and named arrays, and takes it back in :meth:`Callback.load_state_dict`:
that is what a checkpoint (:mod:`deltarule.io.checkpoint`) saves and a resumed run restores.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._typing import Array
from ._validation import check_int, check_positive, continuous_column
from .exceptions import InputError
from .history import COLUMNS, EpochRecord, History
from .metrics import METRICS

__all__ = [
    "TrainingState",
    "Callback",
    "ProgressBar",
    "EarlyStopping",
    "TargetError",
    "AllCorrect",
    "GradientNormBelow",
    "TimeLimit",
    "TerminateOnNaN",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "CSVLogger",
    "ModelCheckpoint",
]


@dataclass
class TrainingState:
    """The run as callbacks see it.

    Attributes
    ----------
    network : Network
    optimizer : Optimizer
    optimizer_state : dict
    learning_rate : float
        Used by the next epoch; callbacks may change it.
    base_learning_rate : float
    epoch : int
        Number of completed epochs (1-based epoch of the last record).
    max_epochs : int
    X, y, sample_weight : arrays
        Training data, validated.
    X_val, y_val : arrays or None
    history : History
        Records so far.
    trainer : Trainer
        The trainer running the loop (for checkpoints of its full state).
    callbacks : list of Callback
        Every callback of the run, in the order they are called (for checkpoints of
        their states).
    """

    network: Any
    optimizer: Any
    optimizer_state: dict
    learning_rate: float
    base_learning_rate: float
    max_epochs: int
    X: Array
    y: Array
    sample_weight: Array | None = None
    X_val: Array | None = None
    y_val: Array | None = None
    epoch: int = 0
    history: History = field(default_factory=History)
    trainer: Any = None
    callbacks: list[Callback] = field(default_factory=list)


class Callback:
    """Base class: every hook does nothing.

    A callback with ``runs_last = True`` is called after the others at each hook, whatever
    its place in the list (a checkpoint, which saves what the others' hooks updated).
    """

    runs_last: bool = False

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]] | None:
        """Return the state that changes what later epochs do, for a checkpoint.

        Returns
        -------
        (data, tensors) or None
            ``data``: plain JSON-able values; ``tensors``: named arrays (saved as
            safetensors). None, the default, for a callback without such state.
        """
        return None

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore :meth:`state_dict` output; the next training run continues from it."""
        raise NotImplementedError(
            f"{type(self).__name__} returns a state_dict but cannot load one; write "
            "load_state_dict too."
        )

    def config(self) -> dict[str, Any]:
        """Return the JSON-able settings that a run resumed with this callback's state must
        share with the run that saved it (empty by default)."""
        return {}

    def on_train_begin(self, state: TrainingState) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Called before each epoch (``state.epoch`` epochs are done)."""

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        """Called after each epoch; return a reason (str) to stop, None to go on.

        ``True`` also stops (the reason then names the callback: the Keras habit of
        ``model.stop_training = True``) and ``False`` goes on; any other value is an
        :class:`~deltarule.exceptions.InputError`.
        """
        return None

    def on_train_end(self, history: History, state: TrainingState) -> None:
        """Called once after the last epoch (also after a stop or an interruption)."""


def _format_record(record: EpochRecord, max_epochs: int) -> str:
    parts = [f"epoch {record.epoch}/{max_epochs}", f"loss {record.loss:.6g}"]
    parts += [f"{k} {v:.4g}" for k, v in record.metrics.items()]
    if record.val_loss is not None:
        parts.append(f"val_loss {record.val_loss:.6g}")
    parts += [f"val_{k} {v:.4g}" for k, v in record.val_metrics.items()]
    parts.append(f"{record.seconds:.2f}s")
    return " - ".join(parts)


class ProgressBar(Callback):
    """Show progress: a live tqdm bar on a terminal (when tqdm is installed), one plain line
    per epoch otherwise.

    Parameters
    ----------
    verbose : int
        0 prints nothing; 1 a bar (or lines when not a terminal); 2 always plain lines.
    stream : file, default sys.stderr
    every : int
        Plain mode prints every ``every``-th epoch (and the last).
    """

    def __init__(self, verbose: int = 1, stream: Any = None, every: int = 1) -> None:
        if isinstance(verbose, str) or verbose not in (0, 1, 2):  # (True and False are 1, 0)
            raise InputError(
                f"ProgressBar's verbose must be 0 (silent), 1 (a bar on a terminal) or 2 (a "
                f"line per epoch); received {verbose!r}."
            )
        self.verbose, self.stream, self.every = int(verbose), stream, check_int(every, "every")
        self._bar: Any = None

    def _out(self) -> Any:
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, state: TrainingState) -> None:
        self._bar = None
        stream = self._out()
        if self.verbose == 1 and getattr(stream, "isatty", lambda: False)():
            try:  # optional (the ``cli`` extra): without it, plain lines on a terminal too
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=state.max_epochs, file=stream, unit="epoch", leave=True)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.verbose == 0:
            return None
        if self._bar is not None:
            post = {"loss": f"{record.loss:.4g}"}
            if record.val_loss is not None:
                post["val_loss"] = f"{record.val_loss:.4g}"
            post.update({f"val_{k}": f"{v:.3g}" for k, v in record.val_metrics.items()})
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)
        elif record.epoch % self.every == 0 or record.epoch == state.max_epochs:
            print(_format_record(record, state.max_epochs), file=self._out(), flush=True)
        return None

    def on_train_end(self, history: History, state: TrainingState) -> None:
        if self._bar is not None:
            self._bar.close()
        if self.verbose and history.stop_reason:
            print(f"stopped: {history.stop_reason}", file=self._out(), flush=True)


def _better(mode: str, monitor: str) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise InputError(
            f"monitor must be the name of a recorded value, such as 'loss', 'val_loss' or "
            f"'val_accuracy'; received {monitor!r}."
        )
    if mode == "auto":
        name = _canonical(monitor).removeprefix("val_")
        if name in METRICS:
            return "max" if METRICS[name].greater_is_better else "min"
        return "min"  # the losses, and a custom metric's name (give its mode)
    if mode not in ("min", "max"):
        raise InputError(f"mode must be 'min', 'max' or 'auto'; received {mode!r}.")
    return mode


def monitor_mode(monitor: str) -> str:
    """Return whether the recorded value ``monitor`` improves by falling ("min": a loss) or
    by rising ("max": accuracy, R², ...), as ``mode="auto"`` reads it ("min" for a name it
    does not know, such as a custom metric's)."""
    return _better("auto", monitor)


def _known_mode(monitor: str) -> str | None:
    """:func:`monitor_mode` for a loss or a registered metric; None for another name."""
    name = _canonical(monitor).removeprefix("val_")
    return monitor_mode(monitor) if name == "loss" or name in METRICS else None


def _canonical(monitor: Any) -> Any:
    """``monitor`` with a metric's alias replaced by the name the records use ('val_acc' ->
    'val_accuracy', 'f1_score' -> 'f1'); anything else as it is."""
    if not isinstance(monitor, str):
        return monitor
    prefix = "val_" if monitor.startswith("val_") else ""
    metric = METRICS.get(monitor.removeprefix(prefix))
    return prefix + metric.name if metric is not None else monitor


def _monitored(record: EpochRecord, monitor: str) -> float:
    value = record.get(monitor)
    if value is None:
        recorded = [k for k, v in record.as_dict().items() if v is not None and k != "epoch"]
        hint = (
            " Pass validation_split or validation_data, or monitor the training 'loss'."
            if monitor.startswith("val_") and record.val_loss is None
            else " Add it to metrics=[...]."
        )
        raise InputError(
            f"cannot monitor {monitor!r}: this run does not compute it (it records "
            f"{', '.join(recorded)}).{hint}"
        )
    return float(value)


_ALWAYS_RECORDED = tuple(c for c in COLUMNS if c not in ("epoch", "val_loss"))  # every run's


def check_monitor(monitor: str, state: TrainingState, who: str) -> None:
    """Refuse, before the first epoch trains, a ``monitor`` the run will not record: a
    validation value without validation data, or a metric not computed (it was found only
    after the first epoch had already changed the weights)."""
    base = monitor[4:] if monitor.startswith("val_") else monitor
    trainer = state.trainer
    if trainer is None:  # (a callback driven by hand: found at its first epoch's end)
        return
    metrics = [m.name for m in getattr(trainer, "metrics", [])]
    val = state.X_val is not None
    if monitor.startswith("val_") and not val:
        raise InputError(
            f"{who} cannot monitor {monitor!r}: this run has no validation data. Pass "
            "validation_split or validation_data, or monitor the training 'loss'."
        )
    if base not in _ALWAYS_RECORDED and base not in metrics:
        recorded = ["loss", *(["val_loss"] if val else []), *_ALWAYS_RECORDED[1:], *metrics]
        recorded += [f"val_{m}" for m in metrics] if val else []
        raise InputError(
            f"{who} cannot monitor {monitor!r}: this run does not compute it (it records "
            f"{', '.join(recorded)}). Add it to metrics=[...]."
        )


_BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_predict_begin",
    "on_predict_end",
)


def check_hooks(callbacks: Sequence[Callback]) -> None:
    """Refuse a callback that defines Keras hooks deltarule never calls (they would be
    silently skipped): its callbacks run per epoch."""
    for callback in callbacks:
        unknown = [name for name in _BATCH_HOOKS if callable(getattr(callback, name, None))]
        if unknown:
            raise InputError(
                f"callback {type(callback).__name__} defines {', '.join(unknown)}, which "
                "deltarule never calls: its callbacks run per epoch (on_train_begin, "
                "on_epoch_begin, on_epoch_end, on_train_end). Move the work to on_epoch_end "
                "(return True or a reason there to stop training, where Keras sets "
                "model.stop_training)."
            )


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` (default True) the weights of the best epoch are
    restored when training ends — whatever ended it, max epochs included
    (cf. keras-team/keras#12511). A NaN or infinite value counts as no improvement, as in
    Keras. A ``monitor`` the run does not record (a validation value without validation
    data, a metric not computed) is refused before the first epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        self.mode = _better(mode, monitor)
        self.monitor = _canonical(monitor)
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_params: Array | None = None
        self._resumed = False

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, state: TrainingState) -> None:
        check_monitor(self.monitor, state, "EarlyStopping")
        if self._resumed:  # continuing a checkpointed run: keep the restored state
            self._resumed = False
            if self._best_params is None:
                self._best_params = np.empty_like(state.network.parameters)
            return
        self.best, self.best_epoch, self.wait = None, None, 0
        self._best_params = np.empty_like(state.network.parameters)

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Return the best value, its epoch and the wait counter, and the best weights as the
        tensor ``best_parameters`` (once there is a best epoch)."""
        data = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        has_best = self._best_params is not None and self.best_epoch is not None
        return data, ({"best_parameters": self._best_params.copy()} if has_best else {})

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`; the next training run continues from it."""
        best, best_epoch, wait = data["best"], data["best_epoch"], data["wait"]
        if isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
            raise ValueError(f"wait is {wait!r}, not a count of epochs")
        self.best = None if best is None else float(best)
        self.best_epoch = None if best_epoch is None else int(best_epoch)
        self.wait = wait
        params = tensors.get("best_parameters")
        self._best_params = None if params is None else params.copy()
        self._resumed = True

    def config(self) -> dict[str, Any]:
        """The monitored value and the stopping rule's settings."""
        return {
            "monitor": self.monitor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "mode": self.mode,
            "restore_best_weights": bool(self.restore_best_weights),
        }

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        value = _monitored(record, self.monitor)
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self.wait = value, record.epoch, 0
            np.copyto(self._best_params, state.network.parameters)
            return None
        self.wait += 1
        return self.stop_reason()

    def stop_reason(self) -> str | None:
        """Why the run stops now (no improvement for ``patience`` epochs), or None.

        After a checkpointed run's last epoch this still says so, so that resuming it
        stops where it did (rather than training one more epoch)."""
        if self.best is None or self.wait < max(self.patience, 1):
            return None
        return (
            f"no improvement of {self.monitor} by more than {self.min_delta:g} "
            f"for {self.patience} epochs (best {self.best:.6g} at epoch {self.best_epoch})"
        )

    def restore(self, network: Any, history: History) -> None:
        """Put the best epoch's weights back into ``network`` and record that epoch in
        ``history`` (with ``restore_best_weights``), as at the end of training."""
        if self.restore_best_weights and self.best_epoch is not None:
            np.copyto(network.parameters, self._best_params)
            history.best_epoch = self.best_epoch

    def on_train_end(self, history: History, state: TrainingState) -> None:
        self.restore(state.network, history)


class TargetError(Callback):
    """Stop once ``monitor`` (the training error by default) is at most ``target``.

    The tutorial's "until the error is minimum"; FANN's ``desired_error``.
    """

    def __init__(self, target: float, monitor: str = "loss") -> None:
        if isinstance(target, bool) or not isinstance(target, numbers.Real) or math.isnan(target):
            raise InputError(
                f"TargetError's target must be a number (the {monitor} to reach); received "
                f"{target!r}."
            )
        self.target, self.monitor = float(target), _canonical(monitor)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        value = _monitored(record, self.monitor)
        if value <= self.target:
            return f"target error reached ({self.monitor} {value:.6g} <= {self.target:g})"
        return None


class AllCorrect(Callback):
    """Stop when every training example is classified correctly (the tutorial's pseudocode).

    Outputs and targets are read as class labels as :func:`deltarule.metrics.all_correct`
    reads them, so the targets must encode classes: a classification loss, or targets whose
    every column holds at most two values (one-hot rows, one 0/1 column, the tutorial's
    0.01/0.99). Regression targets are refused when training begins: "classified
    correctly" means nothing for them (stop at an error with :class:`TargetError`, or with
    :class:`EarlyStopping`, instead).
    """

    def on_train_begin(self, state: TrainingState) -> None:
        if state.trainer is not None and getattr(state.trainer, "classification", False):
            return  # a classification loss: its targets are classes (or probabilities)
        column = continuous_column(state.y)
        if column is None:
            return
        values = np.asarray(state.y).reshape(len(state.y), -1)[:, column]
        loss = getattr(getattr(state.network, "loss", None), "name", "?")
        raise InputError(
            "stop_when_all_correct (AllCorrect) stops when every training example is "
            "classified correctly, so it needs class targets (at most two values in each "
            "column: one-hot rows, one 0/1 column) or a classification loss; received "
            f"regression targets with loss {loss!r}: column {column} of y holds "
            f"{np.unique(values).size} different values, from {values.min():g} to "
            f"{values.max():g}. For a regression, stop at an error instead: target_error=... "
            "(TargetError) or early_stopping=True (EarlyStopping)."
        )

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        from .metrics import all_correct

        if all_correct(state.network.forward(state.X)[0], state.y):
            return "every training example classified correctly"
        return None


class GradientNormBelow(Callback):
    """Stop when the epoch's gradient norm falls below ``threshold`` (R neuralnet's rule)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = check_positive(threshold, "threshold")

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if record.gradient_norm < self.threshold:
            return f"gradient norm {record.gradient_norm:.3g} below {self.threshold:g}"
        return None


class TimeLimit(Callback):
    """Stop after ``seconds`` of wall-clock time (checked at the end of each epoch).

    The clock starts when each ``fit`` begins: a run resumed from a checkpoint gets
    ``seconds`` again (the time before the interruption is not counted), as does each
    call of a warm-started fit.

    Parameters
    ----------
    seconds : float
        Wall time allowed per fit, > 0.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = check_positive(seconds, "seconds")
        self._start = 0.0

    def on_train_begin(self, state: TrainingState) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if time.perf_counter() - self._start >= self.seconds:
            return f"time limit of {self.seconds:g} s reached"
        return None


class TerminateOnNaN(Callback):
    """Stop when the epoch's loss is NaN or infinite."""

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if not math.isfinite(record.loss):
            return f"loss became {record.loss} at epoch {record.epoch}"
        return None


class LearningRateScheduler(Callback):
    """Set the learning rate before each epoch from ``schedule(epoch, base_lr)`` (0-based epoch).

    Unlike Keras's ``LearningRateScheduler``, whose schedule receives the current rate,
    ``schedule`` receives the run's base rate (as PyTorch's ``LambdaLR`` scales the initial
    one, and as :mod:`deltarule.schedules` are written): halving each epoch is
    ``lambda epoch, base: base * 0.5**epoch``, not ``lambda epoch, lr: lr * 0.5``.
    """

    def __init__(self, schedule: Any) -> None:
        from .schedules import ReduceOnPlateau

        if isinstance(schedule, ReduceOnPlateau):  # it would never be told the monitored value
            raise InputError(
                "ReduceOnPlateau lowers the rate when a monitored value stops improving, which "
                "LearningRateScheduler never sees; use ReduceLROnPlateau(monitor, ...) as the "
                "callback, or pass it as fit(schedule=...)."
            )
        self.schedule = schedule

    def on_epoch_begin(self, state: TrainingState) -> None:
        state.learning_rate = float(self.schedule(state.epoch, state.base_learning_rate))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    The rule (patience, min_delta, cooldown, min_lr) is
    :class:`deltarule.schedules.ReduceOnPlateau`; this callback feeds it the
    monitored value each epoch and applies its rate. Its ``patience`` counts as PyTorch's
    ``ReduceLROnPlateau`` does: the rate drops after ``patience + 1`` epochs without
    improvement (Keras's drops one epoch sooner: Keras's ``patience=3`` is ``patience=2``
    here).

    Each training run starts it afresh (best value, counters, reductions), as Keras does,
    its reductions scaling the rate the run starts with; a state loaded with
    :meth:`load_state_dict` (a resumed checkpoint) is kept through the next run's start.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        min_lr: float = 0.0,
        mode: str = "auto",
        cooldown: int = 0,
    ) -> None:
        from .schedules import ReduceOnPlateau

        self.monitor = _canonical(monitor)
        self.plateau = ReduceOnPlateau(
            factor=factor,
            patience=patience,
            min_delta=min_delta,
            min_lr=min_lr,
            mode=_better(mode, monitor),
            cooldown=cooldown,
        )
        self._start_rate: float | None = None  # the rate the reductions scale (None: base)
        self._base_rate: float | None = None
        self._resumed = False

    @classmethod
    def from_schedule(cls, plateau: Any, monitor: str) -> ReduceLROnPlateau:
        """The callback that feeds ``plateau`` (a :class:`~deltarule.schedules.ReduceOnPlateau`)
        the value of ``monitor`` each epoch.

        Raises
        ------
        InputError
            If ``monitor`` is a loss or a registered metric that improves the other way than
            the plateau's mode says (it would lower the rate at every improvement).
        """
        known = _known_mode(monitor)
        if known is not None and known != plateau.mode:
            way = "rising" if known == "max" else "falling"
            raise InputError(
                f"{plateau!r} watches {monitor!r}, which improves by {way} (mode {known!r}), "
                f"so it would lower the learning rate whenever {monitor!r} improves. Pass "
                f"ReduceOnPlateau(..., mode={known!r}), or monitor another value."
            )
        callback = cls(monitor)
        callback.plateau = plateau
        return callback

    def on_train_begin(self, state: TrainingState) -> None:
        """Start the plateau afresh (as Keras does), its reductions scaling the rate this run
        starts with — unless a checkpoint's state was just loaded, which is kept."""
        check_monitor(self.monitor, state, "ReduceLROnPlateau")
        self._base_rate = state.base_learning_rate
        if self._resumed:  # continuing a checkpointed run: keep the restored state
            self._resumed = False
            return
        self.plateau.load_state_dict({})
        self._start_rate = state.learning_rate

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.plateau.observe(_monitored(record, self.monitor)):
            start = state.base_learning_rate if self._start_rate is None else self._start_rate
            state.learning_rate = self.plateau(state.epoch, start)
        return None

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Return the plateau's best value, counters and number of reductions
        (:meth:`ReduceOnPlateau.state_dict <deltarule.schedules.ReduceOnPlateau.state_dict>`),
        and ``start_learning_rate`` when the run started from another rate than the trainer's
        base rate (a trainer's later fit), which the reductions scale.

        The reduced rate itself is the trainer's (saved with its state)."""
        data = self.plateau.state_dict()
        if self._start_rate is not None and self._start_rate != self._base_rate:
            data["start_learning_rate"] = self._start_rate
        return data, {}

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`; the next training run continues from it (its
        ``on_train_begin`` keeps the state instead of starting afresh)."""
        missing = {"best", "bad_epochs", "cooldown_left", "reductions"} - set(data)
        if missing:
            raise KeyError(f"no {', '.join(sorted(missing))}")
        start = data.get("start_learning_rate")
        if start is not None and not (isinstance(start, (int, float)) and start > 0):
            raise ValueError(f"start_learning_rate is {start!r}, not a positive rate")
        self.plateau.load_state_dict(data)
        self._start_rate = None if start is None else float(start)
        self._resumed = True

    def config(self) -> dict[str, Any]:
        """The monitored value and the plateau rule's settings."""
        return {"monitor": self.monitor, **self.plateau.config()}


def _file_path(path: Any, who: str, example: str) -> str:
    """``path`` as a string, refusing what is not a file path (None, a number)."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise InputError(
            f"{who} needs a file path (a str or pathlib.Path, e.g. {example!r}); received "
            f"{type(path).__name__} {path!r:.60}."
        )
    return os.fspath(path)


def _check_folder(path: str | Path, who: str) -> None:
    """Refuse, before the first epoch trains, a file path that cannot take a file: a
    folder, a path ending in a separator, a path whose folder does not exist."""
    text = os.fspath(path)
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)) or Path(text).is_dir():
        raise InputError(
            f"{who}: {text!r} is a folder; expected a file path such as "
            f"{os.path.join(text, 'model.safetensors')!r}."
        )
    folder = Path(text).parent
    if not folder.is_dir():
        raise InputError(
            f"{who}: the folder {str(folder)!r} of {text!r} does not exist; create it "
            "first (e.g. mkdir -p) or choose another path."
        )


class CSVLogger(Callback):
    """Append one CSV row per epoch to ``path`` (flushed each epoch)."""

    def __init__(self, path: str | Path, append: bool = False) -> None:
        self.path, self.append = Path(_file_path(path, "CSVLogger", "log.csv")), append
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, state: TrainingState) -> None:
        _check_folder(self.path, "CSVLogger")

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        row = record.as_dict()
        if self._writer is None:
            exists = self.append and self.path.exists() and self.path.stat().st_size > 0
            if exists:
                with self.path.open(newline="") as handle:
                    header = next(csv.reader(handle), [])
                if header != list(row):  # (rows longer than the header made the file unreadable)
                    raise InputError(
                        f"CSVLogger cannot append to {str(self.path)!r}: its columns are "
                        f"{', '.join(header)}, this run records {', '.join(row)}. Log to "
                        "another file, or pass append=False to start it afresh."
                    )
            self._file = self.path.open("a" if self.append else "w", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=list(row))
            if not exists:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        return None

    def on_train_end(self, history: History, state: TrainingState) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


class ModelCheckpoint(Callback):
    """Save the model during training: the best only, or every ``every`` epochs.

    ``path`` may contain ``{epoch}``. Files are written atomically by
    :func:`deltarule.io.save_model`; besides the weights they hold the optimizer
    state (as ``extra.optimizer.*`` tensors) and the trainer's state (epochs,
    learning rate, random streams) in the header's ``training.trainer``, so
    :meth:`deltarule.training.Trainer.restore_state` can resume from them.
    """

    def __init__(
        self,
        path: str | Path,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        every: int = 1,
        mode: str = "auto",
    ) -> None:
        self.path = _file_path(path, "ModelCheckpoint", "best.safetensors")
        self.monitor = _canonical(monitor)
        self.save_best_only = save_best_only
        self.every, self.mode = check_int(every, "every"), _better(mode, monitor)
        try:  # a bad placeholder is an error now, not after the first epoch has trained
            self.path.format(epoch=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"ModelCheckpoint path {self.path!r} has a placeholder other than {{epoch}} "
                f"({type(exc).__name__}: {exc}); use {{epoch}} (e.g. 'model-{{epoch}}"
                ".safetensors') or none, and double braces for literal ones."
            ) from None
        self.best: float | None = None
        self.saved: list[str] = []

    def on_train_begin(self, state: TrainingState) -> None:
        _check_folder(self.path.format(epoch=1), "ModelCheckpoint")
        if self.save_best_only:
            check_monitor(self.monitor, state, "ModelCheckpoint(save_best_only=True)")

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]] | None:
        """With ``save_best_only``, the best value so far (a resumed run saves only a better
        epoch, as the uninterrupted run would); None otherwise."""
        if not self.save_best_only:
            return None
        finite = self.best is not None and math.isfinite(self.best)
        return {"best": self.best if finite else None}, {}

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`."""
        best = data["best"]
        if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
            raise ValueError(f"best is {best!r}, not a number")
        self.best = None if best is None else float(best)

    def config(self) -> dict[str, Any]:
        """With ``save_best_only``, the monitored value and its mode (empty otherwise: no
        state to match)."""
        return {"monitor": self.monitor, "mode": self.mode} if self.save_best_only else {}

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.save_best_only:
            value = _monitored(record, self.monitor)
            sign = 1 if self.mode == "min" else -1
            if self.best is not None and not sign * value < sign * self.best:
                return None
            self.best = value
        elif record.epoch % self.every:
            return None
        from .io import save_model  # an edge: imported only when a checkpoint is written

        target = self.path.format(epoch=record.epoch)
        training: dict[str, Any] = {"epoch": record.epoch, "record": record.as_dict()}
        extra = None
        if state.trainer is not None and hasattr(state.trainer, "checkpoint_state"):
            extra, training["trainer"] = state.trainer.checkpoint_state()
        save_model(state.network, target, training=training, extra_tensors=extra)
        self.saved.append(target)
        return None
