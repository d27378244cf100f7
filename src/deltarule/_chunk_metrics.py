"""The training metrics of a chunk of compiled online epochs, as the plain loop scores them.

The plain loop (:func:`deltarule._epochs.record`) scores each epoch on the outputs of its
steps -- every example's output before its own update, in visiting order -- against the
targets in that order. The compiled online path (:mod:`deltarule._online`) runs many epochs
per call and keeps those outputs, of shape (epochs, n_samples, n_outputs); :func:`columns`
gives each metric's value for every epoch of them, the plain loop's numbers. Accuracy, the
default metric of classification, is scored for all the epochs at once (the count of examples
classified correctly over ``n_samples``: the same float as :func:`deltarule.metrics.accuracy`
of each epoch), and so are the mean absolute and squared errors (the same floats: the test
suite compares them); any other metric, a user's too, is called on each epoch's outputs as
the plain loop calls it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._typing import Array
from .metrics import (
    THRESHOLD,
    Metric,
    accuracy,
    is_multilabel,
    mean_absolute_error,
    mean_squared_error,
    target_labels,
)

__all__ = ["accuracy_of_epochs", "mae_of_epochs", "mse_of_epochs", "columns", "target_classes"]


def target_classes(y: Array, threshold: float = THRESHOLD) -> tuple[bool, Array]:
    """Whether the targets ``y`` are multi-label, and their class labels, as
    :func:`~deltarule.metrics.accuracy` reads them (one column split at ``threshold``)."""
    multilabel = is_multilabel(y)
    return multilabel, target_labels(y, multilabel, threshold=np.float64(threshold))


def accuracy_of_epochs(
    outputs: Array,
    y: Array,
    orders: Array | None,
    threshold: float = THRESHOLD,
    classes: tuple[bool, Array] | None = None,
) -> Array:
    """:func:`~deltarule.metrics.accuracy` of each epoch's ``outputs`` (epochs, n, k) against
    the targets ``y`` visited in ``orders`` (epochs, n; None: in order), without weights,
    one column split into classes at ``threshold`` (0 for tanh: ``class_threshold``).

    The labels are read as :func:`~deltarule.metrics.accuracy` reads them: multi-label from
    the targets (every permutation of the rows reads the same), ``> 0.5`` for one column,
    ``argmax`` for several; float32 outputs are compared with the threshold in float64, as
    :func:`~deltarule.metrics.accuracy` compares them (in float32 a threshold such as 0.45,
    rounded to float32, would split some outputs otherwise). ``classes``: what
    :func:`target_classes` gives for ``y`` and ``threshold``, read once for many calls.
    """
    threshold = np.float64(threshold)  # (a Python float is compared in the outputs' dtype)
    multilabel, truth = target_classes(y, threshold) if classes is None else classes
    if orders is not None:
        truth = truth[orders]
    if multilabel:
        right = ((outputs > threshold) == truth).all(axis=2)
    elif outputs.shape[2] == 1:
        right = (outputs[:, :, 0] > threshold) == truth
    else:
        right = outputs.argmax(axis=2) == truth
    return np.count_nonzero(right, axis=1) / outputs.shape[1]


def _errors(outputs: Array, y: Array, orders: Array | None) -> Array:
    """Each epoch's ``target - output`` (epochs, n, k) in float64, the targets in its order."""
    t = (y if orders is None else y[orders]).astype(np.float64)
    return t - outputs.astype(np.float64)


def mae_of_epochs(outputs: Array, y: Array, orders: Array | None, threshold: float) -> Array:
    """:func:`~deltarule.metrics.mean_absolute_error` of each epoch (the same floats: the
    mean over the examples, then over the outputs, in float64)."""
    return np.abs(_errors(outputs, y, orders)).mean(axis=1).mean(axis=1)


def mse_of_epochs(outputs: Array, y: Array, orders: Array | None, threshold: float) -> Array:
    """:func:`~deltarule.metrics.mean_squared_error` of each epoch (the same floats)."""
    return (_errors(outputs, y, orders) ** 2).mean(axis=1).mean(axis=1)


VECTORISED = {
    accuracy: accuracy_of_epochs,
    mean_absolute_error: mae_of_epochs,
    mean_squared_error: mse_of_epochs,
}
"""Metric functions scored for a whole chunk at once (keyed by the function itself: a
user's function under a built-in name is called epoch by epoch)."""
FINITE_ONLY = (mean_absolute_error, mean_squared_error)
"""Scored at once only when every output of the chunk is finite: called on an output that is
not, they raise, which stops the scoring at that epoch as in the plain loop."""


def columns(
    metrics: Sequence[Metric],
    y: Array,
    orders: Array | None,
    outputs: Array,
    threshold: float = THRESHOLD,
) -> tuple[dict[str, Array], Exception | None]:
    """Each metric's value (by name, in the order of ``metrics``) for every epoch of
    ``outputs`` (epochs, n, k), the targets being ``y`` visited in ``orders``; and None.

    A metric that raises stops the scoring at its epoch, as it stops the plain loop: the
    values of the epochs before that one come back (the epoch's index is their length),
    with the error instead of None. ``threshold`` is the plain loop's: where one output
    column splits into classes (:func:`~deltarule.metrics.class_threshold`).
    """
    finite = any(m.function in FINITE_ONLY for m in metrics) and bool(np.isfinite(outputs).all())
    vectorised = [
        m.function in VECTORISED and (finite or m.function not in FINITE_ONLY) for m in metrics
    ]
    scores = [
        VECTORISED[m.function](outputs, y, orders, threshold) if at_once
        else _per_epoch(outputs, y, orders, threshold)
        for m, at_once in zip(metrics, vectorised)
    ]  # fmt: skip
    called = [(m, v) for m, v, at_once in zip(metrics, scores, vectorised) if not at_once]
    for i in range(outputs.shape[0] if called else 0):
        # the targets in this epoch's order, a copy shared by its metrics, as the plain loop's
        target = y.copy() if orders is None else y[orders[i]]
        for metric, values in called:
            try:
                values[i] = metric(outputs[i], target, None, threshold=threshold)
            except Exception as error:  # (the plain loop's error, raised by the caller)
                return _by_name(metrics, [v[:i] for v in scores]), error
    return _by_name(metrics, scores), None


def _per_epoch(outputs: Array, y: Array, orders: Array | None, threshold: float) -> Array:
    """The array a metric called epoch by epoch fills."""
    return np.empty(outputs.shape[0])


def _by_name(metrics: Sequence[Metric], scores: list[Array]) -> dict[str, Array]:
    """``{metric.name: values}``: a name given twice keeps its first place and its last
    values, as the plain loop's dict of an epoch's metrics does."""
    return {m.name: v for m, v in zip(metrics, scores)}
