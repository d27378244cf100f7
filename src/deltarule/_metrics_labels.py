"""Outputs and targets as class labels: the threshold a single column is split at, the
multi-label test, the labels, whether every example is right, and the confusion matrix.

Documented and imported as :mod:`deltarule.metrics`'s.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._metrics_inputs import F64, _as_2d, _blocks, _check_pair, _memo, _not_none
from ._typing import Array
from ._validation import as_float_array, check_int, check_sample_weight
from .exceptions import InputError

THRESHOLD = 0.5
"""A single output (or a multi-label column) predicts class 1 when it is above this, by
default (``threshold=``; :func:`class_threshold` for an output activation)."""

MAX_CLASSES = 4096
"""The most classes :func:`confusion_matrix` infers from the labels (a matrix of 16.8
million cells, 134 MB); a larger label is refused as a mistake unless ``n_classes`` says
so (``confusion_matrix([0], [10**6])`` would otherwise try 7.3 TiB)."""


def class_threshold(activation: Any, target: Any = None) -> float:
    """The value a single output column is split at into classes 0 and 1.

    With ``target`` given and its values exactly two (0/1, the tutorial's 0.01/0.99, FANN's
    -1/+1), their midpoint: a tanh output trained on 0/1 targets splits at 0.5, on -1/+1 at
    0. Otherwise the midpoint of the output ``activation``'s finite ``output_range``
    (sigmoid: 0.5; tanh and softsign: 0), or :data:`THRESHOLD` (0.5) for an unbounded or
    undeclared range. Targets of several columns (argmax) need no threshold: 0.5 then.
    """
    if target is not None:
        column = np.asarray(target)
        if column.ndim == 1 or (column.ndim == 2 and column.shape[1] == 1):
            values = np.unique(column[np.isfinite(column)])
            if values.size == 2:
                return float(values[0] + values[1]) / 2
    bounds = getattr(activation, "output_range", None)
    if bounds is None or not np.isfinite(bounds).all():
        return THRESHOLD
    return float(bounds[0] + bounds[1]) / 2


def is_multilabel(target: Any) -> bool:
    """Return True when ``target`` has several 0/1 columns and some row has not exactly one 1.

    A batch with one label in every row reads as one-hot: pass ``multilabel=True`` then.
    """
    t = _as_2d(target, "target", None)
    memo, key = _memo("multilabel", t)
    if memo is not None and key in memo:
        return memo[key][1]
    found = t.shape[1] > 1 and _several_labels(t)
    if memo is not None:
        memo[key] = (t, found)
    return found


def _several_labels(t: Array) -> bool:
    """Whether ``t`` holds only 0s and 1s and some row has not exactly one 1, a block of rows
    at a time (row sums of 0s and 1s are exact in float32 too)."""
    several = False
    for block in _blocks(t):
        if not ((block == 0) | (block == 1)).all():
            return False
        several = several or bool((block.sum(axis=1) != 1).any())
    return several


def _labels(array: Array, multilabel: bool, threshold: float = THRESHOLD) -> np.ndarray:
    memo, key = _memo("labels", array, multilabel, threshold)
    if memo is not None and key in memo:
        return memo[key][1]
    cut = np.float64(threshold)  # (compared in float64 also for float32 outputs: exact)
    if multilabel:
        labels = (array > cut).astype(np.int64)
    elif array.shape[1] == 1:
        labels = (array[:, 0] > cut).astype(np.int64)
    else:
        labels = array.argmax(axis=1)
    if memo is not None:
        memo[key] = (array, labels)
    return labels


def _threshold(threshold: Any) -> float:
    number = not isinstance(threshold, (bool, np.bool_)) and isinstance(threshold, numbers.Real)
    if not number or not np.isfinite(float(threshold)):  # (NaN: every row "right")
        raise InputError(
            f"threshold must be a finite number (a single output above it is class 1); received "
            f"{threshold!r:.60}. Pass e.g. threshold=0.5 for a sigmoid output, 0 for tanh."
        )
    return float(threshold)


def predicted_labels(
    output: Any, multilabel: bool = False, *, threshold: float = THRESHOLD
) -> np.ndarray:
    """Return int64 class labels of shape (n_samples,) for outputs (n_samples, n_outputs).

    ``argmax`` over several columns (softmax), ``output > threshold`` (0.5) for one column;
    with ``multilabel=True`` each column is thresholded alone, shape (n_samples, n_outputs).
    """
    return _labels(_as_2d(output, "output", None), multilabel, _threshold(threshold))


def target_labels(
    target: Any, multilabel: bool = False, *, threshold: float = THRESHOLD
) -> np.ndarray:
    """Return class labels for one-hot or 0/1 targets; same rules as :func:`predicted_labels`."""
    return _labels(_as_2d(target, "target", None), multilabel, _threshold(threshold))


def _classify(
    output: Any, target: Any, sample_weight: Any, multilabel: bool | None, threshold: Any
) -> tuple[np.ndarray, np.ndarray, Array | None, int, bool]:
    """Return true labels, predicted labels, weights, number of classes, multi-label flag
    (float32 arrays read as they are, without a float64 copy: the same labels)."""
    o, t, w = _check_pair(output, target, sample_weight, None)
    ml = is_multilabel(t) if multilabel is None else bool(multilabel)
    cut = _threshold(threshold)
    return _labels(t, ml, cut), _labels(o, ml, cut), w, max(2, o.shape[1]), ml


def all_correct(
    output: Any, target: Any, *, multilabel: bool | None = None, threshold: float = THRESHOLD
) -> bool:
    """Return True when every example is classified correctly (the tutorial's stopping rule).

    Real-valued targets (such as the tutorial's 0.01/0.99) are labelled the same
    way: ``argmax`` for several columns, ``> threshold`` for one (0.5; 0 for a tanh
    output with -1/+1 targets, :func:`class_threshold`).
    """
    y_true, y_pred, *_ = _classify(output, target, None, multilabel, threshold)
    return bool(np.array_equal(y_true, y_pred))


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int, w: Array | None) -> np.ndarray:
    counts = np.bincount(y_true * n + y_pred, weights=w, minlength=n * n).reshape(n, n)
    return counts if w is not None else counts.astype(np.int64)


def _exact(value: float) -> str:
    """``value`` as written exactly: ``3`` for a whole number, else ``repr`` (1.0000001)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_labels(labels: Any, name: str) -> np.ndarray:
    """Return ``labels`` as float64 class indices (whole numbers >= 0), or raise."""
    array = as_float_array(_not_none(labels, name), name, F64, ndim=(1,))
    if (array < 0).any() or (array != np.round(array)).any():
        bad = array[(array < 0) | (array != np.round(array))][0]
        raise InputError(
            f"{name} must hold class indices 0, 1, ..., n_classes - 1; received "
            f"{_exact(bad)}. Turn outputs and targets into indices with predicted_labels / "
            "target_labels."
        )
    return array


def confusion_matrix(
    y_true_labels: Any, y_pred_labels: Any, n_classes: int | None = None, sample_weight: Any = None
) -> np.ndarray:
    r"""Return the confusion matrix :math:`C_{jk} = \sum_i s_i [y_i = j][\hat y_i = k]`.

    Rows are true classes, columns predicted ones, as in scikit-learn.

    ``y_true_labels`` and ``y_pred_labels`` hold class indices of shape (n_samples,)
    (see :func:`target_labels`); ``n_classes`` defaults to the largest label plus one,
    at most :data:`MAX_CLASSES` (a larger label is refused before any memory is taken:
    pass ``n_classes`` for that many classes).
    Returns int64 counts of shape (n_classes, n_classes), float64 when weighted.
    """
    y_true = _check_labels(y_true_labels, "y_true_labels")
    y_pred = _check_labels(y_pred_labels, "y_pred_labels")
    if y_true.shape != y_pred.shape:
        raise InputError(
            f"y_true_labels has {y_true.size} labels but y_pred_labels has {y_pred.size}; "
            "pass one true and one predicted label per sample."
        )
    largest = max(y_true.max(), y_pred.max())  # (a float: 1e18 is compared, not converted)
    if n_classes is None and largest >= MAX_CLASSES:
        which = "y_true_labels" if y_true.max() == largest else "y_pred_labels"
        raise InputError(
            f"{which} holds the class index {_exact(largest)}, which would make a "
            f"{_exact(largest + 1)} x {_exact(largest + 1)} confusion matrix; expected indices "
            f"below {MAX_CLASSES:,} when n_classes is not given. Check the labels (indices "
            "0, 1, ..., n_classes - 1, e.g. from predicted_labels), or pass n_classes if "
            "there really are that many classes."
        )
    n = int(largest) + 1 if n_classes is None else check_int(n_classes, "n_classes")
    if largest >= n:
        fix = (
            f"Pass n_classes={_exact(largest + 1)} or leave it out."
            if largest < MAX_CLASSES
            else "Check the labels (indices 0, 1, ..., n_classes - 1)."
        )
        raise InputError(
            f"labels go up to {_exact(largest)} but n_classes={n}; expected labels below "
            f"n_classes. {fix}"
        )
    weights = check_sample_weight(sample_weight, y_true.size, F64)
    return _confusion(y_true.astype(np.int64), y_pred.astype(np.int64), n, weights)
