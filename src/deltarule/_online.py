"""The compiled path of the training loop: online SGD epochs run by :mod:`deltarule._compiled`.

The loop takes it only when the result is the same as its own (see :func:`compiled_ok`):
batch size 1, plain SGD (the delta rule), no metrics, sample weights, L1 or max-norm, and a
network whose objective the kernel computes (the plain one, scaled, plus an L2 term).
With callbacks that need to see only the end of a chunk of epochs (quiet progress, target
error, time limit) and no validation data, whole chunks of epochs run in one call; otherwise
one epoch per call, with every callback and the validation score between epochs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _compiled
from ._reports import diverged
from ._sampling import Data
from .callbacks import Callback, ProgressBar, TargetError, TimeLimit, TrainingState
from .history import EpochRecord
from .optimizers import Optimizer

__all__ = ["compiled_ok", "epoch_orders", "run_compiled"]


def compiled_ok(trainer: Any, data: Data, val: Data | None, cbs: Sequence[Callback]) -> bool:
    """True when the compiled online path computes what the plain loop would."""
    return (
        trainer.batch_size == 1
        and trainer.network.objective_terms() is not None
        and isinstance(trainer.optimizer, Optimizer)
        and trainer.optimizer.is_plain_sgd()
        and not trainer.metrics
        and data.sample_weight is None
        and not (trainer.l1 or trainer.max_norm)
        and _compiled.available()
        and _compiled.supported(trainer.network)
    )


def _chunkable(val: Data | None, cbs: Sequence[Callback]) -> bool:
    """True when the callbacks need to see only the end of a chunk of epochs."""
    return val is None and all(
        (isinstance(cb, ProgressBar) and cb.verbose == 0)
        or (isinstance(cb, TargetError) and cb.monitor == "loss")
        or isinstance(cb, TimeLimit)
        for cb in cbs
    )


def _terms(trainer: Any) -> tuple[float, float]:
    """The kernel's (loss scale, L2 coefficient): the network's, plus the trainer's ``l2``."""
    scale, decay = trainer.network.objective_terms()
    return scale, decay + trainer.l2


def run_compiled(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
) -> str:
    """Online SGD in compiled code, in chunks of epochs; callbacks see each chunk's end."""
    if not _chunkable(val, cbs):  # the plain loop, with compiled epochs
        return trainer._run_epochs(data, val, state, cbs, epochs, _compiled_epoch(trainer))
    net, kernel = trainer.network, _compiled.OnlineKernel(trainer.network)
    scale, decay = _terms(trainer)
    targets = [cb.target for cb in cbs if isinstance(cb, TargetError)]
    target = min(targets) if targets else -math.inf
    n, chunk, remaining = data.X.shape[0], 16, epochs
    start = net.parameters.copy()
    while remaining:
        size = min(chunk, remaining)
        rng_state = trainer._shuffle_rng.bit_generator.state
        orders = epoch_orders(trainer, n, size)
        np.copyto(start, net.parameters)
        t0 = time.perf_counter()
        done, losses, norms = kernel.run(
            data.X, data.y, orders, state.learning_rate, target, size, scale, decay
        )
        seconds = time.perf_counter() - t0
        if done < size:  # consume exactly the permutations the plain path would have
            trainer._shuffle_rng.bit_generator.state = rng_state
            epoch_orders(trainer, n, done)
        if not (math.isfinite(losses[-1]) and np.isfinite(net.parameters).all()):
            # The last epoch run either had a non-finite loss or its updates overflowed
            # the weights (the kernel stops at the first non-finite loss).
            np.copyto(net.parameters, start)
            if done > 1:  # redo, and record, the finite epochs before the failed one
                kernel.run(
                    data.X, data.y, orders, state.learning_rate, -math.inf, done - 1, scale, decay
                )
                state.history.extend_columns(
                    trainer.epochs_done + 1,
                    losses[:-1],
                    norms[:-1],
                    state.learning_rate,
                    seconds / done,
                )
                trainer.epochs_done += done - 1
                trainer.optimizer_state["step"] += (done - 1) * n
            return diverged(float(losses[-1]), trainer.epochs_done + 1, state.learning_rate)
        state.history.extend_columns(
            trainer.epochs_done + 1, losses[:-1], norms[:-1], state.learning_rate, seconds / done
        )
        record = EpochRecord(
            trainer.epochs_done + done,
            float(losses[-1]),
            None,
            {},
            {},
            state.learning_rate,
            float(norms[-1]),
            seconds / done,
        )
        trainer.epochs_done += done
        trainer.optimizer_state["step"] += done * n
        remaining -= done
        reason = trainer.end_epoch(record, state, cbs)
        if reason:
            return reason
        chunk = min(chunk * 4, 1 << 16) if seconds < 0.05 else chunk
    return f"max epochs ({state.max_epochs}) reached"


def _compiled_epoch(trainer: Any) -> Callable[[Data, float, Any], tuple]:
    """An epoch function for the plain loop (:meth:`Trainer._run_epochs`): one compiled epoch."""
    kernel, (scale, decay) = _compiled.OnlineKernel(trainer.network), _terms(trainer)

    def epoch(data: Data, lr: float, interrupt: Any) -> tuple[float, None, np.ndarray, float]:
        n = data.X.shape[0]
        orders = epoch_orders(trainer, n, 1)
        _, losses, norms = kernel.run(data.X, data.y, orders, lr, -math.inf, 1, scale, decay)
        if math.isfinite(losses[0]) and np.isfinite(trainer.network.parameters).all():
            trainer.optimizer_state["step"] += n  # a diverged epoch is undone: no steps
        order = np.arange(n) if orders is None else orders[0]
        return float(losses[0]), None, order, float(norms[0])

    return epoch


def epoch_orders(trainer: Any, n: int, n_epochs: int) -> np.ndarray | None:
    """Each epoch's visiting order, drawn exactly as :meth:`_epoch` draws it."""
    if not trainer.shuffle or n == 1:  # a one-element permutation draws nothing
        return None
    return np.stack([trainer._shuffle_rng.permutation(n) for _ in range(n_epochs)])
