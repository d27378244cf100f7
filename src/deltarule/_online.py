"""The compiled path of the training loop: online SGD epochs run by :mod:`deltarule._compiled`.

The loop takes it only when the result is the same as its own (see :func:`compiled_ok`):
batch size 1, plain SGD (the delta rule), no sample weights, L1 or max-norm, and a network
whose objective the kernel computes (the plain one, scaled, plus an L2 term). With callbacks
that need to see only the end of a chunk of epochs (quiet progress, target error, time limit)
and no validation data, whole chunks of epochs run in one call; otherwise one epoch per call,
with every callback and the validation score between epochs. Either way the kernel keeps
each example's output, which the training metrics score as the plain loop scores them
(:mod:`deltarule._chunk_metrics`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _chunk_metrics, _compiled
from ._epochs import BestStart, OptimizerSnapshot
from ._reports import Interrupt, diverged
from ._sampling import Data
from .callbacks import Callback, ProgressBar, TargetError, TimeLimit, TrainingState
from .history import EpochRecord
from .metrics import class_threshold
from .optimizers import Optimizer

__all__ = ["compiled_ok", "epoch_orders", "run_compiled"]


def compiled_ok(trainer: Any, data: Data, val: Data | None, cbs: Sequence[Callback]) -> bool:
    """True when the compiled online path computes what the plain loop would."""
    return (
        trainer.batch_size == 1
        and trainer.network.objective_terms() is not None
        and isinstance(trainer.optimizer, Optimizer)
        and trainer.optimizer.is_plain_sgd()
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


def _target(cbs: Sequence[Callback]) -> float:
    """The loss at or below which the kernel stops: the largest target, since reaching any
    :class:`TargetError`'s stops the run (-inf: none; a NaN target is never reached)."""
    targets = [cb.target for cb in cbs if isinstance(cb, TargetError) and not math.isnan(cb.target)]
    return max(targets, default=-math.inf)


CHUNK_WORK = 2_000_000
"""Roughly the multiply-adds (examples times parameters times epochs) of the first chunk:
up to 16 epochs, fewer on large data, so that Ctrl-C is seen soon even there."""
CHUNK_SECONDS = 0.05
"""A chunk that ran for less than this is followed by one four times as long (at most
65,536 epochs): Ctrl-C, seen between chunks, stops the run within about 0.2 s."""
CHUNK_OUTPUTS = 1 << 20
"""The most outputs (epochs x examples x outputs) a chunk keeps for the training metrics,
8 MiB in float64: a run with metrics has chunks of at most this over n x k epochs."""


def run_compiled(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
) -> str:
    """Online SGD in compiled code, in chunks of epochs; callbacks see each chunk's end.

    The outcome is the plain loop's (:meth:`Trainer._run_epochs`): it stops at the first
    epoch whose loss reaches any target, and a diverged epoch is undone and reported (the
    kernel checks the loss and the weights after every epoch; an output that is not finite
    makes its example's error not finite, so the plain loop's check of the outputs finds
    nothing more). Each epoch's metrics are scored on its outputs as the plain loop scores
    them. Ctrl-C stops the run after the current chunk, with every epoch of it recorded.
    """
    if not _chunkable(val, cbs):  # the plain loop, with compiled epochs
        return trainer._run_epochs(data, val, state, cbs, epochs, _compiled_epoch(trainer))
    net, kernel = trainer.network, _compiled.OnlineKernel(trainer.network)
    target = _target(cbs)
    n, remaining = data.X.shape[0], epochs
    longest = 1 << 16
    if trainer.metrics:  # bounded memory for the chunk's outputs
        longest = min(longest, max(1, CHUNK_OUTPUTS // (n * net.n_outputs)))
    chunk = max(1, min(16, CHUNK_WORK // max(1, n * net.n_parameters), longest))
    lr = state.learning_rate
    # each chunk's starting weights, offered as its first epoch's start (see BestStart)
    best = BestStart(net, trainer.optimizer_state).resume(trainer)
    start, start_state = net.parameters.copy(), OptimizerSnapshot(trainer.optimizer_state)
    with Interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
        while remaining:
            t0 = time.perf_counter()
            np.copyto(start, net.parameters)
            start_state.take(trainer.optimizer_state)
            done, failed, losses, norms, scores = _run_chunk(
                trainer, kernel, data, state, target, min(chunk, remaining)
            )
            seconds = time.perf_counter() - t0
            if done > 1 or not failed:
                best.offer(trainer.epochs_done + 1, float(losses[0]), start, start_state.saved)
            if done > 1:  # every epoch but the last (a finished one, or the failed one)
                state.history.extend_columns(
                    trainer.epochs_done + 1, losses[:-1], norms[:-1], lr, seconds / done,
                    {name: values[: done - 1] for name, values in scores.items()},
                )  # fmt: skip
            if failed:  # the kernel restored the failed epoch's starting weights
                trainer.epochs_done += done - 1
                restored = best.restore_if_better(trainer, data)
                return diverged(float(losses[-1]), trainer.epochs_done + 1, lr, None, restored)
            record = EpochRecord(
                trainer.epochs_done + done,
                float(losses[-1]),
                None,
                {name: float(values[-1]) for name, values in scores.items()},
                {},
                lr,
                float(norms[-1]),
                seconds / done,
            )
            trainer.epochs_done += done
            remaining -= done
            reason = trainer.end_epoch(record, state, cbs)
            if interrupt.requested:
                return f"interrupted ({interrupt.signal}) after epoch {record.epoch}"
            if reason:
                return reason
            if seconds < CHUNK_SECONDS:
                chunk = min(chunk * 4, longest)
    return f"max epochs ({state.max_epochs}) reached"


def _run_chunk(
    trainer: Any,
    kernel: _compiled.OnlineKernel,
    data: Data,
    state: TrainingState,
    target: float,
    size: int,
) -> tuple[int, bool, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Run up to ``size`` epochs in one kernel call, as :meth:`OnlineKernel.run
    <deltarule._compiled.OnlineKernel.run>` says, and score the finished ones' metrics.

    Returns (epochs run, the last failed, their losses and gradient norms, each metric's
    values of the finished epochs). The random stream and the step count are left as the
    plain loop leaves them. A metric that raises does so as in the plain loop: after its
    epoch, the epochs before it recorded (the weights of the epoch's end are computed again
    from the chunk's start: the kernel computes the same again).
    """
    net, n = trainer.network, data.X.shape[0]
    scale, decay, lr = *_terms(trainer), state.learning_rate
    rng_state = trainer._shuffle_rng.bit_generator.state
    orders = epoch_orders(trainer, n, size)
    outputs = np.empty((size, n, net.n_outputs), net.dtype) if trainer.metrics else None
    start = net.parameters.copy() if trainer.metrics else None
    done, _, failed, losses, norms = kernel.run(
        data.X, data.y, orders, lr, target, size, scale, decay, outputs=outputs
    )
    if done < size:  # consume exactly the permutations the plain path would have
        _draw_again(trainer, rng_state, n, done)
    finished = done - 1 if failed else done  # (the plain loop undoes a failed epoch's steps)
    scores, error = {}, None
    if outputs is not None:
        visits = None if orders is None else orders[:finished]
        cut = class_threshold(net.layers[-1].activation, data.y)  # the plain loop's
        scores, error = _chunk_metrics.columns(
            trainer.metrics, data.y, visits, outputs[:finished], threshold=cut
        )
    if error is not None:
        finished = len(next(iter(scores.values())))  # the epochs before the metric's
        np.copyto(net.parameters, start)
        _draw_again(trainer, rng_state, n, finished + 1)
        replay = None if orders is None else orders[: finished + 1]
        kernel.run(data.X, data.y, replay, lr, -math.inf, finished + 1, scale, decay)
        trainer.optimizer_state["step"] += (finished + 1) * n
        if finished:
            state.history.extend_columns(
                trainer.epochs_done + 1, losses[:finished], norms[:finished], lr, 0.0, scores
            )
        trainer.epochs_done += finished
        raise error
    trainer.optimizer_state["step"] += finished * n
    return done, failed, losses, norms, scores


def _draw_again(trainer: Any, rng_state: dict, n: int, n_epochs: int) -> None:
    """Put the shuffling stream back to ``rng_state`` and draw ``n_epochs`` orders again."""
    trainer._shuffle_rng.bit_generator.state = rng_state
    epoch_orders(trainer, n, n_epochs)


def _compiled_epoch(trainer: Any) -> Callable[[Data, float, Any], tuple]:
    """An epoch function for the plain loop (:meth:`Trainer._run_epochs`): one compiled epoch.

    A failed epoch's weights are left as it left them: the loop sees them, restores the
    epoch's starting weights and reports it, as for its own epochs. With metrics, the epoch's
    outputs (before each update, in visiting order) go to the loop, which scores them.
    """
    net = trainer.network
    kernel, (scale, decay) = _compiled.OnlineKernel(net), _terms(trainer)

    def epoch(data: Data, lr: float, interrupt: Any) -> tuple[float, Any, np.ndarray, float]:
        n = data.X.shape[0]
        orders = epoch_orders(trainer, n, 1)
        outputs = np.empty((1, n, net.n_outputs), net.dtype) if trainer.metrics else None
        _, updates, _, losses, norms = kernel.run(
            data.X, data.y, orders, lr, -math.inf, 1, scale, decay, restore=False, outputs=outputs
        )
        trainer.optimizer_state["step"] += updates  # (the loop undoes a failed epoch's)
        order = np.arange(n) if orders is None else orders[0]
        output = None if outputs is None else outputs[0]
        return float(losses[0]), output, order, float(norms[0])

    return epoch


def epoch_orders(trainer: Any, n: int, n_epochs: int) -> np.ndarray | None:
    """Each epoch's visiting order, drawn exactly as :func:`deltarule._steps.run_epoch` draws it."""
    if not trainer.shuffle or n == 1:  # a one-element permutation draws nothing
        return None
    return np.stack([trainer._shuffle_rng.permutation(n) for _ in range(n_epochs)])
