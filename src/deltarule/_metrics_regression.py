"""The scores of real-valued outputs: mean squared and absolute errors, FANN's bit-fail
count and R².

Documented and imported as :mod:`deltarule.metrics`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._metrics_inputs import _check_pair, _takes_sklearn_names
from .exceptions import InputError


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
