"""The compiled path of the training loop: online SGD epochs run by :mod:`deltarule._compiled`.

The loop takes it only when the result is the same as its own (see :func:`compiled_ok`):
batch size 1, plain SGD, no validation, metrics, weights or penalties, and callbacks that
need to see only the end of each chunk of epochs (quiet progress, target error, time limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _compiled
from ._reports import diverged
from ._sampling import Data
from .callbacks import Callback, ProgressBar, TargetError, TimeLimit, TrainingState
from .history import EpochRecord
from .network import Network
from .optimizers import SGD

__all__ = ["compiled_ok", "epoch_orders", "run_compiled"]


def compiled_ok(trainer: Any, data: Data, val: Data | None, cbs: Sequence[Callback]) -> bool:
    """True when the compiled online path computes exactly what the plain loop would."""
    plain_callbacks = all(
        (isinstance(cb, ProgressBar) and cb.verbose == 0)
        or (isinstance(cb, TargetError) and cb.monitor == "loss")
        or isinstance(cb, TimeLimit)
        for cb in cbs
    )
    return (
        trainer.batch_size == 1
        and type(trainer.network) is Network  # a subclass may change the computation
        and type(trainer.optimizer) is SGD
        and val is None
        and not trainer.metrics
        and data.sample_weight is None
        and not (trainer.l1 or trainer.l2 or trainer.max_norm)
        and plain_callbacks
        and _compiled.available()
        and _compiled.supported(trainer.network)
    )


def run_compiled(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
) -> str:
    """Online SGD in compiled code, in chunks of epochs; callbacks see each chunk's end."""

    net, kernel = trainer.network, _compiled.OnlineKernel(trainer.network)
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
        done, losses, norms = kernel.run(data.X, data.y, orders, state.learning_rate, target, size)
        seconds = time.perf_counter() - t0
        if done < size:  # consume exactly the permutations the plain path would have
            trainer._shuffle_rng.bit_generator.state = rng_state
            epoch_orders(trainer, n, done)
        if not (math.isfinite(losses[-1]) and np.isfinite(net.parameters).all()):
            # The last epoch run either had a non-finite loss or its updates overflowed
            # the weights (the kernel stops at the first non-finite loss).
            np.copyto(net.parameters, start)
            if done > 1:  # redo, and record, the finite epochs before the failed one
                kernel.run(data.X, data.y, orders, state.learning_rate, -math.inf, done - 1)
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
        trainer._grad_sum[...] = 0  # the last record carries the kernel's gradient norm
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


def epoch_orders(trainer: Any, n: int, n_epochs: int) -> np.ndarray | None:
    """Each epoch's visiting order, drawn exactly as :meth:`_epoch` draws it."""
    if not trainer.shuffle or n == 1:  # a one-element permutation draws nothing
        return None
    return np.stack([trainer._shuffle_rng.permutation(n) for _ in range(n_epochs)])
