r"""The one training loop.

Each epoch runs the delta rule over the data in batches — forward pass, error,
backward pass, update :math:`\theta \leftarrow \theta - \eta\,\partial E/\partial\theta`
(or another optimizer's rule) — and produces one frozen
:class:`~deltarule.history.EpochRecord`. Everything else (printing, stopping
rules, schedules, checkpoints) is a :mod:`callback <deltarule.callbacks>`.

* ``batch_size=1``: online training, one example at a time (the tutorial's pseudocode);
* ``batch_size=B``: mini-batches; ``batch_size=None``: full batch;
* ``batch_size="auto"`` (the default): batches of 32, or every row for an optimizer that
  sizes its own steps (iRprop compares the loss of one step with the last).

Full-batch solvers (L-BFGS, Levenberg–Marquardt) drive their own iterations;
each iteration is reported as one epoch through the same callbacks.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
>>> y = np.array([[0], [1], [1], [0]], dtype=float)
>>> net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
>>> history = net.fit(X, y, epochs=2000, batch_size=None, optimizer="adam",
...                   learning_rate=0.05, target_error=0.01, seed=0, verbose=0)
>>> history.stop_reason.startswith("target error")
True
>>> bool((net.predict(X).round() == y).all())
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np

from . import _compiled, _epochs, _minibatch, _sparse, _steps
from ._checkpoint_state import checkpoint_state, restore_state
from ._fit_callbacks import option_callbacks
from ._fit_data import prepare
from ._fullbatch import dense_data, run_solver
from ._network_data import keyword_checked
from ._online import compiled_ok, run_compiled
from ._provenance import FitData, seed_record
from ._reports import (
    baseline_loss,
    impossible_rule,
    mean_fit,
    warn_diverged,
    warn_if_improving,
    warn_unmet_rules,
)
from ._reports import warn_interrupted as _warn_interrupted
from ._trainer_checks import (
    AUTO,
    DEFAULT_BATCH_SIZE,
    auto_batch_size,
    check_epoch_loss,
    check_solver_settings,
    check_verbose,
    is_auto_batch,
    one_fit_per_network,
    optimizer_for,
    progress_callback,
    refuse_rate,
    warn_if_steps_mix_batches,
    warn_if_weights_cancel,
)
from ._trainer_checks import callback_list as _callback_list  # (io.checkpoint imports it)
from ._typing import Array, ArrayLike, SeedLike, ValidationData
from ._validation import check_flag, check_fraction, check_int, check_positive
from .callbacks import (
    AllCorrect,
    Callback,
    EarlyStopping,
    GradientNormBelow,
    LearningRateScheduler,
    ProgressBar,
    ReduceLROnPlateau,
    TargetError,
    TrainingState,
    check_hooks,
)
from .exceptions import InputError
from .history import EpochRecord, History
from .initializers import make_rng
from .layers import DenseBuffers
from .losses import CLASSIFICATION_LOSSES
from .metrics import Metric, check_targets, class_threshold, get_metric, metric_list
from .network import Network
from .optimizers import Optimizer  # (loaded already, by the modules above: for the hints)
from .restarts import Restarts, fit_restarts  # noqa: F401  (re-exported)
from .schedules import Schedule
from .solvers import FullBatchSolver

__all__ = ["Trainer", "fit", "CLASSIFICATION_LOSSES"]


_TRAINER_FIT_ADVICE = {
    "initial_epoch": (
        "A Trainer numbers its epochs on from its last fit: call its fit again to continue."
    )
}
for _name in ("batch_size", "optimizer", "learning_rate", "shuffle", "seed", "l2", "l1",
              "max_norm", "metrics"):  # fmt: skip
    _TRAINER_FIT_ADVICE[_name] = f"{_name} is a Trainer's setting: Trainer(network, {_name}=...)."


_TRAINER_ADVICE = {
    name: f"{name} is fit's: Trainer(network, ...).fit(X, y, {name}=...)."
    for name in ("epochs", "schedule", "sample_weight", "class_weight", "validation_split",
                 "validation_data", "target_error", "early_stopping", "patience", "monitor",
                 "callbacks", "verbose", "time_limit")
}  # fmt: skip


def _columns(metrics: Sequence[Any], validation: bool) -> tuple[str, ...]:
    """The values a fit records each epoch: the loss and metrics, and the validation ones."""
    names = ("loss", *(metric.name for metric in metrics))
    return names + tuple(f"val_{name}" for name in names) if validation else names


def _check_shuffle(shuffle: Any) -> bool:
    """``shuffle`` as a bool; Keras's "batch" (shuffling within HDF5 chunks) and other
    values are an InputError rather than read as True."""
    if isinstance(shuffle, (bool, np.bool_)) or (isinstance(shuffle, int) and shuffle in (0, 1)):
        return bool(shuffle)
    raise InputError(
        f"shuffle must be True (reshuffle the examples each epoch) or False (keep their "
        f"order); received {shuffle!r:.60}."
        + (" Keras's 'batch' (shuffling within chunks of HDF5 data) has no counterpart here: "
           "pass True." if shuffle == "batch" else "")
    )  # fmt: skip


class Trainer:
    """Trains one network; keeps the optimizer state and random streams between calls.

    Parameters
    ----------
    network : Network
    optimizer : str or Optimizer or FullBatchSolver, default "adam"
        A first-order rule from :mod:`deltarule.optimizers`, or "lbfgs" / "lm".
    learning_rate : float, optional
        Base learning rate (the optimizer's default when None). Full-batch solvers
        ("lbfgs", "lm") and the Rprop rules ("irprop_plus", "irprop_minus", "rprop_plus",
        "rprop_minus") size their own steps and refuse one (and schedules); their first step
        size is their ``delta_zero``.
    batch_size : int, None or "auto", default "auto"
        1 for online training, None for full batch; "auto": 32, or every row (None) for an
        optimizer with its own step rule (the Rprop rules: "irprop_plus", "irprop_minus",
        "rprop_plus", "rprop_minus"), whose step sizes compare the gradients (and iRprop+ the
        losses) of successive steps, which only full batches
        make comparable (a smaller batch given with one is kept, and warned when a fit
        starts). Full-batch solvers use every example in each iteration: leave the default
        or pass None.
    shuffle : bool
        Reshuffle the examples each epoch (from ``seed``).
    seed : int, Generator or None
        Source of shuffling, dropout and the validation split.
    l2, l1 : float
        Penalties :math:`\\tfrac{\\lambda_2}{2}\\lVert W\\rVert^2 + \\lambda_1 \\lVert W\\rVert_1`
        on weights (not biases), added to each batch's error.
    max_norm : float, optional
        After each update, rescale every neuron's incoming weight vector to norm at most this.
    metrics : sequence of str, optional
        Reported each epoch; default ["accuracy"] for classification losses.
    epoch_loss : {"weighted", "rows"}, default "weighted"
        How an epoch's loss averages its batches' losses (each the weighted mean over its
        batch): weighted by each batch's total sample weight (the weighted mean over every
        example), or by its number of rows (scikit-learn's MLPs' figure). The two differ
        only with sample weights and several batches an epoch.
    """

    epoch_loss: str = "weighted"  # (what trainers pickled before the option was added use)
    _batch_given = True  # (likewise: batch_size was always given then)

    @keyword_checked(_TRAINER_ADVICE)
    def __init__(
        self,
        network: Network,
        optimizer: str | Optimizer | FullBatchSolver = "adam",
        learning_rate: float | None = None,
        batch_size: int | None | str = AUTO,
        shuffle: bool = True,
        seed: SeedLike = None,
        l2: float = 0.0,
        l1: float = 0.0,
        max_norm: float | None = None,
        metrics: str | Metric | Sequence[str | Metric] | None = None,
        *,
        epoch_loss: str = "weighted",
    ) -> None:
        if not isinstance(network, Network):
            raise InputError(f"expected a deltarule Network; received {type(network).__name__}.")
        check_epoch_loss(epoch_loss)
        self.epoch_loss = epoch_loss
        self.network = network
        self._batch_given = not is_auto_batch(batch_size)
        batch_size = DEFAULT_BATCH_SIZE if not self._batch_given else batch_size
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size")
        self.shuffle = _check_shuffle(shuffle)
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.l1 = check_positive(l1, "l1", allow_zero=True)
        self.max_norm = None if max_norm is None else check_positive(max_norm, "max_norm")
        if learning_rate is not None:
            check_positive(learning_rate, "learning_rate")
        self.optimizer, self.optimizer_state = optimizer_for(
            optimizer, learning_rate, self.batch_size, network.parameters
        )
        if not self._batch_given:  # "auto": every row for iRprop
            self.batch_size = auto_batch_size(self.optimizer)
        # The rate handed to the next update (schedules and plateau callbacks change it);
        # 0 for an optimizer that sizes its own steps (iRprop, the solvers: it refuses
        # one given, above), so the History and the hints never quote an ignored rate.
        own_steps = getattr(self.optimizer, "step_rule", None) is not None
        default = 0.0 if own_steps else float(getattr(self.optimizer, "learning_rate", 0.0) or 0.0)
        self.learning_rate = default if learning_rate is None else float(learning_rate)
        # What schedules scale, in every fit: the rate the trainer was built with (a later
        # fit continues the schedule rather than scaling the last fit's scaled rate).
        self.base_learning_rate = self.learning_rate
        classification = network.loss.name in CLASSIFICATION_LOSSES
        metrics = metric_list(metrics)
        names = list(metrics) if metrics is not None else (["accuracy"] if classification else [])
        self.metrics = [get_metric(m) for m in names]
        self.classification = classification
        rng = make_rng(seed)
        self._seed = seed_record(seed)  # (what a checkpoint records: a resumed run's is checked)
        self._shuffle_rng, self._dropout_rng, self._split_rng = rng.spawn(3)
        self.epochs_done = 0
        self.planned_epochs = 0  # epochs_done + the epochs the current fit asks for
        self._running: TrainingState | None = None  # the current fit's state, during a fit
        self._class_cut: float | None = None  # the fit's class threshold (_epochs.metrics)
        self._progress: Any = None  # the current fit's EpochProgress, if a callback wants it
        self._best_start: Any = None  # the current fit's _epochs.BestStart (for a checkpoint)
        self._resumed_best: tuple | None = None  # a restored checkpoint's, for the next fit
        # a restored checkpoint's states of the callbacks its fit made of its options, which
        # the next fit restores into those it makes (raising when they are not the run's)
        self._resumed_options: Callable[[list[Callback]], None] | None = None
        # a restored checkpoint's history: the next fit's end-of-run checks read the whole run
        self._resumed_history: History | None = None
        # a restored checkpoint's check of the next fit's data (raising when it is not the
        # run's), and the current fit's data, fingerprinted when a checkpoint records it
        self._resumed_data: Callable[[FitData], None] | None = None
        self._fit_data: FitData | None = None
        self._grad = network.layout.allocate(network.dtype)
        self._grad_sum = network.layout.allocate(network.dtype)
        self._grad_tmp = network.layout.allocate(network.dtype)
        self._weight_mask = network.weight_mask.astype(network.dtype)
        self._layer_buffers: list[DenseBuffers] | None = None
        self._buffers: tuple[Array, Array] | None = None
        self._minibatch: _minibatch.MinibatchKernel | None = None

    # -------------------------------------------------------------- checkpoints
    def checkpoint_state(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """Return what resuming needs: optimizer state tensors and plain JSON-able data.

        Returns
        -------
        tensors : dict of str to ndarray
            ``optimizer.<name>`` for each array of the optimizer state; during a fit also
            ``best_start.params`` and ``best_start.optimizer.<name>``, the start of the
            lowest-loss epoch so far (what a diverged run falls back to).
        meta : dict
            Optimizer config and scalar state, epochs done, learning rate, the
            random streams' states and the trainer's settings.

        During a fit (a checkpoint callback) the learning rate is the one the next epoch
        will use, as the callbacks have set it so far (a plateau's reduced rate, say).
        """
        return checkpoint_state(self)

    def restore_state(self, tensors: dict[str, Array], meta: dict[str, Any]) -> Trainer:
        """Resume from :meth:`checkpoint_state` output (same network layout); returns self."""
        restore_state(self, tensors, meta)
        return self

    # The steps, epochs and data of a fit live in _steps, _epochs and _fit_data; the other
    # paths (_fullbatch, _online) and tests call these on the trainer.
    _penalty = _steps.penalty
    _metrics = _epochs.metrics
    _record = _epochs.record
    end_epoch = staticmethod(_epochs.end_epoch)
    _run_epochs = _epochs.run_epochs
    _prepare = prepare

    # --------------------------------------------------------------------- fit
    @keyword_checked(_TRAINER_FIT_ADVICE)
    @one_fit_per_network
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,  # (None: an error saying why)
        *,
        epochs: int = 200,
        sample_weight: ArrayLike | None = None,
        class_weight: Any = None,
        validation_split: float = 0.0,
        validation_data: ValidationData | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        warn_convergence: bool = True,
        warn_divergence: bool = True,
        report_every: int | None = None,
        warn_interrupted: bool = True,
        schedule: str | Schedule | None = None,
        target_error: float | None = None,
        stop_when_all_correct: bool = False,
        min_gradient_norm: float | None = None,
        early_stopping: bool = False,
        patience: int = 10,
        monitor: str | None = None,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
        time_limit: float | None = None,
    ) -> History:
        """Train for up to ``epochs`` epochs; returns the :class:`History` of this call.

        Stops early when a callback says so; the reason is ``history.stop_reason``.
        ``schedule`` and the stopping rules (``target_error``, ``stop_when_all_correct``,
        ``min_gradient_norm``, ``early_stopping`` with ``patience``, ``monitor``,
        ``min_delta``, ``restore_best_weights``, and ``time_limit``) are
        :func:`deltarule.training.fit`'s, for this call: a second call continues the run
        (epochs numbered on, a schedule reading them) with new stopping rules, as Keras's
        callbacks are given anew to each ``model.fit``.
        ``warn_convergence``: warn (:class:`~deltarule.exceptions.ConvergenceWarning`)
        when the epoch limit stops a run whose loss was still falling, or else one whose
        stopping rule (a target error, all examples correct, a gradient norm) was not met;
        ``warn_divergence``: warn when training diverges (either way the stop reason says
        so); ``warn_interrupted``: warn when Ctrl-C stopped the run (unless a printing
        progress bar said so already). Turning one off installs no warning filter, so it
        is safe in threads.
        ``report_every``: the progress lines print every that many epochs (and the first
        and the last; by default every epoch up to 1,000, at most ~1,000 lines beyond); a
        :class:`~deltarule.callbacks.ProgressBar` among ``callbacks``
        replaces the fit's own (``verbose`` and ``report_every`` are then its settings, not
        the fit's).
        Ctrl-C stops cleanly after the current batch (compiled steps: after the current run
        of steps, about :data:`~deltarule._steps.COMPILED_RUN_SECONDS`).
        A trainer resumed from a checkpoint (:func:`deltarule.io.checkpoint.resume_trainer`)
        first asks each callback whether the run had stopped at the checkpoint's last epoch
        (:meth:`~deltarule.callbacks.Callback.resumed_stop`), and ends there if one says so;
        it takes ``epochs=0`` to end a run whose epochs were all done, as the run ended.

        An epoch whose loss, weights or outputs become non-finite (divergence) is undone:
        the weights and the optimizer state (momentum, Adam's moments, the step count) go
        back to the end of the last finite epoch, so a later fit, say with a lower learning
        rate, continues from there. When those weights' loss is itself not finite or above
        the lowest the run recorded (a run that grew epoch after epoch), the weights that
        lowest loss was measured on (the start of its epoch) and their optimizer state are
        put back instead, and the stop reason says so with both losses. (The full-batch
        solvers keep no state between fits; their weights go back to the last finite
        iteration's.)
        """
        # (a resumed run whose epochs are all done: 0 ends it as it ended, see below)
        if epochs == 0 and self._resumed_history is None and not isinstance(epochs, bool):
            raise InputError(
                "epochs must be >= 1; received 0 (0 only ends a run resumed by resume_trainer "
                "whose epochs were all done, and this trainer holds none). Pass epochs=1 or more."
            )
        epochs = check_int(epochs, "epochs", minimum=0 if self._resumed_history is not None else 1)
        verbose = check_verbose(verbose)
        validation_split = check_fraction(validation_split, "validation_split")
        warn_convergence = check_flag(warn_convergence, "warn_convergence")
        warn_divergence = check_flag(warn_divergence, "warn_divergence")
        warn_interrupted = check_flag(warn_interrupted, "warn_interrupted")
        stops = option_callbacks(
            self,
            bool(validation_split) or validation_data is not None,
            epochs=epochs,
            schedule=schedule,
            target_error=target_error,
            stop_when_all_correct=stop_when_all_correct,
            min_gradient_norm=min_gradient_norm,
            early_stopping=early_stopping,
            patience=patience,
            monitor=monitor,
            min_delta=min_delta,
            restore_best_weights=restore_best_weights,
            time_limit=time_limit,
        )
        if self._resumed_options is not None:  # (kept until a run starts: see below)
            self._resumed_options(stops)
        prior = self._resumed_history
        user_cbs = [*stops, *_callback_list(callbacks)]
        progress = progress_callback(user_cbs, verbose, report_every)
        check_solver_settings(self)
        self.planned_epochs = self.epochs_done + epochs
        data, val = prepare(
            self, X, y, sample_weight, class_weight, validation_split, validation_data
        )
        fit_data = FitData(data, val, validation_split, self._seed)
        if self._resumed_data is not None:  # (a resumed run: refused on other data)
            self._resumed_data(fit_data)
        if isinstance(self.optimizer, FullBatchSolver):  # every row at once (lm: X dense)
            data = dense_data(data, self.optimizer.name)
        check_targets(self.metrics, data.y, self.classification)  # metrics that can score y
        # one output column splits into classes where the training targets say, for the
        # validation rows too (their own targets may hold one class: another cut)
        self._class_cut = class_threshold(self.network.layers[-1].activation, data.y)
        warn_if_weights_cancel(self.batch_size, data.sample_weight)
        warn_if_steps_mix_batches(self, data.X.shape[0])
        state = TrainingState(
            self.network,
            self.optimizer,
            self.optimizer_state,
            self.learning_rate,
            self.base_learning_rate,
            self.epochs_done + epochs,
            data.X,
            data.y,
            data.sample_weight,
            None if val is None else val.X,
            None if val is None else val.y,
            self.epochs_done,
            History(columns=_columns(self.metrics, val is not None)),
            trainer=self,
        )
        state.history.params = _keras_params(self, verbose, state.max_epochs, data.X.shape[0])
        cbs = [*user_cbs, *progress]
        check_hooks(cbs)
        changer = next(
            (cb for cb in cbs if isinstance(cb, (LearningRateScheduler, ReduceLROnPlateau))), None
        )
        if changer is not None:
            refuse_rate(self.optimizer, f"the learning rate {type(changer).__name__} sets")
        state.callbacks = cbs
        # (taken: the run starts)
        self._resumed_options = self._resumed_history = self._resumed_data = None
        for cb in cbs:
            before = state.learning_rate
            cb.on_train_begin(state)
            _epochs.checked_rate(state, cb, "on_train_begin", before)
        if isinstance(self.optimizer, FullBatchSolver):
            run = partial(run_solver, self)
        elif not _sparse.is_sparse(data.X) and compiled_ok(self, data, val, cbs):
            run = partial(run_compiled, self)
        else:
            run = self._run_epochs
        self._running, self._fit_data = state, fit_data
        try:
            # a resumed run that had ended at its checkpoint's last epoch ends there again
            reason = _epochs.resumed_stop(prior, state, cbs)
            if reason is None:
                with _short_run(self, data):
                    reason = (
                        run(data, val, state, cbs, epochs) if epochs else _epochs.max_epochs(state)
                    )
        except BaseException as error:
            state.history.stop_reason = (  # (a second Ctrl-C stops at once)
                _epochs.cut_short(
                    self.epochs_done, "SIGTERM" if str(error) == "SIGTERM" else "Ctrl-C"
                )
                if isinstance(error, KeyboardInterrupt)
                else "stopped by an error"
            )
            for cb in cbs:
                cb.on_train_end(state.history, state)
            raise
        finally:
            # batch-sized: not kept between fits
            self._layer_buffers = self._buffers = self._minibatch = None
            self._running = self._progress = self._best_start = self._resumed_best = None
            self._fit_data = None  # (the rows are not kept past the fit)
        self.learning_rate = state.learning_rate
        state.history.stop_reason = reason
        for cb in cbs:
            cb.on_train_end(state.history, state)
        if warn_convergence and reason.startswith("max epochs"):
            # (a resumed run's checks read its whole history, as the uninterrupted run's do)
            whole = state.history if prior is None else state.history.following(prior)
            # a stopping rule of the run's own: "add a stopping rule" is no advice then
            rules = (EarlyStopping, TargetError, AllCorrect, GradientNormBelow)
            watched = any(isinstance(cb, rules) for cb in cbs)
            baseline = baseline_loss(self.network, state.y, state.sample_weight)
            penalised = self.l1 or self.l2  # (the loss then holds the penalty: no mean's)
            fit = None if penalised else mean_fit(self.network, state.y, state.sample_weight)
            lr = state.learning_rate
            twins = impossible_rule(state, cbs)
            classes = self.network.loss.name in CLASSIFICATION_LOSSES
            reference = baseline if classes else (fit[0] if fit else None)
            if twins or not warn_if_improving(
                whole, lr, early_stopping=watched, baseline=baseline, fit=fit,
                negligible=reference,
            ):  # fmt: skip
                warn_unmet_rules(whole, state, cbs, twins)  # (not a second warning)
        if warn_divergence:
            warn_diverged(reason)
        if warn_interrupted and not any(isinstance(cb, ProgressBar) and cb.verbose for cb in cbs):
            _warn_interrupted(reason, state.history, state.max_epochs)
        return state.history

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> EpochRecord:
        """One pass over the given data, continuing the optimizer state; returns its record."""
        if isinstance(self.optimizer, FullBatchSolver):
            raise InputError(
                f"partial_fit makes one pass of a first-order optimizer over the data; "
                f"optimizer {self.optimizer.name!r} runs whole solves. Use fit, or a "
                "first-order optimizer (sgd, momentum, adam, ...) for incremental training."
            )
        history = self.fit(
            X, y, epochs=1, sample_weight=sample_weight, verbose=0, warn_convergence=False
        )
        if not history.records:
            raise InputError(f"partial_fit made no update: {history.stop_reason}")
        return history.records[-1]


def _keras_params(trainer: Trainer, verbose: int, epochs: int, n_rows: int) -> dict[str, int]:
    """Keras's ``History.params`` of a fit: its ``verbose``, ``epochs`` (the last epoch's
    number: a continued run's counts the epochs before it, as Keras's with initial_epoch)
    and ``steps``, the updates an epoch makes (its batches; 1 with every row at once)."""
    size = trainer.batch_size
    full = isinstance(trainer.optimizer, FullBatchSolver) or size is None
    steps = 1 if full else -(-n_rows // max(1, min(size, n_rows)))
    return {"verbose": int(verbose), "epochs": int(epochs), "steps": max(steps, 1)}


@contextlib.contextmanager
def _short_run(trainer: Trainer, data: Any) -> Iterator[None]:
    """Within it, :data:`deltarule._compiled.SHORT_RUN` says whether ``trainer``'s run
    plans fewer steps than :data:`deltarule._minibatch.MIN_STEPS` (a full-batch solver: its
    iterations), too few to repay numba's import for kernels that only save time."""
    n = data.X.shape[0]
    if isinstance(trainer.optimizer, FullBatchSolver) or trainer.batch_size is None:
        steps = trainer.planned_epochs
    else:
        steps = _minibatch.planned_steps(trainer, n, max(1, min(trainer.batch_size, n)))
    token = _compiled.SHORT_RUN.set(steps < _minibatch.MIN_STEPS)
    try:
        yield
    finally:
        _compiled.SHORT_RUN.reset(token)


def fit(
    network: Network,
    X: ArrayLike,
    y: ArrayLike | None = None,  # (None: an error saying why)
    *,
    epochs: int = 200,
    batch_size: int | None | str = AUTO,
    optimizer: str | Optimizer | FullBatchSolver = "adam",
    learning_rate: float | None = None,
    schedule: str | Schedule | None = None,
    shuffle: bool = True,
    seed: SeedLike = None,
    sample_weight: ArrayLike | None = None,
    class_weight: Any = None,
    validation_split: float = 0.0,
    validation_data: ValidationData | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    metrics: str | Metric | Sequence[str | Metric] | None = None,
    target_error: float | None = None,
    stop_when_all_correct: bool = False,
    min_gradient_norm: float | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    monitor: str | None = None,
    min_delta: float = 0.0,
    restore_best_weights: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    report_every: int | None = None,
    warn_convergence: bool = True,
) -> History:
    """Train ``network`` in place by backpropagation; returns its :class:`History`.

    Each call trains with a new :class:`Trainer`: the optimizer's state (momentum, Adam's
    moments), the schedule, the shuffling stream and the epoch numbering start afresh, as in
    scikit-learn's ``fit`` (Keras's ``model.fit`` continues the optimizer's state instead).
    To continue a run, keep a ``Trainer(network, ...)`` and call its ``fit`` again: its
    second call continues the first exactly (epochs numbered on). (Exactly: the state
    carries over whole. Two calls of 33 epochs equal one of 66 to the last bit where both
    take the same path; a small network whose first call plans fewer than
    :data:`~deltarule._minibatch.MIN_STEPS` steps trains it on the NumPy step, a longer
    call on the compiled kernel, which agree within float rounding: the README's
    Deterministic guarantee.)

    Parameters
    ----------
    network : Network
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        A sparse ``X`` (any scipy.sparse format) stays sparse (CSR) and takes the plain
        step (the compiled kernels take dense arrays): a wide, sparse ``X`` goes through
        the first layer by sparse products (:mod:`deltarule._sparse`: the weights of a
        dense ``X`` within float rounding), a narrow or dense one is made dense a batch at
        a time (the same weights). "lbfgs" computes on CSR too where that is faster or a
        dense ``X`` would not fit; "lm" makes ``X`` dense
        whole, refusing (:class:`~deltarule.exceptions.InputError`) when it would take
        more than half the memory available. Callbacks see ``TrainingState.X`` as the
        fit trains on it (CSR, or the dense one with "lm").
    y : array-like of shape (n_samples, n_outputs), default None
        Required: None (Keras's default, for a ``X`` of batches) is refused, saying how
        to train on batches.
    epochs : int, default 200
        Maximum number of passes over the data.
    batch_size : int, None or "auto", default "auto"
        1 = online (one example at a time), None = full batch (what "lbfgs" and "lm"
        always use: leave the default or pass None with them). "auto" (the default) is 32,
        or every row for an optimizer that sizes its own steps (the Rprop rules):
        they compare each step's gradient signs (iRprop+ its loss) with the last's,
        which only full batches make comparable (a smaller batch given with it is kept, with
        a warning; 200 rows, 300 epochs: loss 0.19 in batches of 32, 0.0065 full-batch).
    optimizer, learning_rate, shuffle, seed, l2, l1, max_norm, metrics
        See :class:`Trainer`; their defaults: ``optimizer="adam"``, ``learning_rate=None``
        (the optimizer's own), ``shuffle=True``, ``seed=None`` (for a network made with a
        seed, a seed drawn from a stream of that seed's, so that the program trains alike
        on every run, each fit its own; for an unseeded one, fresh entropy),
        ``l2=0.0``, ``l1=0.0``, ``max_norm=None``, ``metrics=None`` (accuracy for a
        classification loss, none otherwise).
    schedule : str or Schedule, optional
        Learning-rate schedule (:mod:`deltarule.schedules`), applied per epoch
        (optimizers with a learning rate only: the full-batch solvers and iRprop have none).
        ``"cosine"`` by name decays over the run to this fit's last epoch
        (``total_epochs=epochs`` for a fresh run; a continued or resumed run's epochs
        done before count too, so a resumed one follows the uninterrupted rates); other
        settings need the object (``CosineDecay(total_epochs=50, warmup_epochs=5)``). A
        function of the epoch goes in ``callbacks=[LearningRateScheduler(fn)]``.
        A plateau schedule restarts its counters at each fit, from the rate the fit starts
        with.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights: each batch's error is the weighted mean of its examples'
        errors (as scikit-learn's MLP weighs them; Keras divides the weighted sum by the
        batch's size instead). So weights act within a batch: with ``batch_size=1`` they
        change nothing but rounding (warned), nor does scaling every weight by one factor
        (a power of two not even that).
        A batch whose examples all have weight 0 makes no update.
    class_weight : dict or "balanced", optional
        Weights by class index (column of the one-hot target), of the training examples
        only (as in Keras): the validation loss and metrics are not class-weighted.
        "balanced" counts the classes over every row given, held-out rows included.
    validation_split : float, default 0.0
        Fraction held out for validation: rows drawn at random from ``seed`` (stratified
        for classification), whatever ``shuffle`` says — not the last rows as in Keras
        (for time series, pass the last rows as ``validation_data``). The held-out
        rows keep their ``sample_weight`` in the validation loss and metrics (as
        scikit-learn's early stopping scores them).
    validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        ``X_val`` may be sparse too (scored a chunk of rows at a time).
    target_error : float, optional
        Stop when the training error is at most this (the tutorial's rule).
    stop_when_all_correct : bool, default False
        Stop when every training example is classified correctly. Needs class targets (a
        classification loss, or one-hot / 0-1 targets); regression targets raise
        :class:`~deltarule.exceptions.InputError` (stop with ``target_error`` or
        ``early_stopping`` instead).
    min_gradient_norm : float, optional
        Stop when the Euclidean (L2) norm of the epoch's mean gradient (each batch's
        gradient of its mean error, penalties included, averaged over the epoch's batches)
        is below this. This is not R neuralnet's ``threshold``, which tests the largest
        absolute component of the gradient of the error *summed* over the rows (n_samples
        times the mean error's gradient); for that, pass
        ``callbacks=[GradientNormBelow(threshold, rule="neuralnet")]``.
    early_stopping : bool, default False
        Stop when ``monitor`` (val_loss if there is validation, else loss) has not improved
        by ``min_delta`` for ``patience`` epochs; restores the best weights (unless
        ``restore_best_weights=False``).
    patience, min_delta, restore_best_weights
        Early stopping's settings (:class:`~deltarule.callbacks.EarlyStopping`), defaults
        ``patience=10``, ``min_delta=0.0``, ``restore_best_weights=True``; given
        without ``early_stopping=True`` they raise :class:`~deltarule.exceptions.InputError`
        (they would do nothing).
    monitor : str, optional
        The recorded value early stopping and a plateau ``schedule`` watch (e.g.
        "val_accuracy"). Default: val_loss with validation data, else loss; for a plateau
        schedule of mode "max", the accuracy. A plateau given by name ("plateau") takes its
        mode from ``monitor``; a :class:`~deltarule.schedules.ReduceOnPlateau` whose mode
        contradicts it is an error.
    time_limit : float, optional
        Seconds of wall-clock time.
    callbacks : sequence of Callback, or one Callback, default ()
    verbose : int, default 1
        0 silent, 1 progress bar (plain lines when not a terminal), 2 plain lines.
    report_every : int, optional
        Print the plain progress lines every that many epochs (and the first and the
        last); default every epoch of a run of up to 1,000 epochs, at most ~1,000 lines of
        a longer one (:attr:`ProgressBar.LINES <deltarule.callbacks.ProgressBar.LINES>`). A
        :class:`~deltarule.callbacks.ProgressBar` given in
        ``callbacks`` replaces the fit's own (no line printed twice); it then sets how often.
    warn_convergence : bool, default True
        Warn (:class:`~deltarule.exceptions.ConvergenceWarning`) when the epoch limit ends
        a run whose loss was still falling, or else one whose stopping rule
        (``target_error``, ``stop_when_all_correct``, ``min_gradient_norm``) was not met.

    Returns
    -------
    History
    """
    if seed is None:  # (a seeded network's own stream: the same on every run)
        stream = getattr(network, "_fit_stream", None)
        seed = None if stream is None else stream.spawn(1)[0]
    trainer = Trainer(
        network, optimizer, learning_rate, batch_size, shuffle, seed, l2, l1, max_norm, metrics
    )
    return trainer.fit(
        X,
        y,
        epochs=epochs,
        sample_weight=sample_weight,
        class_weight=class_weight,
        validation_split=validation_split,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=verbose,
        report_every=report_every,
        warn_convergence=warn_convergence,
        schedule=schedule,
        target_error=target_error,
        stop_when_all_correct=stop_when_all_correct,
        min_gradient_norm=min_gradient_norm,
        early_stopping=early_stopping,
        patience=patience,
        monitor=monitor,
        min_delta=min_delta,
        restore_best_weights=restore_best_weights,
        time_limit=time_limit,
    )
