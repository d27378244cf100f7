"""The early-stopping scores, as scikit-learn's metrics compute them, without their checks.

With ``early_stopping=True`` the estimators score the held-out rows every epoch: accuracy
for a classifier, R² for a regressor. ``sklearn.metrics.accuracy_score`` and ``r2_score``
validate and inspect their inputs on every call (~400 µs: as long as an epoch's training on
iris or wine). The targets here are the estimator's own, checked once when the fit began, so
:func:`accuracy` and :func:`r2` compute the same floats as those functions (scikit-learn >=
1.6: the same operations in the same order; the tests compare them for equality) for the
common cases, and :func:`fast_case` says which those are; anything else goes to
scikit-learn's function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy", "fast_case", "r2"]


def fast_case(y: Any, sample_weight: Any) -> bool:
    """True for targets and weights the functions here take: NumPy arrays of numbers (or of
    strings, for labels), one row each, and weights None or a 1-D array of floats."""
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "biufU" or y.ndim not in (1, 2):
        return False
    if sample_weight is None:
        return True
    return (
        isinstance(sample_weight, np.ndarray)
        and sample_weight.dtype.kind == "f"
        and sample_weight.shape == (len(y),)
    )


def accuracy(y: np.ndarray, predicted: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """``accuracy_score(y, predicted, sample_weight=...)`` for 1-D labels: the (weighted)
    fraction of rows whose label is right."""
    return float(np.average(y == predicted, weights=sample_weight))


def r2(y: np.ndarray, predicted: np.ndarray, sample_weight: np.ndarray | None) -> float:
    r"""``r2_score(y, predicted, sample_weight=...)`` with its defaults (the uniform mean
    over outputs; ``force_finite``): per output :math:`1 - \sum_i w_i (y_i - \hat y_i)^2 /
    \sum_i w_i (y_i - \bar y)^2`, 1 where both sums are 0 and 0 where only the second is.
    NaN (scikit-learn warns) for fewer than two rows."""
    floats = [
        a.dtype for a in (y, predicted, sample_weight) if a is not None and a.dtype.kind == "f"
    ]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)  # (scikit-learn's rule)
    y = np.asarray(y, dtype).reshape(len(y), -1)
    predicted = np.asarray(predicted, dtype).reshape(len(predicted), -1)
    if len(y) < 2:
        return float("nan")
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype)
    weight = 1.0 if weights is None else weights[:, None]
    numerator = np.sum(weight * (y - predicted) ** 2, axis=0)
    denominator = np.sum(weight * (y - np.average(y, axis=0, weights=weights)) ** 2, axis=0)
    scores = np.ones(y.shape[1], dtype=numerator.dtype)
    valid = (denominator != 0) & (numerator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(np.average(scores))
