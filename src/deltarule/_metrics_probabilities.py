"""The scores of outputs read as class probabilities: the log loss (cross-entropy) and the
area under the ROC curve.

Documented and imported as :mod:`deltarule.metrics`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._metrics_classification import _mean
from ._metrics_inputs import F64, _blocks, _check_pair, _takes_sklearn_names
from ._metrics_labels import THRESHOLD, _labels, _threshold, is_multilabel
from ._typing import Array
from .exceptions import InputError


@_takes_sklearn_names(True)
def log_loss(
    output: Any, target: Any, sample_weight: Any = None, *, multilabel: bool | None = None
) -> float:
    r"""Cross-entropy of the output probabilities, clipped to :math:`[\epsilon, 1-\epsilon]`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    Several columns: :math:`-\sum_k t_k \log o_k` per example. One column or
    multi-label: each column is a binary problem with probabilities
    :math:`(1 - o_k, o_k)`, and the per-column losses are averaged. Then the
    weighted mean over examples. :math:`\epsilon` is the machine epsilon of the
    output's dtype, as in ``sklearn.metrics.log_loss``.

    Multi-label differs from ``sklearn.metrics.log_loss`` on purpose: this is the
    mean binary cross-entropy the network trains on (the mean over the columns of
    ``log_loss(target[:, k], output[:, k], labels=[0, 1])``), while scikit-learn reads
    the row as one label's probabilities and scores its 1s only.
    """
    dtype = np.asarray(output).dtype
    eps = np.finfo(dtype if dtype.kind == "f" else np.float64).eps  # (float16's too)
    o, t, w = _check_pair(output, target, sample_weight, None)
    low, high = float(t.min()), float(t.max())
    if low < 0 or high > 1:  # (-1/+1 targets gave a negative "loss")
        raise InputError(
            f"log_loss needs targets that are class probabilities in [0, 1] (0/1 labels, "
            f"one-hot rows); received values from {low:g} to {high:g}. Score -1/+1 targets "
            "with accuracy (or map them to 0/1: (t + 1) / 2)."
        )
    ml = is_multilabel(t) if multilabel is None else bool(multilabel)
    if ml or o.shape[1] == 1:
        o, t = o.astype(F64, copy=False), t.astype(F64, copy=False)
        p, q = np.clip(o, eps, 1 - eps), np.clip(1 - o, eps, 1 - eps)
        per_sample = -(t * np.log(p) + (1 - t) * np.log(q)).mean(axis=1)
    elif _one_hot(t):
        # -sum_k t_k log o_k of a one-hot row is -log o_c of its class c, bit for bit (the
        # other terms are -0.0): no (n_samples, n_classes) temporaries for many classes
        picked = o[np.arange(o.shape[0]), _labels(t, False)].astype(F64)
        per_sample = -np.log(np.clip(picked, eps, 1 - eps))
    else:
        o, t = o.astype(F64, copy=False), t.astype(F64, copy=False)
        per_sample = -(t * np.log(np.clip(o, eps, 1 - eps))).sum(axis=1)
    return _mean(per_sample, w)


@_takes_sklearn_names(True)
def roc_auc(
    output: Any,
    target: Any,
    sample_weight: Any = None,
    *,
    multilabel: bool | None = None,
    threshold: float = THRESHOLD,
) -> float:
    r"""Area under the ROC curve: the chance that a row of a class outscores a row not of
    it (ties count half), rows weighted by ``sample_weight``.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_score)``
    (or name them: ``y_true=``, ``y_pred=``).

    One output column scores class 1 (the target's rows above ``threshold``); two one-hot
    columns, the second column class 1: ``sklearn.metrics.roc_auc_score`` of those scores.
    More classes, or multi-label targets: the mean over the columns of each one's
    one-vs-rest area, ``roc_auc_score(..., average="macro", multi_class="ovr")``. A column
    whose target rows hold one class only has no area and is left out of the mean; with
    none left the result is NaN (where scikit-learn raises), so a validation split that
    misses a class does not stop training. Exact (Keras's ``AUC`` interpolates a curve of
    200 thresholds by default). Registered as ``"roc_auc"``, ``"auc"`` and
    ``"roc_auc_score"``.
    """
    o, t, w = _check_pair(output, target, sample_weight, None)
    ml = is_multilabel(t) if multilabel is None else bool(multilabel)
    cut = _threshold(threshold)
    if ml:
        truth = t > np.float64(cut)
        columns = range(o.shape[1])
    else:
        labels = _labels(t, False, cut)
        if o.shape[1] == 1:
            return _binary_auc(labels == 1, o[:, 0], w)
        truth = labels[:, None] == np.arange(o.shape[1])
        columns = [1] if o.shape[1] == 2 else range(o.shape[1])
    areas = [_binary_auc(truth[:, k], o[:, k], w) for k in columns]
    defined = [area for area in areas if not np.isnan(area)]
    return float(np.mean(defined)) if defined else float("nan")


def _binary_auc(positive: np.ndarray, scores: Array, w: Array | None) -> float:
    """The weighted area under one column's ROC curve (Mann–Whitney: the weight of the
    (positive, negative) pairs ordered right, ties half, over all such pairs), or NaN
    without weight on both classes."""
    weights = np.ones(positive.size) if w is None else w
    pos = np.where(positive, weights, 0.0)
    neg = weights - pos
    total_pos, total_neg = pos.sum(), neg.sum()
    if not (total_pos > 0 and total_neg > 0):
        return float("nan")
    values, group = np.unique(scores, return_inverse=True)
    neg_at = np.bincount(group, weights=neg, minlength=values.size)
    pos_at = np.bincount(group, weights=pos, minlength=values.size)
    below = np.cumsum(neg_at) - neg_at  # (negative weight scored lower than each value)
    return float(pos_at @ (below + 0.5 * neg_at) / (total_pos * total_neg))


def _one_hot(t: Array) -> bool:
    """Whether every row of ``t`` is 0s and exactly one 1, a block of rows at a time."""
    return all(
        ((block == 0) | (block == 1)).all() and (block.sum(axis=1) == 1).all()
        for block in _blocks(t)
    )
