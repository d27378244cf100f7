"""The scoring of :func:`deltarule.permutation_importance`: how a ``scoring`` (a metric's name,
a :class:`~deltarule.metrics.Metric`, or ``"loss"``) becomes a scorer ``scorer(X) -> float``
of a Network or of a predict function, with its name and whether greater is better; the
checks of ``task`` and of the targets a metric scores; and the refusal of a score that is
not finite, with what the metric needs of the data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._network_data import overflow_quietly
from ._typing import Array
from .exceptions import InputError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "LOSS_SCORING",
    "Scorer",
    "check_task",
    "finite_score",
    "network_scorer",
    "predict_scorer",
]


LOSS_SCORING = "loss"
"""The ``scoring`` name of the network's own error :math:`E` (an error: importance is the
increase in loss)."""

Scorer = Callable[[Any], float]
"""A scoring of the model on a table (the permuted ``X``): ``scorer(X) -> float``."""


def _metric(scoring: Any, y: Array, classification: bool) -> Any:
    """The :class:`~deltarule.metrics.Metric` ``scoring`` names, checked against ``y``."""
    from .exceptions import UnknownNameError
    from .metrics import METRICS, check_targets, get_metric

    try:
        metric = get_metric(scoring)
    except UnknownNameError:
        raise UnknownNameError(
            f"unknown scoring {scoring!r}; expected {LOSS_SCORING!r} (the network's error) or "
            f"a metric of deltarule.metrics.METRICS: {', '.join(sorted(METRICS))}."
        ) from None
    check_targets([metric], y, classification)
    return metric


def check_task(task: Any) -> str | None:
    """``task`` checked: "classification", "regression" or None."""
    from .metrics import TASKS

    if task is None or (isinstance(task, str) and task in TASKS):
        return task
    raise InputError(
        f"task must be 'classification', 'regression' or None; received {task!r:.60}. Pass "
        "task='classification' for a predict function of class scores (one-hot columns, or "
        "one 0/1 column), task='regression' for one of values."
    )


def network_scorer(
    network: Network, y: Array, weights: Array | None, scoring: Any, task: str | None
) -> tuple[str, bool, Scorer]:
    """(name, greater_is_better, scorer) of ``network`` on validated, dense data."""
    from .losses import CLASSIFICATION_LOSSES
    from .metrics import class_threshold

    classification = network.loss.name in CLASSIFICATION_LOSSES
    own = "classification" if classification else "regression"
    if task is not None and task != own:
        raise InputError(
            f"task={task!r}, but the network's loss {network.loss.name!r} makes it a {own}; "
            "a Network's task is its loss's: drop task= (it is for a predict function)."
        )
    if isinstance(scoring, str) and scoring.lower() == LOSS_SCORING:

        def error(X: Array) -> float:
            return network.evaluate_params(network.parameters, X, y, weights)

        return LOSS_SCORING, False, error
    if scoring is None:
        scoring = "accuracy" if classification else "r2"
    metric = _metric(scoring, y, classification)
    # (the network's own class decision, as Network.evaluate(metrics=[...]) makes it)
    cut = class_threshold(network.layers[-1].activation, y)

    def scorer(X: Array) -> float:
        with overflow_quietly():
            return metric(network.infer(X), y, weights, threshold=cut)

    return metric.name, metric.greater_is_better, scorer


def _class_targets(y: Array) -> None:
    """Refuse targets, said to be a classifier's, that are numbers: a column of more than
    two values, some outside [0, 1] (not one-hot rows, a 0/1 column or probabilities)."""
    from ._validation import continuous_column

    column = continuous_column(y)
    if column is None:
        return
    values = y[:, column]
    if values.min() >= 0 and values.max() <= 1:  # (probabilities: soft labels)
        return
    raise InputError(
        f"task='classification', but the targets are numbers: column {column} of y holds "
        f"{np.unique(values).size} different values, from {values.min():g} to "
        f"{values.max():g}; a classifier's targets as the network sees them are one-hot rows "
        "or a 0/1 column. Encode the classes so, or pass task='regression' for values."
    )


def predict_scorer(
    predict: Callable[[Any], Any],
    y: Array,
    weights: Array | None,
    scoring: Any,
    task: str | None,
) -> tuple[str, bool, Scorer]:
    """(name, greater_is_better, scorer) of a ``predict(X) -> outputs`` callable. Class
    metrics are refused on targets that are numbers (more than two values a column) unless
    ``task`` is "classification", as a Network's are unless its loss is a classification
    loss."""
    from .metrics import class_threshold

    if scoring is None and task is not None:
        scoring = "accuracy" if task == "classification" else "r2"
    if scoring is None or (isinstance(scoring, str) and scoring.lower() == LOSS_SCORING):
        raise InputError(
            f"permutation_importance of a predict function needs a metric to score its "
            f"outputs; received scoring={scoring!r} ({LOSS_SCORING!r} needs a Network). Pass "
            "scoring='accuracy' (class outputs) or scoring='r2' (values), or task="
            "'classification' or 'regression' for those, or pass the Network."
        )
    if task == "classification":
        _class_targets(y)
    metric = _metric(scoring, y, classification=task == "classification")
    cut = class_threshold(None, y)

    def scorer(X: Any) -> float:
        outputs = np.asarray(predict(X))
        outputs = outputs.reshape(-1, 1) if outputs.ndim == 1 else outputs
        if outputs.shape != y.shape:
            raise InputError(
                f"the predict function returned outputs of shape {outputs.shape} for "
                f"{y.shape[0]} rows; expected {y.shape}, one row per row of X and a column "
                "per column of y (targets as the network sees them: one-hot classes)."
            )
        return metric(outputs, y, weights, threshold=cut)

    return metric.name, metric.greater_is_better, scorer


_NEEDS = {
    "r2": "R² needs at least 2 rows",
    "roc_auc": "ROC AUC needs both classes among the targets: in each column it scores, "
    "rows of class 1 and of another class, with weight",
    LOSS_SCORING: "the network's error needs finite outputs (inputs or weights too large for "
    "its dtype overflow)",
}
"""What a metric that can be undefined (not finite) needs of the data, by name."""


def finite_score(value: float, name: str, what: str) -> float:
    if not np.isfinite(value):
        need = _NEEDS.get(name, f"{name} is not defined on these targets")
        raise InputError(
            f"the {name} of the model {what} is {value} (not a finite number), so no "
            f"importance can be measured; {need}. Check the data (the targets, the sample "
            f"weights) or choose another scoring."
        )
    return value
