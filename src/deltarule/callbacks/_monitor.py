"""The monitored value: its name, which way it improves, and reading it from a record.

The callbacks that watch one recorded value (early stopping, the plateau of the learning
rate, the best-only checkpoint) name it as the records do (a metric's alias such as
``'val_acc'`` becomes ``'val_accuracy'``), tell from the name whether it improves by falling
(a loss) or by rising (accuracy, R², ...), refuse before the first epoch a value the run will
not record, and read it from each epoch's record with a message that says what was recorded.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InputError
from ..history import COLUMNS, EpochRecord
from ..metrics import METRICS
from ._base import TrainingState


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
