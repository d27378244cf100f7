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

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._metrics_classification import accuracy, balanced_accuracy, f1, f1_binary, precision, recall
from ._metrics_inputs import F64 as F64
from ._metrics_inputs import shared_inputs
from ._metrics_labels import MAX_CLASSES as MAX_CLASSES
from ._metrics_labels import (
    THRESHOLD,
    all_correct,
    class_threshold,
    confusion_matrix,
    is_multilabel,
    predicted_labels,
    target_labels,
)
from ._metrics_probabilities import log_loss, roc_auc
from ._metrics_regression import BIT_FAIL_LIMIT as BIT_FAIL_LIMIT
from ._metrics_regression import bit_fail, mean_absolute_error, mean_squared_error, r2
from ._typing import Array
from ._validation import continuous_column, lookup, register
from .exceptions import InputError
from .history import COLUMNS

__all__ = [
    "Metric", "METRICS", "get_metric", "metric_list", "register_metric", "check_targets",
    "is_multilabel",
    "predicted_labels", "target_labels", "all_correct", "class_threshold", "confusion_matrix",
    "accuracy", "balanced_accuracy", "log_loss", "precision", "recall", "f1", "f1_binary",
    "roc_auc", "mean_squared_error", "mean_absolute_error", "r2", "bit_fail",
]  # fmt: skip

# The metrics and helpers imported above are this module's: documented, pickled, and
# tried by check_targets (a metric of this module's), under its name; the private
# _metrics_* modules only hold their code, a concept a file (as plots.InlineFigure).
for _function in (
    shared_inputs, class_threshold, is_multilabel, predicted_labels, target_labels, all_correct,
    confusion_matrix, accuracy, balanced_accuracy, precision, recall, f1, f1_binary, log_loss,
    roc_auc, mean_squared_error, mean_absolute_error, bit_fail, r2,
):  # fmt: skip
    _function.__module__ = __name__

TASKS = ("classification", "regression")

RESERVED_NAMES = COLUMNS
"""The training history's own columns, which a :class:`Metric` cannot be named."""


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
