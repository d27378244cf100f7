"""Stopping rules: callbacks whose ``on_epoch_end`` returns the reason to stop.

:class:`EarlyStopping` (no improvement of a monitored value for ``patience`` epochs, the best
weights restored), :class:`TargetError` (an error reached), :class:`AllCorrect` (every training
example classified correctly: the tutorial's rule), :class:`GradientNormBelow`,
:class:`TimeLimit` and :class:`TerminateOnNaN`. Only early stopping keeps a state that a
checkpoint saves.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np

from .._network_data import keyword_checked
from .._typing import Array
from .._validation import check_int, check_positive, continuous_column
from ..exceptions import InputError
from ..history import EpochRecord, History
from ._base import KERAS_QUIET, Callback, TrainingState
from ._monitor import _better, _canonical, _monitored, check_monitor, resolve_mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` (default True) the weights of the best epoch are
    restored when training ends — whatever ended it, max epochs included
    (cf. keras-team/keras#12511). A NaN or infinite value counts as no improvement, as in
    Keras. A ``monitor`` the run does not record (a validation value without validation
    data, a metric not computed) is refused before the first epoch.

    ``mode="auto"`` reads the direction from the name (a loss falls, a registered metric
    goes its way) or, when training begins, from the run's metrics: a custom
    :class:`~deltarule.metrics.Metric` with ``greater_is_better=True`` rises. A value whose
    direction cannot be known is refused then, as Keras 3 refuses it: pass ``mode="max"``
    or ``mode="min"``.
    """

    @keyword_checked({"verbose": KERAS_QUIET,
                      "baseline": "EarlyStopping has no baseline (Keras's); to stop a run "
                      "whose value has not reached one by some epoch, write a Callback whose "
                      "on_epoch_end returns a reason (docs/recipes.md).",
                      "start_from_epoch": "EarlyStopping counts from the first epoch (Keras's "
                      "start_from_epoch); give it a larger patience, or write a Callback that "
                      "waits (docs/recipes.md)."})  # fmt: skip
    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        self.mode = _better(mode, monitor)  # ("auto" for a custom metric: set at train begin)
        self._mode_setting = self.mode  # (the checkpoint's: "auto" while the run decides)
        self.monitor = _canonical(monitor)
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_params: Array | None = None
        self._held: int | None = None  # (the epoch whose weights _best_params holds)
        self._resumed = False

    def _improved(self, value: float, best: float | None) -> bool:
        """Whether ``value`` improves on ``best`` (None: any value does)."""
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def on_train_begin(self, state: TrainingState) -> None:
        check_monitor(self.monitor, state, "EarlyStopping")
        self.mode = resolve_mode(self._mode_setting, self.monitor, state, "EarlyStopping", self)
        if self._resumed:  # continuing a checkpointed run: keep the restored state
            self._resumed = False
            if self._best_params is None:
                self._best_params = np.empty_like(state.network.parameters)
            return
        self.best, self.best_epoch, self.wait = None, None, 0
        self._best_params, self._held = np.empty_like(state.network.parameters), None

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Return the best value, its epoch and the wait counter, and the best weights as the
        tensor ``best_parameters`` (once there is a best epoch, to be restored)."""
        data = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        has_best = self._best_params is not None and self._held == self.best_epoch is not None
        return data, ({"best_parameters": self._best_params.copy()} if has_best else {})

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`; the next training run continues from it."""
        best, best_epoch, wait = data["best"], data["best_epoch"], data["wait"]
        if isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
            raise ValueError(f"wait is {wait!r}, not a count of epochs")
        self.best = None if best is None else float(best)
        self.best_epoch = None if best_epoch is None else int(best_epoch)
        self.wait = wait
        params = tensors.get("best_parameters")
        self._best_params = None if params is None else params.copy()
        self._held = None if params is None else self.best_epoch
        self._resumed = True

    def config(self) -> dict[str, Any]:
        """The monitored value and the stopping rule's settings."""
        return {
            "monitor": self.monitor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "mode": self._mode_setting,
            "restore_best_weights": bool(self.restore_best_weights),
        }

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        value = _monitored(record, self.monitor)
        if self.mode == "auto":  # (driven by hand, without on_train_begin)
            self.mode = resolve_mode(self.mode, self.monitor, state, "EarlyStopping")
        if math.isfinite(value) and self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, record.epoch, 0
            if self.restore_best_weights:  # (kept only to be put back)
                np.copyto(self._best_params, state.network.parameters)
                self._held = record.epoch
            return None
        self.wait += 1
        return self.stop_reason()

    def _scan(self, losses: Array) -> tuple[float | None, int | None, int, int | None]:
        """The rule's books after ``losses`` (the training loss, monitored), from its own:
        ``(best, index of the last improvement or None, wait, index of the stop or None)``,
        the scan ending at the stop."""
        if not self.min_delta:  # (a chunk of 65,536 epochs: 1 ms instead of 20)
            return self._scan_arrays(np.asarray(losses, np.float64))
        best, last, wait = self.best, None, self.wait
        for index, value in enumerate(losses.tolist()):
            if math.isfinite(value) and self._improved(value, best):
                best, last, wait = value, index, 0
                continue
            wait += 1
            if best is not None and wait >= max(self.patience, 1):
                return best, last, wait, index
        return best, last, wait, None

    def _scan_arrays(self, losses: Array) -> tuple[float | None, int | None, int, int | None]:
        """:meth:`_scan` without ``min_delta``, in array operations: an epoch improves when
        its finite value is better than every finite one before it (and the best so far)."""
        sign = 1.0 if self.mode == "min" else -1.0
        finite = np.isfinite(losses)
        values = np.where(finite, sign * losses, np.inf)
        start = np.inf if self.best is None else sign * self.best
        before = np.minimum.accumulate(np.concatenate([[start], values]))[:-1]
        improved = finite & (values < before)
        index = np.arange(len(losses))
        latest = np.maximum.accumulate(np.where(improved, index, -1))
        wait = np.where(latest >= 0, index - latest, self.wait + index + 1)
        has_best = latest >= 0 if self.best is None else np.ones(len(losses), bool)
        stops = np.flatnonzero(has_best & (wait >= max(self.patience, 1)))
        end = int(stops[0]) if stops.size else len(losses) - 1
        if end < 0:
            return self.best, None, self.wait, None
        last = int(latest[end]) if latest[end] >= 0 else None
        best = self.best if last is None else float(losses[last])
        return best, last, int(wait[end]), (end if stops.size else None)

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """Monitoring the training loss: the epoch it stops at, or, restoring the best
        weights, the last improvement before it (the weights of that epoch are kept; an
        earlier improvement's are replaced by them); None for another quantity."""
        if self.monitor != "loss":
            return None
        _, last, _, stop = self._scan(losses)
        if self.restore_best_weights and last is not None:
            return last  # (even the chunk's last: a chunk whose next epoch fails tells none)
        return len(losses) if stop is None else stop

    def on_quiet_epochs(self, losses: Array, state: TrainingState) -> None:
        """Count the quiet epochs as :meth:`on_epoch_end` counts them (restoring the best
        weights, none of them improved: :meth:`chunk_quiet` pointed at the last one that
        did)."""
        best, last, self.wait, _ = self._scan(losses)
        if last is not None:
            self.best, self.best_epoch = best, state.epoch - len(losses) + 1 + last

    def stop_reason(self) -> str | None:
        """Why the run stops now (no improvement for ``patience`` epochs), or None.

        After a checkpointed run's last epoch this still says so, so that resuming it
        stops where it did (rather than training one more epoch)."""
        if self.best is None or self.wait < max(self.patience, 1):
            return None
        by = f" by more than {self.min_delta:g}" if self.min_delta else ""
        return (
            f"no improvement of {self.monitor}{by} for {self.patience} epochs (best "
            f"{self.best:.6g} at epoch {self.best_epoch})"
        )

    def resumed_stop(self, record: EpochRecord, state: TrainingState) -> str | None:
        """:meth:`stop_reason`: its count, restored from the checkpoint, says whether the run
        stopped at ``record``'s epoch."""
        return self.stop_reason()

    def restore(self, network: Any, history: History) -> None:
        """Put the best epoch's weights back into ``network`` and record that epoch in
        ``history`` (with ``restore_best_weights``), as at the end of training."""
        held = self.best_epoch is not None and self._held == self.best_epoch
        if self.restore_best_weights and held:  # (not the weights of another epoch)
            np.copyto(network.parameters, self._best_params)
            history.best_epoch = self.best_epoch

    def on_train_end(self, history: History, state: TrainingState) -> None:
        self.restore(state.network, history)


class TargetError(Callback):
    r"""Stop once ``monitor`` (the training error by default) is at most ``target``.

    The tutorial's "until the error is minimum". The default ``monitor="loss"`` compares the
    network's loss, which for ``sse``/``half_squared_error`` is half the squared error,
    :math:`\tfrac12\sum_k (o_k - t_k)^2` per example, averaged over the examples. FANN's
    ``desired_error`` compares the MSE instead (the squared error averaged over examples
    *and* outputs, without the half), so the same number stops at a different point: to
    match FANN, use ``TargetError(desired_error, monitor="mse")`` and train with
    ``metrics=["mse"]`` so each epoch records it.
    """

    def __init__(self, target: float, monitor: str = "loss") -> None:
        if isinstance(target, bool) or not isinstance(target, numbers.Real) or math.isnan(target):
            raise InputError(
                f"TargetError's target must be a number (the {monitor} to reach); received "
                f"{target!r}."
            )
        self.target, self.monitor = float(target), _canonical(monitor)

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """The epochs before the first whose loss reaches the target (the loss monitored;
        None for another quantity)."""
        if self.monitor != "loss":
            return None
        reached = np.flatnonzero(losses <= self.target)
        return int(reached[0]) if reached.size else len(losses)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        value = _monitored(record, self.monitor)
        if value <= self.target:
            return f"target error reached ({self.monitor} {value:.6g} <= {self.target:g})"
        return None

    def resumed_stop(self, record: EpochRecord, state: TrainingState) -> str | None:
        """:meth:`on_epoch_end` (the record decides; a value the checkpoint stored as null, a
        NaN, did not reach the target)."""
        if record.get(self.monitor) is None:
            return None
        return self.on_epoch_end(record, state)


class AllCorrect(Callback):
    """Stop when every training example is classified correctly (the tutorial's pseudocode).

    Outputs and targets are read as class labels as :func:`deltarule.metrics.all_correct`
    reads them, so the targets must encode classes: a classification loss, or targets whose
    every column holds at most two values (one-hot rows, one 0/1 column, the tutorial's
    0.01/0.99). Regression targets are refused when training begins: "classified
    correctly" means nothing for them (stop at an error with :class:`TargetError`, or with
    :class:`EarlyStopping`, instead).
    """

    _checked = False
    """Set by the compiled online path for its run (:mod:`deltarule._online`): its kernel
    checks every epoch's weights by this rule, and ``_found`` is the epoch (from 1) of its
    last chunk at which it found no example surely classified wrongly, or None."""
    _found: int | None = None

    def on_train_begin(self, state: TrainingState) -> None:
        self._threshold = _cut(state.network, state.y)  # (the targets are the fit's own)
        if state.trainer is not None and getattr(state.trainer, "classification", False):
            return  # a classification loss: its targets are classes (or probabilities)
        column = continuous_column(state.y)
        if column is None:
            return
        values = np.asarray(state.y).reshape(len(state.y), -1)[:, column]
        loss = getattr(getattr(state.network, "loss", None), "name", "?")
        raise InputError(
            "stop_when_all_correct (AllCorrect) stops when every training example is "
            "classified correctly, so it needs class targets (at most two values in each "
            "column: one-hot rows, one 0/1 column) or a classification loss; received "
            f"regression targets with loss {loss!r}: column {column} of y holds "
            f"{np.unique(values).size} different values, from {values.min():g} to "
            f"{values.max():g}. For a regression, stop at an error instead: target_error=... "
            "(TargetError) or early_stopping=True (EarlyStopping)."
        )

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        from ..metrics import all_correct

        output, target = self._outputs_and_targets(state)
        cut = getattr(self, "_threshold", None)  # (set when training began)
        if all_correct(
            output, target, threshold=_cut(state.network, target) if cut is None else cut
        ):
            return "every training example classified correctly"
        return None

    def resumed_stop(self, record: EpochRecord, state: TrainingState) -> str | None:
        """:meth:`on_epoch_end` (the weights and the training data decide)."""
        return self.on_epoch_end(record, state)

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """The first epoch whose weights the compiled online kernel found may classify every
        example correctly (it checks each epoch's: none surely wrong, an output too close
        to its cut for its own forward pass to tell counting as right), else
        ``len(losses)``; None (every epoch's :meth:`on_epoch_end`) where no kernel checks.
        That epoch's :meth:`on_epoch_end` decides with NumPy's outputs, as in the plain
        loop; if it says no, the run goes on from there."""
        if not self._checked:
            return None
        at = -1 if self._found is None else self._found - state.epoch - 1
        return at if 0 <= at < len(losses) else len(losses)

    @staticmethod
    def _outputs_and_targets(state: TrainingState) -> tuple[Any, Any]:
        X = state.X
        # a sparse X (CSR) goes through infer, a chunk of rows at a time
        output = (
            state.network.forward(X)[0] if isinstance(X, np.ndarray) else state.network.infer(X)
        )
        return output, state.y

    @classmethod
    def misclassified(cls, state: TrainingState) -> int:
        """How many training examples the network classifies wrongly now (as this rule
        reads them), for the warning that the rule was not met."""
        from ..metrics import is_multilabel, predicted_labels, target_labels

        output, target = cls._outputs_and_targets(state)
        cut, ml = _cut(state.network, target), is_multilabel(target)
        wrong = predicted_labels(output, ml, threshold=cut) != target_labels(
            target, ml, threshold=cut
        )
        return int(np.count_nonzero(wrong.reshape(len(wrong), -1).any(axis=1)))


def _cut(network: Any, target: Any) -> float:
    """Where a single output column of ``network`` splits into classes: the midpoint of the
    two target values, else of its output activation's range (-1/+1 targets: 0; 0/1: 0.5;
    :func:`deltarule.metrics.class_threshold`)."""
    from ..metrics import class_threshold

    layers = getattr(network, "layers", None)
    return class_threshold(layers[-1].activation if layers else None, target)


class GradientNormBelow(Callback):
    r"""Stop when a gradient's size falls below ``threshold``; ``rule`` says which gradient.

    ``rule="l2_mean"`` (the default, what ``fit(min_gradient_norm=...)`` uses) reads the
    epoch's record: the Euclidean norm :math:`\lVert g\rVert_2` of the epoch's mean
    gradient :attr:`EpochRecord.gradient_norm <deltarule.history.EpochRecord>`, where each
    batch's gradient is that of the batch's *mean* error (L1/L2 penalties included),
    averaged over the epoch's batches while the weights moved. It costs nothing extra.

    ``rule="neuralnet"`` is R neuralnet's ``threshold``: at the end of each epoch it
    computes, at the current weights and on all the training data, the gradient of the
    *summed* error :math:`E_\text{sum} = \sum_i s_i\,\ell_i` (:math:`s_i = 1` without
    sample weights) and stops when its largest component is small,
    :math:`\max_j |\partial E_\text{sum}/\partial w_j| < \text{threshold}`. The network's
    error is the weighted *mean* :math:`E = \sum_i s_i \ell_i / \sum_i s_i`, so
    :math:`\partial E_\text{sum}/\partial w = (\sum_i s_i)\,\partial E/\partial w`: a factor
    of ``n_samples`` without sample weights. With ``loss="sse"`` (``half_squared_error``,
    :math:`\ell_i = \tfrac12\sum_k (o_{ik} - t_{ik})^2`) this is neuralnet's
    ``err.fct="sse"`` exactly; with ``binary_crossentropy`` (one output) its ``"ce"``. The
    gradient is that of the data error only: the trainer's ``l2``/``l1`` penalties
    (neuralnet has none) are left out, and frozen parameters count as 0. It costs one
    forward and backward pass over the training data per epoch (read in chunks of
    rows; a sparse ``X`` is made dense a chunk of at most ~32 MiB at a time).

    Parameters
    ----------
    threshold : float
        > 0. neuralnet's default is 0.01.
    rule : {"l2_mean", "neuralnet"}
        Which gradient is measured, as above.

    Examples
    --------
    >>> from deltarule.callbacks import GradientNormBelow
    >>> GradientNormBelow(0.01, rule="neuralnet").rule
    'neuralnet'
    """

    RULES = ("l2_mean", "neuralnet")

    def __init__(self, threshold: float, rule: str = "l2_mean") -> None:
        self.threshold = check_positive(threshold, "threshold")
        if not isinstance(rule, str) or rule.strip().lower().replace("-", "_") not in self.RULES:
            raise InputError(
                f"GradientNormBelow's rule must be one of {', '.join(map(repr, self.RULES))}; "
                f"received {rule!r}. Use 'neuralnet' for R neuralnet's threshold (max |dE/dw| "
                "of the error summed over rows) or 'l2_mean' for the norm of the epoch's mean "
                "gradient."
            )
        self.rule = rule.strip().lower().replace("-", "_")

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.rule == "l2_mean":
            if record.gradient_norm < self.threshold:
                return (
                    f"gradient norm {record.gradient_norm:.3g} below {self.threshold:g} "
                    "(L2 norm of the epoch's mean gradient)"
                )
            return None
        largest = float(np.max(np.abs(_summed_error_gradient(state)), initial=0.0))
        if largest < self.threshold:
            return (
                f"largest gradient component {largest:.3g} below {self.threshold:g} "
                "(R neuralnet's rule: max |dE/dw| of the error summed over the training rows)"
            )
        return None

    def resumed_stop(self, record: EpochRecord, state: TrainingState) -> str | None:
        """:meth:`on_epoch_end` (the record, or the weights and the training data, decide; a
        norm the checkpoint stored as null, a NaN, is not below the threshold)."""
        if self.rule == "l2_mean" and record.gradient_norm is None:
            return None
        return self.on_epoch_end(record, state)


def _summed_error_gradient(state: TrainingState, chunk_rows: int = 8192) -> Array:
    r"""Return :math:`\partial(\sum_i s_i \ell_i)/\partial\theta` at the current weights, on
    ``state.X``/``state.y`` (penalties left out, frozen parameters 0), shape (n_parameters,).
    """
    network, X, y, sw = state.network, state.X, state.y, state.sample_weight
    total = np.zeros(network.parameters.shape, np.float64)
    if not isinstance(X, np.ndarray):  # CSR chunks made dense: at most ~32 MiB of them
        chunk_rows = max(1, min(chunk_rows, (32 << 20) // (8 * max(X.shape[1], 1))))
    for start in range(0, X.shape[0], chunk_rows):
        stop = min(start + chunk_rows, X.shape[0])
        xb = X[start:stop]
        xb = xb if isinstance(xb, np.ndarray) else xb.toarray()  # a CSR chunk made dense
        wb = None if sw is None else sw[start:stop]
        weight = float(stop - start) if wb is None else float(np.sum(wb))
        if weight <= 0:
            continue  # rows of weight 0 add nothing (and their mean is undefined)
        _, grad = network.loss_and_gradient(xb, y[start:stop], wb)
        total += weight * grad  # the chunk's mean gradient times its weight: its sum
    trainable = getattr(network, "trainable", None)
    if trainable is not None:
        total[~np.asarray(trainable, bool)] = 0
    return total


class TimeLimit(Callback):
    """Stop after ``seconds`` of wall-clock time (checked at the end of each epoch).

    The clock starts when each ``fit`` begins: a run resumed from a checkpoint gets
    ``seconds`` again (the time before the interruption is not counted), as does each
    call of a warm-started fit.

    Parameters
    ----------
    seconds : float
        Wall time allowed per fit, > 0.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = check_positive(seconds, "seconds")
        self._start = 0.0

    def on_train_begin(self, state: TrainingState) -> None:
        self._start = time.perf_counter()

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """Every one: in compiled online training the clock is read at the end of each run
        of epochs (at most ~0.2 s long), not after each of them."""
        return len(losses)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if time.perf_counter() - self._start >= self.seconds:
            return f"time limit of {self.seconds:g} s reached"
        return None


class TerminateOnNaN(Callback):
    """Stop when the epoch's loss is NaN or infinite."""

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """The epochs before the first whose loss is not finite."""
        bad = np.flatnonzero(~np.isfinite(losses))
        return int(bad[0]) if bad.size else len(losses)

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if not math.isfinite(record.loss):
            return f"loss became {record.loss} at epoch {record.epoch}"
        return None
