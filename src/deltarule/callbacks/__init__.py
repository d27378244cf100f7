"""Callbacks: everything the training loop does besides training.

The loop (:mod:`deltarule.training`) calls, in order, ``on_train_begin``,
then per epoch ``on_epoch_begin`` and ``on_epoch_end`` — which returns None to
continue or a string, the reason to stop — and finally ``on_train_end``.
Printing, stopping rules, learning-rate changes, logging and checkpoints are
all callbacks; the loop never changes to add one.

A callback reads and may change the :class:`TrainingState` (e.g. its
``learning_rate``); it may also restore weights in place at the end.

Online plain SGD (batch size 1) runs many epochs per compiled call when every callback
can hear of them afterwards: :meth:`Callback.chunk_quiet` says how many of a run of
epochs (their losses) it lets pass without acting, :meth:`Callback.on_quiet_epochs` does
its bookkeeping for them, and the epoch it acts on gets ``on_epoch_end`` as usual.

A callback whose state changes what later epochs do (early stopping's best value and
counter, a plateau's counters) returns it from :meth:`Callback.state_dict` as plain
JSON-able data and named arrays, and takes it back in :meth:`Callback.load_state_dict`:
that is what a checkpoint (:mod:`deltarule.io.checkpoint`) saves and a resumed run restores.

The built-ins live by concept: :mod:`.progress` (printing), :mod:`.stopping` (stopping
rules), :mod:`.rates` (learning-rate changes) and :mod:`.files` (CSV log, checkpoints),
over the protocol of ``_base`` and the monitored-value helpers of ``_monitor``; all are
importable from here.
"""

from ._base import Callback, TrainingState
from ._base import check_hooks as check_hooks  # (for the training loop)
from ._base import check_rate as check_rate
from ._monitor import check_monitor as check_monitor
from ._monitor import monitor_mode as monitor_mode
from .files import CSVLogger, ModelCheckpoint
from .progress import ProgressBar
from .rates import LearningRateScheduler, ReduceLROnPlateau
from .stopping import (
    AllCorrect,
    EarlyStopping,
    GradientNormBelow,
    TargetError,
    TerminateOnNaN,
    TimeLimit,
)

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
