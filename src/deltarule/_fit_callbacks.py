"""The keyword options of :func:`deltarule.training.fit` as the callbacks that carry them out.

``schedule`` becomes a :class:`~deltarule.callbacks.LearningRateScheduler` (a cosine given
by name ends at the fit's ``epochs``; a plateau
schedule: a :class:`~deltarule.callbacks.ReduceLROnPlateau` told the value it watches), and
``target_error``, ``stop_when_all_correct``, ``min_gradient_norm``, ``early_stopping`` and
``time_limit`` become their stopping rules (:func:`option_callbacks`). Options that would do
nothing are refused: a schedule for an optimizer without a learning rate, and early
stopping's settings given without ``early_stopping=True``.
"""

from __future__ import annotations

from typing import Any

from ._trainer_checks import refuse_rate
from ._validation import check_flag, check_positive
from .callbacks import (
    AllCorrect,
    Callback,
    EarlyStopping,
    GradientNormBelow,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TargetError,
    TimeLimit,
    monitor_mode,
)
from .exceptions import InputError
from .schedules import SCHEDULES, ReduceOnPlateau, get_schedule
from .solvers import FullBatchSolver

__all__ = ["option_callbacks"]


def _plateau_callback(
    rule: Any, schedule: Any, monitor: str | None, has_val: bool, metrics: list[Any]
) -> ReduceLROnPlateau:
    """The callback that tells the plateau schedule ``rule`` the value it watches each epoch:
    ``monitor`` when given (a plateau given by name takes its mode from it), else the loss
    (mode "min") or the accuracy (mode "max"), of the validation data when there are some.
    ``metrics``: the run's :class:`~deltarule.metrics.Metric` objects (a custom one's
    ``greater_is_better`` gives the mode of a plateau given by name)."""
    prefix = "val_" if has_val else ""
    if monitor is None:
        if rule.mode == "min":
            monitor = prefix + "loss"
        elif "accuracy" in [metric.name for metric in metrics]:
            monitor = prefix + "accuracy"
        else:
            raise InputError(
                f"schedule {rule!r} (mode 'max') lowers the rate when a value that should rise "
                "stops rising; fit cannot tell which (no accuracy is recorded). Pass monitor="
                "'val_accuracy' or another metric given in metrics=[...], or use mode='min' to "
                "watch the loss."
            )
    elif isinstance(schedule, str):  # built by name: its mode is the monitored value's
        rule = get_schedule(schedule, mode=monitor_mode(monitor, metrics))
    return ReduceLROnPlateau.from_schedule(rule, monitor)


def _by_name(schedule: Any, epochs: int) -> dict[str, Any]:
    """What fit fills in for a schedule given by name: a cosine's ``total_epochs``, the
    epoch this fit ends at, ``epochs`` for a fresh run (its rate decays over the fit's
    epochs, as CosineDecay(epochs) would). A schedule reads the run's epoch numbers, so a
    resumed or continued run (epochs done before) decays over the whole run: resumed from
    a checkpoint with the epochs left, it follows the uninterrupted run's rates."""
    if isinstance(schedule, str) and schedule in SCHEDULES:
        if "total_epochs" in SCHEDULES[schedule].hyperparameters:
            return {"total_epochs": epochs}
    return {}


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array, say: not the default
        return True


def _refuse_idle_stopping_settings(
    early_stopping: bool,
    plateau: bool,
    patience: Any,
    monitor: Any,
    min_delta: Any,
    restore_best_weights: Any,
) -> None:
    """Refuse early stopping's settings given without ``early_stopping=True`` (``monitor``
    also serves a plateau schedule): they would do nothing."""
    if early_stopping:
        return
    idle = [
        f"{name}={value!r}"
        for name, value, default in (
            ("patience", patience, 10),
            ("min_delta", min_delta, 0.0),
            ("restore_best_weights", restore_best_weights, True),
            ("monitor", None if plateau else monitor, None),
        )
        if _differs(value, default)
    ]
    if idle:
        one = len(idle) == 1
        raise InputError(
            f"{', '.join(idle)} {'sets' if one else 'set'} early stopping, which is off "
            f"(early_stopping=False), so {'it' if one else 'they'} would do nothing. Pass "
            f"early_stopping=True to stop early, or leave {'it' if one else 'them'} out."
        )


def option_callbacks(
    trainer: Any,
    has_val: bool,
    *,
    epochs: int,
    schedule: Any,
    target_error: float | None,
    stop_when_all_correct: bool,
    min_gradient_norm: float | None,
    early_stopping: bool,
    patience: int,
    monitor: str | None,
    min_delta: float,
    restore_best_weights: bool,
    time_limit: float | None,
) -> list[Callback]:
    """The callbacks :func:`~deltarule.training.fit`'s options ask for, for ``trainer``
    (``has_val``: whether the fit has validation data), in the order fit gives them."""
    stops: list[Callback] = []
    early_stopping = check_flag(early_stopping, "early_stopping")
    stop_when_all_correct = check_flag(stop_when_all_correct, "stop_when_all_correct")
    restore_best_weights = check_flag(restore_best_weights, "restore_best_weights")
    if monitor is not None and not isinstance(monitor, str):
        raise InputError(
            f"monitor must be the name of a recorded value ('loss', 'val_loss', "
            f"'val_accuracy', ...) or None; received {type(monitor).__name__} {monitor!r:.60}."
        )
    if schedule is not None and isinstance(trainer.optimizer, FullBatchSolver):
        raise InputError(
            f"optimizer {trainer.optimizer.name!r} has no learning rate for schedule="
            f"{schedule!r:.60} to change ({trainer.optimizer.step_rule}); expected schedule="
            "None with a full-batch solver. Leave schedule out, or choose a first-order "
            "optimizer (sgd, momentum, adam, ...)."
        )
    refuse_rate(trainer.optimizer, f"schedule={schedule!r:.60}", schedule)
    end = trainer.epochs_done + epochs
    rule = None if schedule is None else get_schedule(schedule, **_by_name(schedule, end))
    plateau = isinstance(rule, ReduceOnPlateau)
    _refuse_idle_stopping_settings(
        early_stopping, plateau, patience, monitor, min_delta, restore_best_weights
    )
    if plateau:  # told the monitored value after each epoch
        stops.append(_plateau_callback(rule, schedule, monitor, has_val, trainer.metrics))
    elif rule is not None:
        stops.append(LearningRateScheduler(rule))
    if target_error is not None:
        stops.append(TargetError(check_positive(target_error, "target_error", allow_zero=True)))
    if stop_when_all_correct:
        stops.append(AllCorrect())
    if min_gradient_norm is not None:
        stops.append(GradientNormBelow(check_positive(min_gradient_norm, "min_gradient_norm")))
    if early_stopping:
        watched = monitor or ("val_loss" if has_val else "loss")
        stops.append(
            EarlyStopping(watched, patience, min_delta, restore_best_weights=restore_best_weights)
        )
    if time_limit is not None:
        stops.append(TimeLimit(check_positive(time_limit, "time_limit")))
    for stop in stops:  # (a checkpoint marks their states: a resumed fit makes them again)
        stop._fit_option = True
    return stops
