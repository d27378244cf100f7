"""scikit-learn's per-epoch rules, written as deltarule callbacks.

scikit-learn's ``_fit_stochastic`` does, after every epoch: record the loss,
update the no-improvement counter (on the training loss, or on the validation
score with ``early_stopping``), update the ``invscaling`` learning rate, and when
the counter exceeds ``n_iter_no_change`` either stop or, for
``learning_rate='adaptive'``, divide the rate by 5. Each of those is one
callback here; the training loop is deltarule's, unchanged. The counters live
on the estimator, as in scikit-learn, so they carry over ``warm_start`` fits and
``partial_fit`` calls. (The convergence warnings are issued by the estimator once
a fit is complete: :mod:`._convergence`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _sparse
from .._typing import Array
from ..callbacks import Callback, TrainingState
from ..history import EpochRecord, History
from ..network import INFER_CHUNK

__all__ = [
    "EpochBookkeeping",
    "InverseScaling",
    "LossPlateau",
    "ValidationScorePlateau",
    "VerbosePrinter",
]


class EpochBookkeeping(Callback):
    """Keep ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_`` and ``validation_loss_curve_``.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
    samples_per_epoch : int
        Added to ``t_`` each epoch (0 for full-batch solvers, as scikit-learn's L-BFGS).
    curves : bool, default=True
        Append to the loss curves (scikit-learn's L-BFGS keeps none).
    """

    def __init__(self, estimator: Any, samples_per_epoch: int, curves: bool = True) -> None:
        self.estimator, self.samples_per_epoch, self.curves = estimator, samples_per_epoch, curves

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """Every epoch: its bookkeeping needs only the losses (:meth:`on_quiet_epochs`)."""
        return len(losses)

    def on_quiet_epochs(self, losses: Array, state: TrainingState) -> None:
        est, count = self.estimator, len(losses)
        est.n_iter_ += count
        est.t_ += self.samples_per_epoch * count
        est.loss_ = np.float64(losses[-1])
        if self.curves:
            est.loss_curve_.extend(np.asarray(losses, np.float64))  # (np.float64 each)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        est = self.estimator
        est.n_iter_ += 1
        est.t_ += self.samples_per_epoch
        est.loss_ = np.float64(record.loss)
        if not self.curves:
            return None
        est.loss_curve_.append(np.float64(record.loss))
        if record.val_loss is not None and est.validation_loss_curve_ is not None:
            est.validation_loss_curve_.append(record.val_loss)
        return None


class InverseScaling(Callback):
    r"""``learning_rate='invscaling'``: :math:`\eta = \eta_0 / (t + 1)^{p}` after each epoch.

    :math:`t` is ``t_``, the number of training samples seen so far.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        est = self.estimator
        state.learning_rate = float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
        return None


class _Plateau(Callback):
    """Count epochs without improvement by ``tol``; stop (or cut the rate) past the limit."""

    subject = ""

    def __init__(self, estimator: Any, adaptive: bool) -> None:
        self.estimator, self.adaptive = estimator, adaptive

    def _improved(self, record: EpochRecord, state: TrainingState) -> bool:
        raise NotImplementedError

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        est = self.estimator
        est._no_improvement_count = (
            0 if self._improved(record, state) else (est._no_improvement_count + 1)
        )
        if est._no_improvement_count <= est.n_iter_no_change:
            return None
        message = (
            f"{self.subject} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
        if self.adaptive and state.learning_rate > 1e-6:
            state.learning_rate /= 5.0
            est._no_improvement_count = 0
            if est.verbose:
                print(f"{message} Setting learning rate to {state.learning_rate:f}")
            return None
        if est.verbose:  # (scikit-learn's trigger_stopping)
            too_small = " Learning rate too small." if self.adaptive else ""
            print(f"{message}{too_small} Stopping.")
        return message


class LossPlateau(_Plateau):
    """Without early stopping: the training loss must fall below ``best_loss_ - tol``."""

    subject = "Training loss"

    def _run(self, losses: Array) -> tuple[Array, Array]:
        """For each epoch of ``losses`` (in order), the no-improvement count after it and
        ``best_loss_`` after it, as :meth:`on_epoch_end` would leave them epoch by epoch."""
        est = self.estimator
        losses = np.asarray(losses, np.float64)
        best = np.minimum.accumulate(np.concatenate(([est.best_loss_], losses)))
        improved = ~(losses > best[:-1] - est.tol)
        index = np.arange(len(losses))
        last = np.maximum.accumulate(np.where(improved, index, -1))
        counts = np.where(last >= 0, index - last, est._no_improvement_count + index + 1)
        return counts, best[1:]

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """The epochs before the first that passes the limit (it stops the run, or cuts
        the learning rate)."""
        counts, _ = self._run(losses)
        over = np.flatnonzero(counts > self.estimator.n_iter_no_change)
        return int(over[0]) if over.size else len(losses)

    def on_quiet_epochs(self, losses: Array, state: TrainingState) -> None:
        counts, best = self._run(losses)
        est = self.estimator
        est._no_improvement_count = int(counts[-1])
        est.best_loss_ = np.float64(best[-1])

    def _improved(self, record: EpochRecord, state: TrainingState) -> bool:
        est = self.estimator
        improved = not record.loss > est.best_loss_ - est.tol
        est.best_loss_ = np.float64(min(est.best_loss_, record.loss))  # (as scikit-learn's)
        return improved


class ValidationScorePlateau(_Plateau):
    """With early stopping: the validation score (accuracy or R²) must reach ``best + tol``.

    Keeps the parameters of the best-scoring epoch and restores them when training
    ends, whatever ended it.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
    validation : tuple (X_val, y_val, sample_weight_val)
        Held-out data, with ``y_val`` as the user gave it (labels for a classifier).
    adaptive : bool
        ``learning_rate='adaptive'``: cut the rate instead of stopping.
    """

    subject = "Validation score"

    def __init__(self, estimator: Any, validation: tuple, adaptive: bool) -> None:
        super().__init__(estimator, adaptive)
        self.validation = validation

    def _improved(self, record: EpochRecord, state: TrainingState) -> bool:
        est = self.estimator
        X_val, y_val, sw_val = self.validation
        # the outputs the loop scored its val_loss on: the estimator gives it these rows
        network, output = state.network, state.val_output
        if output is None and _sparse.is_sparse(X_val):  # a chunk of rows at a time
            output = _sparse.output_cache(network, X_val, most=INFER_CHUNK).out
        elif output is None:
            output = network.forward(X_val)[0]
        score = est._score_output(output, y_val, sw_val)
        est.validation_scores_.append(score)
        improved = not score < est.best_validation_score_ + est.tol
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            np.copyto(est._best_parameters, state.network.parameters)
        return improved

    def on_train_end(self, history: History, state: TrainingState) -> None:
        np.copyto(state.network.parameters, self.estimator._best_parameters)


class VerbosePrinter(Callback):
    """``verbose=True``: scikit-learn's lines, ``Iteration n, loss = ...`` and the stop reason."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        est = self.estimator
        print(f"Iteration {est.n_iter_}, loss = {record.loss:.8f}")
        if getattr(est, "validation_scores_", None):
            print(f"Validation score: {est.validation_scores_[-1]:f}")
        return None

    def on_train_end(self, history: History, state: TrainingState) -> None:
        # scikit-learn prints its plateau's line (done by the plateau) and nothing at
        # max_iter (a ConvergenceWarning says it); deltarule's own stops are said here
        reason = history.stop_reason or ""
        if reason and not reason.startswith(_SCIKIT_LEARN_STOPS):
            print(f"Stopped: {reason}")


_SCIKIT_LEARN_STOPS = (
    f"{LossPlateau.subject} did not improve",
    f"{ValidationScorePlateau.subject} did not improve",
    "max epochs",
)
