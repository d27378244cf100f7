"""The epoch loop: epochs run, undone when they diverge, recorded and told to the callbacks.

:func:`run_epochs` runs up to ``epochs`` epochs (each by :func:`deltarule._steps.run_epoch`,
or the epoch function the compiled online path gives). Before each epoch it keeps the
weights and the optimizer state (:class:`OptimizerSnapshot`); an epoch whose loss, weights or
outputs are not finite is undone and ends the run with a divergence reason, and so is one
whose validation loss or outputs are not finite (:class:`ValidationDiverged`). A complete epoch
becomes one frozen :class:`~deltarule.history.EpochRecord` (:func:`record`: the training and
validation losses and metrics), which :func:`end_epoch` appends to the history and hands to
every callback; a callback's answer (:func:`stop_reason`) stops the run. Ctrl-C stops it
between batches: a partial epoch gets no record.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from . import _chunk_metrics, _minibatch, _sparse
from ._reports import Interrupt, diverged
from ._sampling import Data
from ._steps import run_epoch
from ._trainer_checks import refuse_rate
from ._typing import Array
from .callbacks import Callback, ProgressBar, TrainingState, check_rate
from .exceptions import InputError
from .history import EpochRecord, History
from .metrics import accuracy, class_threshold, shared_inputs
from .network import INFER_CHUNK

__all__ = [
    "BestStart",
    "EpochProgress",
    "OptimizerSnapshot",
    "ValidationDiverged",
    "end_epoch",
    "metrics",
    "record",
    "run_epochs",
    "stop_reason",
    "validate",
]


class OptimizerSnapshot:
    """A copy of an optimizer state (its arrays and scalars, not its scratch space), taken
    before each epoch so that a diverged epoch is undone in the optimizer as in the weights:
    momentum, Adam's moments and the step count go back to the last finite epoch (a
    velocity left at 1e19 made the next fit diverge at once, whatever its learning rate).
    The copies are made into buffers kept between epochs: O(parameters) a state array."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.saved = {k: v.copy() if isinstance(v, np.ndarray) else v
                      for k, v in state.items() if k != "scratch"}  # fmt: skip

    def take(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if key == "scratch":
                continue
            kept = self.saved.get(key)
            if isinstance(value, np.ndarray) and isinstance(kept, np.ndarray):
                np.copyto(kept, value)
            else:
                self.saved[key] = value.copy() if isinstance(value, np.ndarray) else value

    def put(self, state: dict[str, Any]) -> None:
        """Write the snapshot back into ``state``, arrays in place (compiled kernels and the
        training state hold them)."""
        for key, kept in self.saved.items():
            value = state.get(key)
            if isinstance(kept, np.ndarray) and isinstance(value, np.ndarray):
                np.copyto(value, kept)
            else:
                state[key] = kept


class EpochProgress:
    """Tells the callbacks that override :meth:`Callback.on_epoch_progress
    <deltarule.callbacks.Callback.on_epoch_progress>` how far a long epoch has got, at most
    every :data:`EVERY` seconds: the epoch loops call :meth:`tick` between batches (or runs
    of compiled steps), which costs a clock read when nothing is due."""

    EVERY = 1.0
    """Seconds between reports."""

    def __init__(self, cbs: Sequence[Callback], state: TrainingState) -> None:
        base = Callback.on_epoch_progress
        self.cbs = [
            cb for cb in cbs
            if getattr(type(cb), "on_epoch_progress", base) is not base
            and not (isinstance(cb, ProgressBar) and cb.verbose == 0)  # (a silent bar)
        ]  # fmt: skip
        self.state = state
        self.t0 = self.due = 0.0

    def start(self) -> None:
        """An epoch begins."""
        self.t0 = time.perf_counter()
        self.due = self.t0 + self.EVERY

    def tick(self, seen: int, total: int) -> None:
        """``seen`` of the epoch's ``total`` examples are done."""
        now = time.perf_counter()
        if now < self.due:
            return
        self.due = now + self.EVERY
        for cb in self.cbs:
            cb.on_epoch_progress(seen, total, now - self.t0, self.state)


def finite_weights(network: Any) -> bool:
    """Whether every parameter of ``network`` is finite."""
    return bool(np.isfinite(network.parameters).all())


class BestStart:
    """The starting weights and optimizer state of the epoch with the lowest training loss
    so far, for a diverged run whose last finite epoch ended far above it.

    An epoch's recorded loss is taken while it runs: in full batch, before its one update,
    so it is the loss of the weights the epoch started from. A run that explodes epoch
    after epoch (a learning rate far too large) ends its last finite epoch with weights
    whose loss is already infinite or enormous; undoing only the diverged epoch left
    those. :meth:`restore_if_better` measures the weights that undoing left and, when their
    loss is not finite or above the lowest recorded one, puts back the starting weights of
    the epoch that recorded it. Copies are made into buffers kept for the run, when an
    epoch's loss is a new lowest: O(parameters) each.
    """

    def __init__(self, network: Any, state: dict[str, Any]) -> None:
        self.network = network
        self.params = network.parameters.copy()
        self.state = OptimizerSnapshot(state)
        self.epoch, self.loss = 0, math.inf

    def offer(self, epoch: int, loss: float, start: Array, state: dict[str, Any]) -> None:
        """Keep ``start`` (the epoch's starting weights) and ``state`` (its optimizer state)
        when ``loss``, epoch ``epoch``'s, is the lowest so far."""
        if loss < self.loss:  # (NaN never is)
            np.copyto(self.params, start)
            self.state.take(state)
            self.epoch, self.loss = epoch, float(loss)

    def resume(self, trainer: Any) -> BestStart:
        """Take the kept start a resumed trainer's checkpoint held (:func:`deltarule.
        _checkpoint_state.restore_state` leaves it on the trainer, for the first run after
        it), and let a checkpoint written during this run keep this one's; returns self."""
        saved, trainer._resumed_best = getattr(trainer, "_resumed_best", None), None
        if saved is not None:
            epoch, loss, params, state = saved
            np.copyto(self.params, params)
            self.state.saved = state
            self.epoch, self.loss = epoch, loss
        trainer._best_start = self
        return self

    def restore_if_better(self, trainer: Any, data: Data) -> tuple[int, float, float] | None:
        """After a divergence was undone: put back the kept start when the network's loss on
        ``data`` is not finite or above the lowest recorded, and the kept start's is lower;
        returns (that epoch, the loss of the weights put back, the loss of the weights
        replaced), or None when the network is kept."""
        if self.epoch == 0:
            return None
        net = self.network
        with np.errstate(all="ignore"):
            now = net.evaluate_params(net.parameters, data.X, data.y, data.sample_weight)
            if math.isfinite(now) and now <= self.loss:
                return None
            kept = net.evaluate_params(self.params, data.X, data.y, data.sample_weight)
        if not math.isfinite(kept) or (math.isfinite(now) and kept >= now):
            return None
        np.copyto(net.parameters, self.params)
        self.state.put(trainer.optimizer_state)
        return self.epoch, kept, now


class ValidationDiverged(Exception):
    """Raised by :func:`validate` when the validation loss or outputs of the epoch just run are
    not finite: the epoch diverged (its weights overflow on the validation rows), so the loop
    undoes it as it undoes one whose training loss is not finite, rather than recording a NaN
    ``val_loss`` or scoring metrics on overflowed outputs."""

    def __init__(self, loss: float, cause: str) -> None:
        super().__init__(cause)
        self.loss = loss
        self.cause = cause


def stop_reason(callback: Callback, reason: Any, hook: str = "on_epoch_end") -> str | None:
    """A callback's ``on_epoch_end`` (or other ``hook``'s) answer as a stop reason: a string
    stops (the reason), None or "" goes on; True stops with a reason naming the callback
    (Keras callbacks set ``model.stop_training = True``), False goes on. Anything else is an
    InputError."""
    if reason is None or isinstance(reason, str):
        return reason or None
    if isinstance(reason, (bool, np.bool_)):
        name = type(callback).__name__
        return f"stopped by {name} (its {hook} returned True)" if reason else None
    raise InputError(
        f"{type(callback).__name__}.{hook} returned {type(reason).__name__} "
        f"{reason!r:.60}; expected None to go on, or a string, the reason to stop (True "
        "also stops). Return e.g. 'target reached' to stop."
    )


def metrics(trainer: Any, output: Array | None, target: Array, sw: Array | None) -> dict:
    """The trainer's metrics of ``output`` against ``target`` (none for no output)."""
    if output is None or output.shape[0] == 0:
        return {}
    # one output column is split into classes at the midpoint of the training targets' two
    # values, else of the output's range (tanh with -1/+1 targets: 0), as AllCorrect splits
    # it: for the validation rows too (the fit's cut, Trainer._class_cut)
    cut = getattr(trainer, "_class_cut", None)
    if cut is None:
        cut = class_threshold(trainer.network.layers[-1].activation, target)
    with shared_inputs():  # (the target checked and labelled once for all the metrics)
        return {m.name: m(output, target, sw, threshold=cut) for m in trainer.metrics}


def validate(trainer: Any, val: Data | None) -> tuple[float | None, dict[str, float]]:
    """The validation loss and metrics of the epoch just run; (None, {}) without ``val``.
    The outputs they were computed from go to the run's ``TrainingState.val_output``.

    Raises
    ------
    ValidationDiverged
        When the validation loss or outputs are not finite (the loop undoes the epoch).
    """
    running = getattr(trainer, "_running", None)
    if running is not None:
        running.val_output = None
    if val is None:
        return None, {}
    net = trainer.network
    with _minibatch.keep_blas_asleep(trainer):
        if _sparse.is_sparse(val.X):  # in chunks of rows; error() reads the last cache
            last = _sparse.output_cache(net, val.X, most=INFER_CHUNK)
            output, caches = last.out, [last]
        else:
            output, caches = net.forward(val.X)
    loss = net.error(caches, val.y, val.sample_weight)
    if not math.isfinite(loss):
        raise ValidationDiverged(loss, f"the validation loss became {loss}")
    if not np.isfinite(output).all():  # (a clipped loss: finite, of non-finite outputs)
        cause = f"the validation outputs overflowed to infinity or NaN (val_loss {loss:.4g})"
        raise ValidationDiverged(loss, cause)
    if running is not None:  # (for the callbacks: TrainingState.val_output)
        running.val_output = output
    return loss, metrics(trainer, output, val.y, val.sample_weight)


def accuracy_scorer(trainer: Any, data: Data) -> Callable[[Array, Array], dict] | None:
    """For a run whose training metrics are accuracy alone (the default of classification)
    and unweighted: ``score(output, order)``, an epoch's :func:`metrics`, the same floats,
    from the targets' labels read once a run (:mod:`deltarule._chunk_metrics`; per epoch,
    :func:`deltarule.metrics.accuracy` checked and labelled the targets again: 55 of an
    epoch's 130 µs for iris at batch 16). None for other runs."""
    chosen = trainer.metrics
    if not chosen or data.sample_weight is not None or any(m.function is not accuracy
                                                           for m in chosen):  # fmt: skip
        return None
    cut = getattr(trainer, "_class_cut", None)
    if cut is None:
        cut = class_threshold(trainer.network.layers[-1].activation, data.y)
    classes = _chunk_metrics.target_classes(data.y, cut)

    def score(output: Array, order: Array) -> dict:
        if output.shape[0] == 0:
            return {}
        right = _chunk_metrics.accuracy_of_epochs(output[None], data.y, order[None], cut, classes)
        return dict.fromkeys((m.name for m in chosen), float(right[0]))

    return score


def record(
    trainer: Any,
    loss: float,
    output: Any,
    order: Array,
    data: Data,
    val: Data | None,
    lr: float,
    t0: float,
    gradient_norm: float,
    score: Callable[[Array, Array], dict] | None = None,
) -> EpochRecord:
    """The record of the epoch just run (numbered on from ``trainer.epochs_done``); raises
    :class:`ValidationDiverged` (counting no epoch) when its validation is not finite.
    ``score``: :func:`accuracy_scorer`'s, for the training metrics."""
    val_loss, val_metrics = validate(trainer, val)
    sw = None if data.sample_weight is None else data.sample_weight[order]
    if output is None:
        scores = {}
    elif score is not None:
        scores = score(output, order)
    else:
        scores = metrics(trainer, output, data.y[order], sw)
    trainer.epochs_done += 1
    return EpochRecord(
        epoch=trainer.epochs_done,
        loss=float(loss),
        val_loss=val_loss,
        metrics=scores,
        val_metrics=val_metrics,
        learning_rate=lr,
        gradient_norm=gradient_norm,
        seconds=time.perf_counter() - t0,
    )


def checked_rate(state: TrainingState, callback: Callback, hook: str, before: Any) -> None:
    """Check the learning rate ``callback``'s ``hook`` left in ``state`` when it changed it
    from ``before`` (:func:`~deltarule.callbacks.check_rate`: a finite number >= 0)."""
    if state.learning_rate is not before:
        who = f"{type(callback).__name__}.{hook}"
        refuse_rate(state.optimizer, f"the learning rate {who} sets")  # (iRprop, solvers)
        state.learning_rate = check_rate(state.learning_rate, who, state.epoch + 1)


def begin_epoch(state: TrainingState, cbs: Sequence[Callback]) -> None:
    """Tell every callback an epoch begins; check a learning rate one of them sets."""
    for cb in cbs:
        before = state.learning_rate
        cb.on_epoch_begin(state)
        checked_rate(state, cb, "on_epoch_begin", before)


def end_epoch(record: EpochRecord, state: TrainingState, cbs: Sequence[Callback]) -> str | None:
    """Append ``record`` to the history and tell every callback; the first stop reason.
    A learning rate a callback sets is checked (:func:`checked_rate`)."""
    state.history.append(record)
    state.epoch = record.epoch
    first = None
    for cb in cbs:
        before = state.learning_rate
        reason = stop_reason(cb, cb.on_epoch_end(record, state))
        checked_rate(state, cb, "on_epoch_end", before)
        first = first or reason
    return first


def resumed_stop(
    prior: History | None, state: TrainingState, cbs: Sequence[Callback]
) -> str | None:
    """Why a run resumed from a checkpoint whose history is ``prior`` had stopped at its last
    epoch (the first callback's :meth:`~deltarule.callbacks.Callback.resumed_stop` reason,
    in the order :func:`end_epoch` asks them), or None: none, or no resumed run."""
    last = prior.last if prior is not None else None
    if last is None:
        return None
    for cb in cbs:
        reason = stop_reason(cb, cb.resumed_stop(last, state), "resumed_stop")
        if reason:
            return reason
    return None


def refuse_idle_update(optimizer: Any, before: Array, after: Array) -> None:
    """Refuse a user's optimizer whose first epoch left every parameter as it was though the
    gradient was not zero: its ``update`` rebinds ``params`` (``params = params - step``)
    instead of writing into it, so training would run every epoch and learn nothing.
    The built-in rules update in place; a tiny rate of theirs may legitimately change
    nothing, so only a user's rule is checked."""
    module = type(optimizer).__module__
    if module.startswith("deltarule.") or not np.array_equal(before, after):
        return
    raise InputError(
        f"optimizer {getattr(optimizer, 'name', '')!r:.80} ({type(optimizer).__name__}) "
        "changed no parameter in a whole epoch although the gradient was not zero: its "
        "update must change params in place (params -= step, or np.subtract(params, step, "
        "out=params)); params = params - step only rebinds the local name, and the "
        "network's weights stay as they were."
    )


def run_epochs(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
    epoch: Callable[[Data, float, Interrupt], tuple[float, Any, Array, float]] | None = None,
) -> str:
    """The epoch loop; ``epoch`` runs one epoch (default :func:`deltarule._steps.run_epoch`)."""
    run = partial(run_epoch, trainer) if epoch is None else epoch
    net = trainer.network
    last_good = net.parameters.copy()
    last_state = OptimizerSnapshot(trainer.optimizer_state)
    best = BestStart(net, trainer.optimizer_state).resume(trainer)
    progress = EpochProgress(cbs, state)
    trainer._progress = progress if progress.cbs else None  # (read by the epoch's loops)
    score = accuracy_scorer(trainer, data)
    # Overflow is detected below (non-finite loss or weights) and reported with a hint.
    with Interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
        for done_here in range(epochs):
            begin_epoch(state, cbs)
            lr, t0 = state.learning_rate, time.perf_counter()
            np.copyto(last_good, net.parameters)
            last_state.take(trainer.optimizer_state)
            progress.start()
            loss, output, order, norm = run(data, lr, interrupt)
            finite = math.isfinite(loss) and finite_weights(net)
            cause = None
            if finite and output is not None and not np.isfinite(output).all():
                cause = f"the outputs overflowed to infinity or NaN (loss {loss:.4g})"
            if not finite or cause:  # (a clipped loss: finite, of non-finite outputs)
                # (weights finite when the epoch began: not a NaN the caller put there)
                overflowed = bool(np.isfinite(last_good).all()) and not finite_weights(net)
                np.copyto(net.parameters, last_good)
                last_state.put(trainer.optimizer_state)
                restored = best.restore_if_better(trainer, data)
                return diverged(loss, trainer.epochs_done + 1, lr, cause, restored, overflowed)
            if done_here == 0 and norm > 0:  # (once a fit)
                refuse_idle_update(trainer.optimizer, last_good, net.parameters)
            if interrupt.requested and len(order) < data.X.shape[0]:
                # A partial epoch gets no record (and so no checkpoint): the history
                # and any checkpoint end at the last complete epoch.
                return (
                    f"interrupted ({interrupt.signal}) during epoch {trainer.epochs_done + 1}, "
                    f"after {len(order)} of {data.X.shape[0]} examples"
                )
            try:
                done = record(trainer, loss, output, order, data, val, lr, t0, norm, score)
            except ValidationDiverged as exc:  # finite in training, not on the held-out rows
                np.copyto(net.parameters, last_good)
                last_state.put(trainer.optimizer_state)
                restored = best.restore_if_better(trainer, data)
                return diverged(loss, trainer.epochs_done + 1, lr, exc.cause, restored)
            best.offer(done.epoch, done.loss, last_good, last_state.saved)
            reason = end_epoch(done, state, cbs)
            if interrupt.requested:
                return f"interrupted ({interrupt.signal}) after epoch {done.epoch}"
            if reason:
                return reason
    return max_epochs(state)


def cut_short(done: int, signal: str = "Ctrl-C") -> str:
    """The stop reason of a run a second ``signal`` (Ctrl-C, or SIGTERM the command line
    relays) stopped at once, ``done`` epochs complete (it may have come during the next
    epoch or in the last one's callbacks, a checkpoint's save say: the count holds for both)."""
    return f"interrupted at once ({signal} twice) after {done} complete epoch{'s' * (done != 1)}"


def max_epochs(state: TrainingState) -> str:
    """The stop reason of a run that trained every epoch it was given."""
    return f"max epochs ({state.max_epochs}) reached"
