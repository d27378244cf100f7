"""The monitored value: its name, which way it improves, and reading it from a record.

The callbacks that watch one recorded value (early stopping, the plateau of the learning
rate, the best-only checkpoint) name it as the records do (a metric's alias such as
``'val_acc'`` becomes ``'val_accuracy'``), tell whether it improves by falling (a loss) or
by rising (accuracy, R², ...) — from the name, or when training begins from the run's own
metrics (a custom :class:`~deltarule.metrics.Metric`'s ``greater_is_better``), refusing a
name whose direction cannot be known as Keras 3 does — refuse before the first epoch a value
the run will not record, and read it from each epoch's record with a message that says what
was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import InputError
from ..history import COLUMNS, EpochRecord
from ..metrics import METRICS
from ._base import TrainingState

_FALLING = ("loss", "gradient_norm", "seconds")
"""The recorded columns that improve by falling (whose mode ``"auto"`` reads as "min")."""


def _mode_of(monitor: str, metrics: Sequence[Any] = ()) -> str | None:
    """ "min" or "max" for ``monitor`` when its direction is known — a loss (or the gradient
    norm, the seconds), one of ``metrics`` (the run's :class:`~deltarule.metrics.Metric`
    objects: their ``greater_is_better``), a metric of the registry — else None."""
    name = _canonical(monitor).removeprefix("val_")
    if name in _FALLING:
        return "min"
    for metric in metrics:
        if getattr(metric, "name", None) == name:
            return "max" if metric.greater_is_better else "min"
    if name in METRICS:
        return "max" if METRICS[name].greater_is_better else "min"
    return None


def _better(mode: str, monitor: str) -> str:
    """``mode`` checked; "auto" resolved where the name tells the direction (a loss, a
    registered metric), else left "auto": :func:`resolve_mode` decides when training begins,
    from the run's metrics (a custom metric's ``greater_is_better``)."""
    if not isinstance(monitor, str) or not monitor:
        raise InputError(
            f"monitor must be the name of a recorded value, such as 'loss', 'val_loss' or "
            f"'val_accuracy'; received {monitor!r}."
        )
    if mode == "auto":
        return _mode_of(monitor) or "auto"
    if mode not in ("min", "max"):
        raise InputError(f"mode must be 'min', 'max' or 'auto'; received {mode!r}.")
    return mode


SAVED_MODE = "_checkpoint_mode"
"""The attribute a resumed callback of ``mode="auto"`` is given by the checkpoint's match
(:mod:`deltarule.io._callback_states`): the mode its run recorded, "min" or "max" (a
checkpoint older than the reading of a custom metric's direction recorded the mode it
resolved), which the run's own must then be."""


def resolve_mode(
    mode: str, monitor: str, state: TrainingState | None, who: str, owner: Any = None
) -> str:
    """``mode`` ("min" or "max") as it is; "auto" (left open by :func:`_better`) read from
    the run's metrics (``state.trainer.metrics``: a custom metric's ``greater_is_better``).
    ``owner``: the callback, whose :data:`SAVED_MODE` (from a checkpoint) it must equal.

    Raises
    ------
    InputError
        When the direction of ``monitor`` cannot be known (as Keras 3 raises): neither a
        loss, nor a metric of the registry or of the run. Pass mode="max" or "min". Or
        when a checkpoint's run read it the other way."""
    saved = getattr(owner, "__dict__", {}).pop(SAVED_MODE, None)
    if mode != "auto":
        return mode
    trainer = getattr(state, "trainer", None)
    metrics = list(getattr(trainer, "metrics", None) or [])
    found = _mode_of(monitor, metrics)
    if found is None:
        raise _unknown_direction(monitor, metrics, who)
    if saved is not None and saved != found:
        raise InputError(
            f"{who} with mode='auto' reads {monitor!r} as {found!r} (improving by "
            f"{'rising' if found == 'max' else 'falling'}), but the checkpoint's run read it "
            f"as {saved!r} (older versions read every custom metric as a loss); expected the "
            f"run's own reading. Pass mode={saved!r} to resume that run as it was, or start "
            "it again."
        )
    return found


def _unknown_direction(monitor: str, metrics: Sequence[Any], who: str) -> InputError:
    """The error for a ``monitor`` whose direction mode "auto" cannot know."""
    names = ", ".join(m.name for m in metrics) or "none"
    return InputError(
        f"{who} cannot tell whether {monitor!r} improves by rising or by falling (mode="
        f"'auto'): it is not a loss, a metric of deltarule.metrics, nor one of this run's "
        f"metrics ({names}). Pass mode='max' if a higher {monitor!r} is better, or "
        "mode='min' if a lower one is."
    )


def monitor_mode(monitor: str, metrics: Sequence[Any] = ()) -> str:
    """Return whether the recorded value ``monitor`` improves by falling ("min": a loss) or
    by rising ("max": accuracy, R², ...), as ``mode="auto"`` reads it: a metric of
    ``metrics`` (the run's :class:`~deltarule.metrics.Metric` objects, custom ones
    included) by its ``greater_is_better``, else the registry's.

    Raises
    ------
    InputError
        For a name whose direction cannot be known (give the mode yourself)."""
    found = _mode_of(monitor, metrics)
    if found is None:
        raise _unknown_direction(monitor, metrics, "mode='auto'")
    return found


def _known_mode(monitor: str) -> str | None:
    """The direction of a loss or a registered metric; None for another name."""
    return _mode_of(monitor)


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
        fix = (
            f"Add {base!r} to metrics=[...]."
            if base in METRICS
            else f"Use one of those (or add a Metric named {base!r} to metrics=[...])."
        )
        raise InputError(
            f"{who} cannot monitor {monitor!r}: this run does not compute it (it records "
            f"{', '.join(recorded)}). {fix}"
        )
