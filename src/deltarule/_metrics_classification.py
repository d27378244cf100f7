"""The scores of class labels: accuracy, balanced accuracy, and the macro precision, recall
and F1 over the classes present (F1 of class 1 alone: :func:`f1_binary`), weighted by
sample.

Documented and imported as :mod:`deltarule.metrics`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._metrics_inputs import _check_pair, _takes_sklearn_names
from ._metrics_labels import THRESHOLD, _classify, _labels, _threshold, is_multilabel
from ._typing import Array
from .exceptions import InputError


def _mean(values: np.ndarray, w: Array | None) -> float:
    return float(np.average(values, weights=w))


def _divide(numerator: Array, denominator: Array) -> Array:
    """Element-wise ratio, 0 where the denominator is 0 (``zero_division=0``)."""
    out = np.zeros_like(numerator, dtype=np.float64)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _class_counts(
    output: Any, target: Any, sample_weight: Any, multilabel: bool | None, threshold: Any
) -> tuple[Array, Array, Array]:
    """Return (true positives, predicted, actual) weighted counts of each class averaged over."""
    y_true, y_pred, w, n, ml = _classify(output, target, sample_weight, multilabel, threshold)
    if ml:
        weights = np.ones(y_true.shape[0]) if w is None else w
        return weights @ (y_true & y_pred), weights @ y_pred, weights @ y_true
    tp, predicted, actual = _per_class(y_true, y_pred, n, w)
    present = np.zeros(n, dtype=bool)
    present[y_true], present[y_pred] = True, True  # presence ignores weights, as in sklearn
    return tp[present], predicted[present], actual[present]


def _per_class(
    y_true: np.ndarray, y_pred: np.ndarray, n: int, w: Array | None
) -> tuple[Array, Array, Array]:
    """Each of the ``n`` classes' (true positives, predicted, actual) counts, weighted by
    ``w``: the confusion matrix's diagonal, column and row sums, as scikit-learn counts them,
    without the n x n matrix (16,000 classes: 2 GB, for 2,000 rows)."""
    hit = y_true == y_pred
    tp = np.bincount(y_true[hit], weights=None if w is None else w[hit], minlength=n)
    return (
        tp,
        np.bincount(y_pred, weights=w, minlength=n),
        np.bincount(y_true, weights=w, minlength=n),
    )


@_takes_sklearn_names(True)
def accuracy(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Fraction of examples classified correctly, :math:`\sum_i s_i [\hat y_i = y_i]/\sum_i s_i`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    For multi-label targets an example counts only if every column is right
    (subset accuracy).
    """
    y_true, y_pred, w, _, ml = _classify(output, target, sample_weight, multilabel, threshold)
    return _mean((y_true == y_pred).all(axis=1) if ml else y_true == y_pred, w)


def _balanced(y_true: np.ndarray, y_pred: np.ndarray, w: Array | None, n: int) -> float:
    tp, _, support = _per_class(y_true, y_pred, n, w)
    seen = support > 0
    return float(np.mean(tp[seen] / support[seen]))


@_takes_sklearn_names(True)
def balanced_accuracy(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Mean recall over the classes in the targets, :math:`\frac1K\sum_k C_{kk}/\sum_j C_{kj}`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    Multi-label: the mean of each column's binary balanced accuracy.
    """
    y_true, y_pred, w, n, ml = _classify(output, target, sample_weight, multilabel, threshold)
    if ml:
        columns = range(y_true.shape[1])
        return float(np.mean([_balanced(y_true[:, k], y_pred[:, k], w, 2) for k in columns]))
    return _balanced(y_true, y_pred, w, n)


@_takes_sklearn_names(True)
def precision(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Macro precision :math:`\frac1K\sum_k TP_k/(TP_k + FP_k)`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).
    """
    tp, predicted, _ = _class_counts(output, target, sample_weight, multilabel, threshold)
    return float(_divide(tp, predicted).mean())


@_takes_sklearn_names(True)
def recall(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Macro recall :math:`\frac1K\sum_k TP_k/(TP_k + FN_k)`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).
    """
    tp, _, actual = _class_counts(output, target, sample_weight, multilabel, threshold)
    return float(_divide(tp, actual).mean())


@_takes_sklearn_names(True)
def f1(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Macro F1 :math:`\frac1K\sum_k 2TP_k/(2TP_k + FP_k + FN_k)`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    The mean over the classes present (every column for multi-label), two classes
    included: ``sklearn.metrics.f1_score(..., average="macro")``, not its default
    ``average="binary"`` (that is :func:`f1_binary`). Registered as ``"f1"``,
    ``"f1_macro"`` and ``"f1_score"``.
    """
    tp, predicted, actual = _class_counts(output, target, sample_weight, multilabel, threshold)
    return float(_divide(2 * tp, predicted + actual).mean())


@_takes_sklearn_names(True)
def f1_binary(
    output: Any, target: Any, sample_weight: Any = None, *, threshold: float = THRESHOLD
) -> float:
    r"""F1 of class 1 of a two-class target, :math:`2TP/(2TP + FP + FN)`; 0 when undefined.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    For one sigmoid column (class 1: output above ``threshold``, 0.5) or two one-hot
    columns (class 1: the second). This is ``sklearn.metrics.f1_score``'s default,
    ``average="binary"`` with ``pos_label=1``; registered as ``"f1_binary"``.

    Raises
    ------
    InputError
        For more than two columns, or multi-label targets: use :func:`f1` (macro).
    """
    o, t, w = _check_pair(output, target, sample_weight, None)
    if o.shape[1] > 2 or is_multilabel(t):
        kind = "multi-label targets" if is_multilabel(t) else f"{o.shape[1]} output columns"
        raise InputError(
            f"f1_binary scores a two-class target (one sigmoid column, or two one-hot "
            f"columns); received {kind}. Use 'f1' (macro F1) for several classes or labels."
        )
    cut = _threshold(threshold)
    y_true, y_pred = _labels(t, False, cut), _labels(o, False, cut)
    weights = np.ones(y_true.size) if w is None else w
    denominator = weights @ y_true + weights @ y_pred  # 2TP + FP + FN
    return float(2 * (weights @ (y_true & y_pred)) / denominator) if denominator else 0.0
