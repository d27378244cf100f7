"""The learning rate a model file records for its training (``deltarule train``'s summary,
a scikit-learn estimator's ``learning_rate_init``, a training checkpoint's trainer), or why
it records none: the rate ``deltarule explain --model`` takes by default."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ._target_units import training_summary

__all__ = ["TrainingRate", "training_rate"]


class TrainingRate(NamedTuple):
    """The learning rate a model file records for its training, or why it records none."""

    rate: float | None
    """η > 0, or None."""
    words: str
    """With a rate, where it comes from (``"optimizer adam"``); without one, why
    (``"this model's optimizer lbfgs has no learning rate"``)."""


_SKLEARN_RATED = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
"""The solvers of :mod:`deltarule.sklearn` that step with ``learning_rate_init`` (rprop,
lbfgs and lm have no learning rate)."""


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf


def _rate_of(rate: Any, optimizer: Any) -> TrainingRate:
    """A training record's rate (the one its kept epoch used) and optimizer."""
    if _positive(rate):
        return TrainingRate(float(rate), f"optimizer {optimizer or 'unnamed'}")
    if optimizer and isinstance(rate, (int, float)):  # (0: lbfgs, irprop_plus, lm...)
        return TrainingRate(None, f"this model's optimizer {optimizer} has no learning rate")
    return TrainingRate(None, "this model's training record holds no learning rate")


def _estimator_rate(training: dict[str, Any]) -> TrainingRate:
    """The ``learning_rate_init`` of a scikit-learn estimator's file (:mod:`deltarule.sklearn`
    stores its parameters under ``header["training"]["params"]``)."""
    name = str(training.get("estimator") or "estimator")
    params = training.get("params")
    params = params if isinstance(params, dict) else {}
    solver, rate = params.get("solver"), params.get("learning_rate_init")
    if solver is not None and solver not in _SKLEARN_RATED:
        return TrainingRate(None, f"this {name}'s solver {solver} has no learning rate")
    if not _positive(rate):
        return TrainingRate(None, f"this {name}'s file records no learning_rate_init")
    words = f"this {name}'s learning_rate_init, solver {solver}"
    schedule = params.get("learning_rate")
    if solver == "sgd" and schedule in ("invscaling", "adaptive"):
        words += f"; its learning_rate={schedule!r} schedule changed it during training"
    return TrainingRate(float(rate), words)


def training_rate(header: Any) -> TrainingRate:
    """The learning rate of the model's training as its file records it: ``deltarule train``'s
    summary (the rate of the epoch whose weights it kept), a scikit-learn estimator's
    ``learning_rate_init``, a training checkpoint's trainer; or why there is none (a file
    saved from Python without a training record, an optimizer without one such as lbfgs)."""
    training = header.get("training") if isinstance(header, dict) else None
    if not isinstance(training, dict):
        return TrainingRate(None, "this model's file has no training record to take one from")
    if "estimator" in training:
        return _estimator_rate(training)
    summary = training_summary(header)
    if summary:
        final, settings = summary.get("final"), summary.get("settings")
        rate = final.get("learning_rate") if isinstance(final, dict) else None
        optimizer = settings.get("optimizer") if isinstance(settings, dict) else None
        return _rate_of(rate, optimizer)
    trainer = training.get("trainer")  # (a training checkpoint's: deltarule.io.checkpoint)
    if isinstance(trainer, dict):
        rule = trainer.get("optimizer")
        return _rate_of(
            trainer.get("learning_rate"), rule.get("name") if isinstance(rule, dict) else None
        )
    return TrainingRate(None, "this model's file records no learning rate")
