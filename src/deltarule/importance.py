r"""Permutation feature importance: how much a score worsens when one input is shuffled.

The model is scored on ``(X, y)`` (the baseline :math:`s`); then, for each column :math:`j`
(or group of columns, such as a one-hot block), its rows are shuffled ``n_repeats`` times,
breaking its link with the target while keeping its distribution, and the model is scored
again (:math:`s_{jr}`). Column :math:`j`'s importance in repeat :math:`r` is

.. math:: I_{jr} = s - s_{jr} \quad\text{(a score, greater is better)},\qquad
          I_{jr} = s_{jr} - s \quad\text{(an error, such as the loss)},

so that, for every scoring, a large positive importance means the model relies on the
column, and an importance near 0 that it does not (negative: shuffling happened to help).
This is scikit-learn's ``sklearn.inspection.permutation_importance`` (Breiman, 2001), whose
``neg_*`` scorers give the same numbers for errors. Nothing is refitted: it says what *this*
model uses, not what the data holds (two correlated columns share their importance).

Randomness comes from ``seed`` alone: the permutations are drawn from
``numpy.random.default_rng(seed)``, ``rng.permutation(n_samples)`` for each column (group)
in order, ``n_repeats`` times each, one permutation applied to all of a group's columns.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2))
>>> y = (X[:, :1] > 0).astype(float)  # (the class depends on column 0 alone)
>>> net = dr.Network([2, 4, 1], output_activation="sigmoid", loss="binary_crossentropy",
...                  seed=0)
>>> history = net.fit(X, y, epochs=60, batch_size=None, learning_rate=0.1, target_error=0.05,
...                   seed=0, verbose=0)
>>> result = dr.permutation_importance(net, X, y, n_repeats=5, seed=0)
>>> result.importances.shape, result.scoring
((2, 5), 'accuracy')
>>> bool(result.importances_mean[0] > 0.3 > abs(result.importances_mean[1]))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _sparse
from ._importance_columns import column_groups, column_names, permuted, restore
from ._importance_result import PermutationImportance
from ._importance_scoring import (
    LOSS_SCORING,
    Scorer,
    check_task,
    finite_score,
    network_scorer,
    predict_scorer,
)
from ._typing import ArrayLike, SeedLike
from ._validation import as_float_array, check_sample_weight
from .exceptions import InputError
from .initializers import make_rng
from .network import Network

__all__ = ["LOSS_SCORING", "PermutationImportance", "permutation_importance"]


def _repeats(n_repeats: Any) -> int:
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)):
        raise InputError(
            f"n_repeats must be an integer >= 1 (how many times each column is shuffled); "
            f"received {type(n_repeats).__name__} {n_repeats!r:.60}. Pass e.g. n_repeats=5."
        )
    if n_repeats < 1:
        raise InputError(
            f"n_repeats must be >= 1 (how many times each column is shuffled); received "
            f"{n_repeats}. Pass e.g. n_repeats=5 (more repeats, a steadier mean)."
        )
    return int(n_repeats)


def _generator(seed: SeedLike) -> tuple[np.random.Generator, int | None]:
    """The permutations' generator and the int seed to record (None for a Generator).
    ``seed=None`` draws fresh entropy, recorded, so that the run can be repeated."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])  # (32 bits: shown)
    rng = make_rng(seed)
    return rng, None if isinstance(seed, np.random.Generator) else int(seed)


def _table(X: Any) -> Any:
    """A pandas DataFrame as it is; anything else as a 2-D array."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        return X
    if _sparse.is_sparse(X):
        X = X.toarray()
    table = np.asarray(X)
    if table.ndim != 2:
        raise InputError(
            f"X must be a table of shape (n_samples, n_features); received an array of "
            f"shape {table.shape}. Reshape a single feature with X.reshape(-1, 1)."
        )
    return table


def _prepare(
    predictor: Any, X: Any, y: Any, sample_weight: Any, scoring: Any, task: str | None
) -> tuple[Any, list[str], tuple[str, bool, Scorer]]:
    """The table to permute, its columns' names and the scoring of ``predictor`` on it."""
    if isinstance(predictor, Network):
        table, target, weights = predictor.validate(X, y, sample_weight, accept_sparse=True)
        table = table.toarray() if _sparse.is_sparse(table) else np.array(table)
        scored = network_scorer(predictor, target, weights, scoring, task)
        return table, column_names(X, table.shape[1]), scored
    if not callable(predictor):
        raise InputError(
            f"predictor must be a deltarule Network or a function predict(X) -> outputs; "
            f"received {type(predictor).__name__}. For a scikit-learn estimator of "
            "deltarule's, pass its network_ (targets one-hot), or use "
            "sklearn.inspection.permutation_importance."
        )
    table = _table(X)
    target = as_float_array(y, "y", np.dtype(np.float64), ndim=(1, 2))
    target = target.reshape(-1, 1) if target.ndim == 1 else target
    if target.shape[0] != table.shape[0]:
        raise InputError(
            f"X has {table.shape[0]} rows but y has {target.shape[0]}; received "
            f"X.shape={table.shape}, y.shape={target.shape}. Pass one target row per row of X."
        )
    weights = check_sample_weight(sample_weight, table.shape[0], np.dtype(np.float64))
    scored = predict_scorer(predictor, target, weights, scoring, task)
    return table, column_names(X, table.shape[1]), scored


def permutation_importance(
    predictor: Network | Callable[[Any], Any],
    X: ArrayLike | Any,
    y: ArrayLike,
    *,
    scoring: Any = None,
    n_repeats: int = 5,
    seed: SeedLike = None,
    sample_weight: ArrayLike | None = None,
    columns: Any = None,
    task: str | None = None,
) -> PermutationImportance:
    r"""Return how much shuffling each input column worsens the model's score.

    For each column (or group of columns) :math:`j` and repeat :math:`r`, the column's
    rows are shuffled and the model scored again: importance :math:`I_{jr} = s - s_{jr}`
    for a score (accuracy, R², ...), :math:`s_{jr} - s` for an error (the loss, MSE, log
    loss), :math:`s` the score on the data as given (see the module's docstring).

    Parameters
    ----------
    predictor : Network or callable
        A :class:`~deltarule.network.Network`; or a function ``predict(X) -> outputs`` of
        shape (n_samples, n_outputs), which receives ``X`` with columns shuffled (a pandas
        DataFrame stays one: a model's preprocessing can run inside it), with ``scoring``.
    X : array-like or scipy sparse matrix of shape (n_samples, n_features), or DataFrame
        For a Network, checked as :meth:`~deltarule.network.Network.evaluate` checks it.
    y : array-like of shape (n_samples, n_outputs) or (n_samples,)
        Targets as the network sees them (one-hot rows for softmax outputs).
    scoring : str or Metric, optional
        A name of :data:`deltarule.metrics.METRICS` (``"accuracy"``, ``"r2"``, ``"mse"``,
        ``"log_loss"``, ...; its ``greater_is_better`` sets the sign), a
        :class:`~deltarule.metrics.Metric`, or ``"loss"``, the network's error :math:`E`
        (importance: the increase in loss). Default for a Network: accuracy for a
        classification loss, with the network's own class decision (as
        ``net.evaluate(X, y, metrics=["accuracy"])``), else R² (the mean of the outputs'
        R², scikit-learn's ``multioutput="uniform_average"``). With a callable: accuracy
        for ``task="classification"``, R² for ``task="regression"``; required without a
        ``task``. A classification metric (accuracy, F1, ROC AUC, ...) is refused on
        targets that are numbers (a column of more than two values), which it would score
        by splitting them at 0.5, unless the network's loss, or ``task``, says classification.
    n_repeats : int, default 5
        Shuffles of each column.
    seed : int, numpy.random.Generator or None
        The permutations' only source of randomness. None (scikit-learn's
        ``random_state=None``) draws a fresh seed, recorded as the result's ``seed``, so
        that the run can be repeated.
    sample_weight : array-like of shape (n_samples,), optional
        Weighs the score, as in :meth:`~deltarule.network.Network.evaluate`.
    columns : list or dict, optional
        The columns to measure, each a position or a DataFrame column's name, or a list of
        them: a group shuffled together (one permutation of the rows for all its columns,
        e.g. a one-hot block). A dict names the groups: ``{"colour": [2, 3, 4]}``.
        Default: every column alone. A column may be named once (not twice, nor in two
        groups), and the columns measured need distinct names (a DataFrame with two
        columns of one name: rename them, or name the groups with a dict).
    task : {"classification", "regression"} or None, optional
        What a predict function's outputs are: ``"classification"``, class scores of
        targets as the network sees them (one-hot rows, or one 0/1 column; probabilities
        as targets are taken too); ``"regression"``, values. It sets the default scoring
        and which metrics the targets can be scored by. None (the default) with a predict
        function: a scoring is required, and classification metrics are refused on
        targets of more than two values a column. A Network's task is its loss's (a
        classification loss: "classification"), and a ``task`` that contradicts it is
        refused.

    Returns
    -------
    PermutationImportance
        ``importances`` of shape (n_columns, n_repeats), ``importances_mean``,
        ``importances_std`` (population std, ddof=0, as scikit-learn's), ``baseline``,
        ``columns`` (names: a DataFrame's, else ``x0``, ``x1``, ...; a group's joined by
        ``+``), ``scoring``, ``seed``; ``summary()`` is a table by importance.

    Raises
    ------
    InputError
        For ``n_repeats`` < 1, an unknown scoring or task, a metric that cannot score ``y``
        (a classification metric of targets that are numbers), ``X`` and ``y`` of
        different lengths, non-finite values, unknown, repeated or overlapping columns (or
        two of one name), a bad seed, or a score that is not finite (a metric undefined
        on the data, such as ROC AUC on targets of one class).
    """
    n_repeats = _repeats(n_repeats)
    task = check_task(task)
    rng, recorded = _generator(seed)
    table, names, (name, greater_is_better, scorer) = _prepare(
        predictor, X, y, sample_weight, scoring, task
    )
    n_samples = table.shape[0]
    if n_samples < 2:
        raise InputError(
            f"permutation_importance needs at least 2 rows to shuffle; received {n_samples}. "
            "Pass more rows (the held-out data the model is judged on)."
        )
    groups, labels = column_groups(columns, names)
    baseline = finite_score(scorer(table), name, "on X as given")
    sign = 1.0 if greater_is_better else -1.0
    importances = np.empty((len(groups), n_repeats))
    work = table.copy()
    for g, group in enumerate(groups):
        for r in range(n_repeats):
            order = rng.permutation(n_samples)
            permuted(work, table, group, order)
            value = finite_score(scorer(work), name, f"with {labels[g]!r} shuffled")
            importances[g, r] = sign * (baseline - value)
        restore(work, table, group)
    return PermutationImportance(
        importances, baseline, tuple(labels), name, greater_is_better, recorded
    )
