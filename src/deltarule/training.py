r"""The one training loop.

Each epoch runs the delta rule over the data in batches — forward pass, error,
backward pass, update :math:`\theta \leftarrow \theta - \eta\,\partial E/\partial\theta`
(or another optimizer's rule) — and produces one frozen
:class:`~deltarule.history.EpochRecord`. Everything else (printing, stopping
rules, schedules, checkpoints) is a :mod:`callback <deltarule.callbacks>`.

* ``batch_size=1``: online training, one example at a time (the tutorial's pseudocode);
* ``batch_size=B``: mini-batches; ``batch_size=None``: full batch.

Full-batch solvers (L-BFGS, Levenberg–Marquardt) drive their own iterations;
each iteration is reported as one epoch through the same callbacks.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
>>> y = np.array([[0], [1], [1], [0]], dtype=float)
>>> net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
>>> history = net.fit(X, y, epochs=2000, batch_size=None, optimizer="adam",
...                   learning_rate=0.05, seed=0, verbose=0)
>>> bool((net.predict(X).round() == y).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from . import _epochs, _minibatch, _sparse, _steps
from ._checkpoint_state import checkpoint_state, restore_state
from ._fit_callbacks import option_callbacks
from ._fit_data import prepare
from ._fullbatch import dense_data, run_solver
from ._online import compiled_ok, run_compiled
from ._reports import warn_diverged, warn_if_improving
from ._trainer_checks import callback_list as _callback_list  # (io.checkpoint imports it)
from ._trainer_checks import (
    check_epoch_loss,
    check_solver_settings,
    check_verbose,
    one_fit_per_network,
    optimizer_for,
    refuse_rate,
    warn_if_weights_cancel,
)
from ._typing import Array, ArrayLike, SeedLike
from ._validation import check_int, check_positive
from .callbacks import (
    Callback,
    EarlyStopping,
    LearningRateScheduler,
    ProgressBar,
    ReduceLROnPlateau,
    TrainingState,
    check_hooks,
)
from .exceptions import InputError
from .history import EpochRecord, History
from .initializers import make_rng
from .layers import DenseBuffers
from .losses import CLASSIFICATION_LOSSES
from .metrics import check_targets, get_metric
from .network import Network
from .solvers import FullBatchSolver

__all__ = ["Trainer", "fit", "CLASSIFICATION_LOSSES"]


class Trainer:
    """Trains one network; keeps the optimizer state and random streams between calls.

    Parameters
    ----------
    network : Network
    optimizer : str or Optimizer or FullBatchSolver, default "adam"
        A first-order rule from :mod:`deltarule.optimizers`, or "lbfgs" / "lm".
    learning_rate : float, optional
        Base learning rate (the optimizer's default when None). Full-batch solvers
        ("lbfgs", "lm") and iRprop ("irprop_plus", "irprop_minus") size their own steps and
        refuse one (and schedules); iRprop's first step size is its ``delta_zero``.
    batch_size : int or None, default 32
        1 for online training, None for full batch. Full-batch solvers use every
        example in each iteration: leave the default or pass None.
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

    def __init__(
        self,
        network: Network,
        optimizer: Any = "adam",
        learning_rate: float | None = None,
        batch_size: int | None = 32,
        shuffle: bool = True,
        seed: SeedLike = None,
        l2: float = 0.0,
        l1: float = 0.0,
        max_norm: float | None = None,
        metrics: Sequence[str] | None = None,
        *,
        epoch_loss: str = "weighted",
    ) -> None:
        if not isinstance(network, Network):
            raise InputError(f"expected a deltarule Network; received {type(network).__name__}.")
        check_epoch_loss(epoch_loss)
        self.epoch_loss = epoch_loss
        self.network = network
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.l1 = check_positive(l1, "l1", allow_zero=True)
        self.max_norm = None if max_norm is None else check_positive(max_norm, "max_norm")
        if learning_rate is not None:
            check_positive(learning_rate, "learning_rate")
        self.optimizer, self.optimizer_state = optimizer_for(
            optimizer, learning_rate, self.batch_size, network.parameters
        )
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
        if isinstance(metrics, str):  # one name, not its letters
            metrics = [metrics]
        names = list(metrics) if metrics is not None else (["accuracy"] if classification else [])
        self.metrics = [get_metric(m) for m in names]
        self.classification = classification
        rng = make_rng(seed)
        self._shuffle_rng, self._dropout_rng, self._split_rng = rng.spawn(3)
        self.epochs_done = 0
        self.planned_epochs = 0  # epochs_done + the epochs the current fit asks for
        self._running: TrainingState | None = None  # the current fit's state, during a fit
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
            ``optimizer.<name>`` for each array of the optimizer state.
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
    @one_fit_per_network
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        epochs: int = 200,
        sample_weight: ArrayLike | None = None,
        class_weight: Any = None,
        validation_split: float = 0.0,
        validation_data: tuple | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        warn_convergence: bool = True,
        warn_divergence: bool = True,
    ) -> History:
        """Train for up to ``epochs`` epochs; returns the :class:`History` of this call.

        Stops early when a callback says so; the reason is ``history.stop_reason``.
        ``warn_convergence``: warn (:class:`~deltarule.exceptions.ConvergenceWarning`)
        when the epoch limit stops a run whose loss was still falling;
        ``warn_divergence``: warn when training diverges (either way the stop reason says
        so). Turning one off installs no warning filter, so it is safe in threads.
        Ctrl-C stops cleanly after the current batch (compiled steps: after the current run
        of steps, about :data:`~deltarule._steps.COMPILED_RUN_SECONDS`).

        An epoch whose loss, weights or outputs become non-finite (divergence) is undone:
        the weights and the optimizer state (momentum, Adam's moments, the step count) go
        back to the end of the last finite epoch, so a later fit, say with a lower learning
        rate, continues from there. (The full-batch solvers keep no state between fits;
        their weights go back alike.)
        """
        epochs = check_int(epochs, "epochs")
        verbose = check_verbose(verbose)
        check_solver_settings(self)
        self.planned_epochs = self.epochs_done + epochs
        data, val = prepare(
            self, X, y, sample_weight, class_weight, validation_split, validation_data
        )
        if isinstance(self.optimizer, FullBatchSolver):  # every row at once: sparse X dense
            data = dense_data(data, self.optimizer.name)
        check_targets(self.metrics, data.y, self.classification)  # metrics that can score y
        warn_if_weights_cancel(self.batch_size, data.sample_weight)
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
            trainer=self,
        )
        cbs = [*_callback_list(callbacks), ProgressBar(verbose)]
        check_hooks(cbs)
        changer = next(
            (cb for cb in cbs if isinstance(cb, (LearningRateScheduler, ReduceLROnPlateau))), None
        )
        if changer is not None:
            refuse_rate(self.optimizer, f"the learning rate {type(changer).__name__} sets")
        state.callbacks = cbs
        for cb in cbs:
            cb.on_train_begin(state)
        if isinstance(self.optimizer, FullBatchSolver):
            run = partial(run_solver, self)
        elif not _sparse.is_sparse(data.X) and compiled_ok(self, data, val, cbs):
            run = partial(run_compiled, self)
        else:
            run = self._run_epochs
        self._running = state
        try:
            reason = run(data, val, state, cbs, epochs)
        except BaseException:
            state.history.stop_reason = "stopped by an error"
            for cb in cbs:
                cb.on_train_end(state.history, state)
            raise
        finally:
            # batch-sized: not kept between fits
            self._layer_buffers = self._buffers = self._minibatch = None
            self._running = None
        self.learning_rate = state.learning_rate
        state.history.stop_reason = reason
        for cb in cbs:
            cb.on_train_end(state.history, state)
        if warn_convergence and reason.startswith("max epochs"):
            watched = any(isinstance(cb, EarlyStopping) for cb in cbs)
            warn_if_improving(state.history, state.learning_rate, early_stopping=watched)
        if warn_divergence:
            warn_diverged(reason)
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


def fit(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    *,
    epochs: int = 200,
    batch_size: int | None = 32,
    optimizer: Any = "adam",
    learning_rate: float | None = None,
    schedule: Any = None,
    shuffle: bool = True,
    seed: SeedLike = None,
    sample_weight: ArrayLike | None = None,
    class_weight: Any = None,
    validation_split: float = 0.0,
    validation_data: tuple | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    metrics: Sequence[str] | None = None,
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
) -> History:
    """Train ``network`` in place by backpropagation; returns its :class:`History`.

    Each call trains with a new :class:`Trainer`: the optimizer's state (momentum, Adam's
    moments), the schedule, the shuffling stream and the epoch numbering start afresh, as in
    scikit-learn's ``fit`` (Keras's ``model.fit`` continues the optimizer's state instead).
    To continue a run, keep a ``Trainer(network, ...)`` and call its ``fit`` again: its
    second call continues the first exactly (epochs numbered on).

    Parameters
    ----------
    network : Network
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        A sparse ``X`` (any scipy.sparse format) stays sparse (CSR): each batch is made
        dense as it is trained on, in the plain step (the compiled kernels take dense
        arrays), with the weights a dense ``X`` gives; "lbfgs" and "lm" make it dense
        whole, refusing (:class:`~deltarule.exceptions.InputError`) when it would take
        more than half the memory available. Callbacks see the CSR matrix as
        ``TrainingState.X`` (the dense one with "lbfgs" and "lm").
    y : array-like of shape (n_samples, n_outputs)
    epochs : int
        Maximum number of passes over the data.
    batch_size : int or None
        1 = online (one example at a time), None = full batch (what "lbfgs" and "lm"
        always use: leave the default or pass None with them).
    optimizer, learning_rate, shuffle, seed, l2, l1, max_norm, metrics
        See :class:`Trainer`.
    schedule : str or Schedule, optional
        Learning-rate schedule (:mod:`deltarule.schedules`), applied per epoch
        (optimizers with a learning rate only: the full-batch solvers and iRprop have none).
        A plateau schedule restarts its counters at each fit, from the rate the fit starts
        with.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights: each batch's error is the weighted mean of its examples'
        errors (as scikit-learn's MLP weighs them; Keras divides the weighted sum by the
        batch's size instead). So weights act within a batch: with ``batch_size=1`` they
        change nothing (warned), and scaling every weight by one factor changes nothing.
        A batch whose examples all have weight 0 makes no update.
    class_weight : dict or "balanced", optional
        Weights by class index (column of the one-hot target), of the training examples
        only (as in Keras): the validation loss and metrics are not class-weighted.
        "balanced" counts the classes over every row given, held-out rows included.
    validation_split : float
        Fraction held out for validation: rows drawn at random from ``seed`` (stratified
        for classification), whatever ``shuffle`` says — not the last rows as in Keras
        (for time series, pass the last rows as ``validation_data``). The held-out
        rows keep their ``sample_weight`` in the validation loss and metrics (as
        scikit-learn's early stopping scores them).
    validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        ``X_val`` may be sparse too (scored a chunk of dense rows at a time).
    target_error : float, optional
        Stop when the training error is at most this (the tutorial's rule).
    stop_when_all_correct : bool
        Stop when every training example is classified correctly. Needs class targets (a
        classification loss, or one-hot / 0-1 targets); regression targets raise
        :class:`~deltarule.exceptions.InputError` (stop with ``target_error`` or
        ``early_stopping`` instead).
    min_gradient_norm : float, optional
        Stop when the epoch's gradient norm is below this (R neuralnet's ``threshold``).
    early_stopping : bool
        Stop when ``monitor`` (val_loss if there is validation, else loss) has not improved
        by ``min_delta`` for ``patience`` epochs; restores the best weights (unless
        ``restore_best_weights=False``).
    patience, min_delta, restore_best_weights
        Early stopping's settings (:class:`~deltarule.callbacks.EarlyStopping`); given
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
    callbacks : sequence of Callback, or one Callback
    verbose : int
        0 silent, 1 progress bar (plain lines when not a terminal), 2 plain lines.

    Returns
    -------
    History
    """
    trainer = Trainer(
        network, optimizer, learning_rate, batch_size, shuffle, seed, l2, l1, max_norm, metrics
    )
    has_val = bool(validation_split) or validation_data is not None
    stops = option_callbacks(
        trainer,
        has_val,
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
    return trainer.fit(
        X,
        y,
        epochs=epochs,
        sample_weight=sample_weight,
        class_weight=class_weight,
        validation_split=validation_split,
        validation_data=validation_data,
        callbacks=[*stops, *_callback_list(callbacks)],
        verbose=verbose,
    )
