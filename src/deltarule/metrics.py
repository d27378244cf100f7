r"""Metrics: how good a network's outputs are, scored as scikit-learn scores them.

.. warning::
   **The arguments are** ``(output, target)``: **the network's outputs first, the targets
   second, the reverse of scikit-learn's and Keras's** ``(y_true, y_pred)``. Swapped
   arguments give another number (``log_loss`` and ``r2`` are not symmetric, and
   ``precision`` becomes recall). Pass ``y_true=`` and ``y_pred=`` as keywords to use
   scikit-learn's names in any order. A positional call whose ``output`` is exact one-hot
   (or 0/1) rows while ``target`` holds fractional probabilities, which reads as
   ``(y_true, y_pred)``, is refused by the classification metrics and ``log_loss``.

Every metric reads *network outputs* and *targets as the network sees them*,
both of shape (n_samples, n_outputs), and returns a Python float. Classification
metrics first turn rows into class labels: :math:`[o > 0.5]` for one column
(a sigmoid output), :math:`\arg\max_k o_k` for several (softmax, or the
tutorial's 0.01/0.99 targets), and :math:`[o_k > 0.5]` column by column for
multi-label 0/1 targets, read from the targets by :func:`is_multilabel` unless
the caller passes ``multilabel=True`` or ``False``. The 0.5 is a keyword,
``threshold``: a tanh output with -1/+1 targets (FANN's convention) is split at 0,
the midpoint of its range (:func:`class_threshold`), and training passes that
midpoint for the network's output activation. With per-sample weights
:math:`s_i` every average over samples is weighted,
:math:`\bar m = \sum_i s_i m_i / \sum_i s_i`. Precision, recall and F1 are macro
averages over the classes present in the true or predicted labels (every column
for multi-label), a class with an empty denominator scoring 0, as scikit-learn
does with ``average="macro", zero_division=0`` -- not scikit-learn's default
``average="binary"``: ``"f1"`` (alias ``"f1_score"``) is macro F1 even for two
classes; ``"f1_binary"`` is the F1 of class 1 alone, scikit-learn's default for
two-class targets.

Exceptions to scikit-learn:

- multi-label :func:`log_loss` is the mean of the per-column binary log losses
  (the binary cross-entropy the network trains on). ``sklearn.metrics.log_loss``
  reads such a row as the probabilities of one multi-class label (warning that they
  do not sum to one) and scores only its 1s, :math:`-\sum_k t_k \log o_k`, so that a
  wrong "yes" on a 0 column costs nothing.
- :func:`r2` is NaN for fewer than two samples, as in scikit-learn, but without
  its ``UndefinedMetricWarning`` (a training run would warn every epoch).

Examples
--------
>>> import numpy as np
>>> output = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
>>> target = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
>>> accuracy(output, target)
0.6666666666666666
>>> get_metric("f1_macro")(output, target)
0.6666666666666666
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import numbers
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._typing import Array
from ._validation import (
    FLOAT_DTYPES,
    as_float_array,
    check_int,
    check_sample_weight,
    continuous_column,
    lookup,
    register,
)
from .exceptions import InputError
from .history import COLUMNS

__all__ = [
    "Metric", "METRICS", "get_metric", "metric_list", "register_metric", "check_targets",
    "is_multilabel",
    "predicted_labels", "target_labels", "all_correct", "class_threshold", "confusion_matrix",
    "accuracy", "balanced_accuracy", "log_loss", "precision", "recall", "f1", "f1_binary",
    "roc_auc", "mean_squared_error", "mean_absolute_error", "r2", "bit_fail",
]  # fmt: skip

THRESHOLD = 0.5
"""A single output (or a multi-label column) predicts class 1 when it is above this, by
default (``threshold=``; :func:`class_threshold` for an output activation)."""

TASKS = ("classification", "regression")
F64 = np.dtype(np.float64)

MAX_CLASSES = 4096
"""The most classes :func:`confusion_matrix` infers from the labels (a matrix of 16.8
million cells, 134 MB); a larger label is refused as a mistake unless ``n_classes`` says
so (``confusion_matrix([0], [10**6])`` would otherwise try 7.3 TiB)."""

RESERVED_NAMES = COLUMNS
"""The training history's own columns, which a :class:`Metric` cannot be named."""


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


def _not_none(data: Any, name: str) -> Any:
    if data is None:
        raise InputError(
            f"{name} is None; expected an array of numbers. Pass the network's outputs and "
            "the targets, e.g. metric(network.predict(X), y)."
        )
    return data


def _as_2d(data: Any, name: str, dtype: np.dtype | None = F64) -> Array:
    """``data`` validated as a 2-D float array of ``dtype``; ``None``: a float32 or float64
    NumPy array as it is (no copy), anything else as float64 (:func:`_read_as`)."""
    dtype = _read_as(data) if dtype is None else dtype
    memo, key = _MEMO.get(), (id(data), name, dtype)
    if memo is not None and key in memo:
        return memo[key][1]
    try:
        array = as_float_array(_not_none(data, name), name, dtype)
    except InputError:
        if name == "output" and _holds_non_finite_numbers(data):
            raise InputError(
                "output contains NaN or infinity; expected the finite outputs of a network. "
                "A network's outputs overflow when its weights blew up (training diverged: "
                "retrain with a lower learning rate) or its inputs are far larger than the "
                "training data were (scale them alike)."
            ) from None
        raise
    array = array.reshape(-1, 1) if array.ndim == 1 else array
    if memo is not None:
        memo[key] = (data, array)  # (``data`` kept alive: its id stays its own)
    return array


def _read_as(data: Any) -> np.dtype:
    """The dtype class labels are read from ``data`` in: a float32 or float64 array's own
    (float32 read as float64 gives the same labels, every float32 being a float64, so the
    (n_samples, n_classes) array is not copied), float64 for anything else."""
    dtype = getattr(data, "dtype", None)
    return dtype if isinstance(data, np.ndarray) and dtype in FLOAT_DTYPES else F64


_MEMO: ContextVar[dict | None] = ContextVar("deltarule_metric_inputs", default=None)
"""Inputs read once and shared by the metrics called within :func:`shared_inputs`."""


@contextlib.contextmanager
def shared_inputs() -> Iterator[None]:
    """Within it, metrics called on the same array objects check and read them once: their
    validation, multi-label test and class labels are computed for the first metric and
    reused by the others (:func:`check_targets` scores every metric on ``(y, y)``: one
    O(n_samples x n_outputs) pass instead of one per metric). The arrays must not change
    inside."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(kind: str, array: Array, *more: Any) -> tuple[dict | None, tuple]:
    """The memo of :func:`shared_inputs` (None outside) and ``array``'s key in it."""
    memo = _MEMO.get()
    key = (kind, id(array), *more)
    return memo, key


def _blocks(array: Array, entries: int = 1 << 20) -> Iterator[Array]:
    """The rows of a 2-D ``array`` in blocks of about ``entries`` values: an element-wise
    test over the blocks takes no (n_samples, n_outputs) temporary."""
    rows = max(1, entries // max(1, array.shape[1]))
    for start in range(0, array.shape[0], rows):
        yield array[start : start + rows]


def _zeros_and_ones(array: Array) -> bool:
    """Whether every value of the 2-D ``array`` is 0 or 1 (``np.isin(array, (0, 1)).all()``)."""
    return all(((block == 0) | (block == 1)).all() for block in _blocks(array))


def _holds_non_finite_numbers(data: Any) -> bool:
    """Whether ``data`` is an array of real numbers some of which are NaN or infinite."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind == "f" and not np.isfinite(array).all()


_ORDER = (
    "deltarule's metrics take (output, target), the network's outputs first: the reverse "
    "of scikit-learn's and Keras's (y_true, y_pred)"
)


def _refuse_swapped(name: str, output: Any, target: Any) -> None:
    """Refuse ``name(output, target)`` when it reads as ``name(y_true, y_pred)``: ``output``
    exact one-hot rows (or one 0/1 column) and ``target`` fractional probabilities (more
    than two values, so not the tutorial's 0.01/0.99 targets), which a network's outputs
    are and targets are not."""
    try:  # (float32 arrays as they are: the same values, without a float64 copy)
        o, t = (np.asarray(x, dtype=_read_as(x)) for x in (output, target))
    except (TypeError, ValueError):
        return  # (refused with its own message by the metric)
    if o.shape != t.shape or o.size == 0:
        return
    o2 = o.reshape(len(o), -1) if o.ndim else o
    if o2.ndim == 2 and not _zeros_and_ones(o2):  # (a network's outputs: the usual answer)
        return
    if not np.isfinite(t).all():
        return
    exact = np.isin(o2, (0.0, 1.0)).all() and (o2.shape[1] == 1 or (o2.sum(axis=1) == 1).all())
    inside = (t >= 0).all() and (t <= 1).all()
    if exact and inside and np.unique(t).size > 2:
        raise InputError(
            f"{name}(output, target) received exact 0/1 class rows as output and fractional "
            f"probabilities as target; {_ORDER}. Swap the arguments ({name}(y_pred, y_true)), "
            f"or name them: {name}(y_true=..., y_pred=...)."
        )


def _sklearn_names(name: str, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Map scikit-learn's ``y_true=`` / ``y_pred=`` keywords to ``(output, target)``."""
    given = [key for key in ("y_true", "y_pred", "output", "target") if key in kwargs]
    if args or given not in (["y_true", "y_pred"],):
        raise InputError(
            f"{name} received {', '.join(f'{key}=' for key in given)} with "
            f"{len(args)} positional argument(s); expected y_true= and y_pred= together as "
            f"keywords (scikit-learn's names), or (output, target) alone: {_ORDER}."
        )
    target, output = kwargs.pop("y_true"), kwargs.pop("y_pred")
    return (output, target), kwargs


def _takes_sklearn_names(classifies: bool) -> Callable[[Callable[..., float]], Callable]:
    """Let a metric ``f(output, target, ...)`` also be called ``f(y_true=..., y_pred=...)``;
    with ``classifies``, refuse positional calls that read as swapped (:func:`_refuse_swapped`).

    Training calls the undecorated function (:class:`Metric`): no check there each epoch."""

    def decorate(function: Callable[..., float]) -> Callable[..., float]:
        @functools.wraps(function)
        def metric(*args: Any, **kwargs: Any) -> float:
            if "y_true" in kwargs or "y_pred" in kwargs:
                args, kwargs = _sklearn_names(function.__name__, args, kwargs)
            elif classifies and len(args) >= 2:
                _refuse_swapped(function.__name__, args[0], args[1])
            return function(*args, **kwargs)

        metric.unchecked = function  # type: ignore[attr-defined]
        return metric

    return decorate


def _check_pair(
    output: Any, target: Any, sample_weight: Any, dtype: np.dtype | None = F64
) -> tuple[Array, Array, Array | None]:
    """Return output, target (2-D, same shape; float64, or with ``dtype=None`` float32 arrays
    as they are: :func:`_read_as`) and the sample weights (float64)."""
    o, t = _as_2d(output, "output", dtype), _as_2d(target, "target", dtype)
    if o.shape != t.shape:
        raise InputError(
            f"output has shape {o.shape} but target has shape {t.shape}; expected the same "
            "shape (n_samples, n_outputs). Encode targets as the network sees them: one-hot "
            "rows for classes, one 0/1 column for a single sigmoid output."
        )
    return o, t, check_sample_weight(sample_weight, o.shape[0], F64)


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


@_takes_sklearn_names(False)
def mean_squared_error(output: Any, target: Any, sample_weight: Any = None) -> float:
    r"""Mean squared error :math:`\frac{1}{K}\sum_k \overline{(t_k - o_k)^2}`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).
    """
    o, t, w = _check_pair(output, target, sample_weight)
    return float(np.average((t - o) ** 2, axis=0, weights=w).mean())


@_takes_sklearn_names(False)
def mean_absolute_error(output: Any, target: Any, sample_weight: Any = None) -> float:
    r"""Mean absolute error :math:`\frac{1}{K}\sum_k \overline{|t_k - o_k|}`.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).
    """
    o, t, w = _check_pair(output, target, sample_weight)
    return float(np.average(np.abs(t - o), axis=0, weights=w).mean())


BIT_FAIL_LIMIT = 0.35
"""FANN's default ``bit_fail_limit``: an output further than this from its target fails."""


@_takes_sklearn_names(False)
def bit_fail(
    output: Any, target: Any, sample_weight: Any = None, limit: float = BIT_FAIL_LIMIT
) -> float:
    r"""FANN's bit-fail count: how many output values miss their target by more than
    ``limit``, :math:`\sum_i s_i\,|\{k : |t_{ik} - o_{ik}| > \text{limit}\}|` (each row's
    count times its weight, 1 without weights).

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    FANN trains "until no bit fails" with its BIT stop function; here that is
    ``metrics=["bit_fail"]`` with ``callbacks=[TargetError(0, monitor="bit_fail")]``. For
    another limit, register ``Metric("bit_fail_0.1", functools.partial(bit_fail,
    limit=0.1), False, "regression")``.
    """
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 0:
        raise InputError(
            f"bit_fail's limit must be a number >= 0 (how far an output may miss its "
            f"target); received {limit!r}. FANN's default is {BIT_FAIL_LIMIT}."
        )
    o, t, w = _check_pair(output, target, sample_weight)
    fails = (np.abs(t - o) > limit).sum(axis=1)
    return float(fails.sum() if w is None else np.dot(fails, w))


@_takes_sklearn_names(False)
def r2(output: Any, target: Any, sample_weight: Any = None) -> float:
    r"""Coefficient of determination :math:`R^2_k = 1 - \sum_i s_i (t_{ik} - o_{ik})^2 /
    \sum_i s_i (t_{ik} - \bar t_k)^2`, averaged uniformly over the outputs.

    Arguments: ``(output, target)``, the reverse of scikit-learn's ``(y_true, y_pred)``
    (or name them: ``y_true=``, ``y_pred=``).

    An output whose target is constant scores 1.0 if predicted exactly and 0.0
    otherwise (scikit-learn's ``force_finite``). Fewer than two samples give NaN, as
    in scikit-learn (which warns too): R² is undefined, there being no spread to
    explain.
    """
    o, t, w = _check_pair(output, target, sample_weight)
    if o.shape[0] < 2:
        return float("nan")
    weight = 1.0 if w is None else w[:, None]
    numerator = (weight * (t - o) ** 2).sum(axis=0)
    denominator = (weight * (t - np.average(t, axis=0, weights=w)) ** 2).sum(axis=0)
    scores = np.where(numerator == 0, 1.0, 0.0)
    valid = (numerator != 0) & (denominator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    return float(scores.mean())


@dataclass(frozen=True)
class Metric:
    """A named metric ``function(output, target, sample_weight) -> float``.

    ``greater_is_better`` says which way is an improvement (True for accuracy,
    False for errors); ``task`` is ``"classification"`` or ``"regression"``.
    A function with a ``threshold`` keyword (this module's classification metrics) is
    given the caller's ``threshold`` (training: :func:`class_threshold` of the output
    activation); others are called without it.
    ``name`` is the metric's column in the training history (and ``val_`` + name the
    validation one), so it cannot be one of :data:`RESERVED_NAMES` or start with
    ``val_``.
    """

    name: str
    function: Callable[[Array, Array, Array | None], float]
    greater_is_better: bool
    task: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError(
                f"Metric name must be a non-empty string; received {self.name!r}. Name it "
                "as its history column should read, e.g. Metric('max_error', ...)."
            )
        if self.name in RESERVED_NAMES or self.name.startswith("val_"):
            why = (
                f"the training history's own column {self.name!r} ({', '.join(RESERVED_NAMES)})"
                if self.name in RESERVED_NAMES
                else "a validation column: the history records a metric 'x' as 'x' on the "
                "training data and 'val_x' on the validation data"
            )
            raise InputError(
                f"Metric name {self.name!r} would overwrite {why}. Choose another name, "
                f"e.g. {('my_' + self.name.removeprefix('val_'))!r}."
            )
        if not callable(self.function):
            raise InputError(f"Metric {self.name!r}: function must be callable.")
        if self.task not in TASKS:
            raise InputError(f"Metric {self.name!r}: task={self.task!r}; expected one of {TASKS}.")
        _check_signature(self.name, self.function)
        object.__setattr__(self, "_takes_threshold", _has_keyword(self.function, "threshold"))

    def __call__(
        self, output: Any, target: Any, sample_weight: Any = None, *, threshold: float = THRESHOLD
    ) -> float:
        # this module's metrics without their check of a swapped call (training's order is
        # right, and a saturated network's outputs may be exact 0/1)
        function = getattr(self.function, "unchecked", self.function)
        if threshold != THRESHOLD and self._takes_threshold:
            value = function(output, target, sample_weight, threshold=threshold)
        else:
            value = function(output, target, sample_weight)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InputError(
                f"Metric {self.name!r} returned {type(value).__name__} "
                f"{getattr(value, 'shape', '')} {value!r:.60}; expected one float, "
                "fn(output, target, sample_weight) -> float (average over the outputs, "
                "e.g. float(np.abs(output - target).max()))."
            ) from None


def _check_signature(name: str, function: Callable[..., Any]) -> None:
    """Refuse a function that cannot be called as ``function(output, target, sample_weight)``
    (checked on its signature, when it has one: nothing is computed)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # (a callable without a signature)
        return
    try:
        signature.bind(None, None, None)
    except TypeError as exc:
        raise InputError(
            f"Metric {name!r}: function{signature} cannot be called with three arguments "
            f"({exc}); expected fn(output, target, sample_weight) -> float, the network's "
            "outputs first (sample_weight is None when no weights are given), e.g. "
            "lambda output, target, sample_weight: float(np.abs(output - target).max())."
        ) from None


def _has_keyword(function: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):  # (a callable without a signature)
        return False


METRICS: dict[str, Metric] = {}
"""The registry: name -> :class:`Metric`. Aliases map to the same object.

==================== ======================================= ================================
name                 aliases                                 what
==================== ======================================= ================================
accuracy             acc, accuracy_score                     exact match (subset for labels)
balanced_accuracy    balanced_acc                            macro recall over true classes
log_loss             cross_entropy, logloss                  per-column mean for multi-label
precision            precision_macro                         macro average
recall               recall_macro                            macro average
f1                   f1_macro, f1_score                      macro average, two classes too
f1_binary                                                    F1 of class 1, two classes only
roc_auc              auc, roc_auc_score                      area under ROC; macro one-vs-rest
mse                  mean_squared_error                      mean over outputs
mae                  mean_absolute_error                     mean over outputs
r2                   r2_score, r_squared                     mean over outputs; NaN < 2 rows
bit_fail             bitfail                                 FANN's count of |t - o| > 0.35
==================== ======================================= ================================
"""

for _metric, _aliases in [
    (Metric("accuracy", accuracy, True, "classification"), ("acc", "accuracy_score")),
    (Metric("balanced_accuracy", balanced_accuracy, True, "classification"), ("balanced_acc",)),
    (Metric("log_loss", log_loss, False, "classification"), ("cross_entropy", "logloss")),
    (Metric("precision", precision, True, "classification"), ("precision_macro",)),
    (Metric("recall", recall, True, "classification"), ("recall_macro",)),
    (Metric("f1", f1, True, "classification"), ("f1_macro", "f1_score")),  # macro, not binary
    (Metric("f1_binary", f1_binary, True, "classification"), ()),
    (Metric("roc_auc", roc_auc, True, "classification"), ("auc", "roc_auc_score")),
    (Metric("mse", mean_squared_error, False, "regression"), ("mean_squared_error",)),
    (Metric("mae", mean_absolute_error, False, "regression"), ("mean_absolute_error",)),
    (Metric("r2", r2, True, "regression"), ("r2_score", "r_squared")),
    (Metric("bit_fail", bit_fail, False, "regression"), ("bitfail",)),
]:
    METRICS.update(dict.fromkeys((_metric.name, *_aliases), _metric))


def register_metric(
    metric: Metric, *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> Metric:
    """Add ``metric`` to :data:`METRICS` under its name (and ``aliases``), lower-cased, so
    that ``metrics=[name]`` finds it.

    Raises
    ------
    InputError
        If ``metric`` is not a :class:`Metric`, a name is not a non-empty string without
        spaces or commas, or a name is taken and ``overwrite`` is False.
    """
    if not isinstance(metric, Metric):
        raise InputError(
            f"register_metric expects a deltarule.metrics.Metric; received "
            f"{type(metric).__name__}. Wrap a function: Metric('my_metric', fn, "
            "greater_is_better=True, task='regression')."
        )
    register(METRICS, metric, metric.name, aliases, "metric", overwrite)
    return metric


def get_metric(metric: str | Metric) -> Metric:
    """Return the :class:`Metric` for a registry name, or the object itself (a custom metric)."""
    if isinstance(metric, Metric):
        return metric
    if callable(metric) and not isinstance(metric, str):
        name = getattr(metric, "__name__", type(metric).__name__)
        raise InputError(
            f"a metric must be given by name (a string) or as a deltarule.metrics.Metric; "
            f"received the function {name}. Wrap it: Metric('my_metric', fn, "
            "greater_is_better=True, task='classification') (or task='regression'), where "
            "fn(output, target, sample_weight) returns a float (note the order: the "
            "network's outputs first, the reverse of scikit-learn's (y_true, y_pred))."
        )
    return lookup(METRICS, metric, "metric")


def metric_list(metrics: Any) -> list[Any] | None:
    """``metrics`` as a list of names and metrics: one name (not its letters) or one
    :class:`Metric` becomes a list of it; a list or tuple is copied; None stays None; anything
    else (a number, a dict, an array) is an InputError."""
    if metrics is None:
        return None
    if isinstance(metrics, (str, Metric)):
        return [metrics]
    if isinstance(metrics, (list, tuple)):
        return list(metrics)
    raise InputError(
        f"metrics must be a name ('accuracy', 'mse', ...), a deltarule.metrics.Metric or a "
        f"list of them; received {type(metrics).__name__} {metrics!r:.60}."
    )


def check_targets(metrics: list[Metric], y: Array, classification: bool) -> None:
    """Refuse metrics that cannot score targets ``y`` before they are used.

    A metric of this module is tried on ``(y, y)`` (what it refuses, e.g. ``f1_binary`` on
    three classes); a classification metric (accuracy, F1, ...) is refused on regression
    targets, which it would score by thresholding real numbers at 0.5 (a number, and a
    meaningless one). Class targets under a regression loss (the tutorial's 0.01/0.99) are
    fine; ``classification`` says whether the network's loss is a classification loss.

    Raises
    ------
    InputError
        Naming the metric, the targets and what to use instead.
    """
    with shared_inputs():  # (y read once, however many metrics)
        for metric in metrics:  # this module's own: what they refuse, before any use
            if getattr(metric.function, "__module__", None) == __name__:
                try:
                    metric(y, y)
                except InputError as exc:
                    message = f"metric {metric.name!r} cannot score these targets: {exc}"
                    raise InputError(message) from None
    wrong = [m.name for m in metrics if m.task == "classification"]
    column = None if classification or not wrong else continuous_column(y)
    if column is None:
        return
    values = np.asarray(y).reshape(len(y), -1)[:, column]
    raise InputError(
        f"metrics {wrong} score class predictions, but the targets are numbers: column "
        f"{column} of y holds {np.unique(values).size} different values, from "
        f"{values.min():g} to {values.max():g} (class targets hold at most two values a "
        "column). Use regression metrics (mae, mse, r2), or class targets with a "
        "classification loss."
    )
