"""Numerical parity with scikit-learn's MLPs from the same weights.

Pins down the objective (alpha scaling, loss conventions per target type), the
initial weights drawn from ``random_state``, scikit-learn's SGD and its
schedules and stopping rules, and L-BFGS's options.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402

from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N = 37
_rng = np.random.default_rng(0)
X = _rng.normal(size=(N, 5))
TARGETS = {
    "binary": ("classifier", (X[:, 0] > 0).astype(int)),
    "multiclass": ("classifier", _rng.integers(0, 3, N)),
    "multilabel": ("classifier", _rng.integers(0, 2, (N, 3))),
    "regression": ("regressor", X @ _rng.normal(size=5)),
    "multi_output": ("regressor", X @ _rng.normal(size=(5, 2))),
}


def pair(kind: str) -> tuple[type, type]:
    return (MLPClassifier, SkClassifier) if kind == "classifier" else (MLPRegressor, SkRegressor)


def parameters(estimator) -> list[np.ndarray]:
    return [*estimator.coefs_, *estimator.intercepts_]


def max_difference(a, b) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(parameters(a), parameters(b)))


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
def test_one_sgd_epoch_from_equal_weights_matches(target, alpha, activation) -> None:
    kind, y = TARGETS[target]
    ours_cls, theirs_cls = pair(kind)
    settings = dict(
        hidden_layer_sizes=(4, 3), activation=activation, solver="sgd", momentum=0.0,
        learning_rate_init=0.1, batch_size=N, shuffle=False, alpha=alpha, max_iter=1,
        warm_start=True, random_state=0,
    )  # fmt: skip
    ours, theirs = ours_cls(**settings).fit(X, y), theirs_cls(**settings).fit(X, y)
    rng = np.random.default_rng(1)
    coefs = [rng.normal(size=c.shape) for c in theirs.coefs_]
    intercepts = [rng.normal(size=b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):  # warm start from user-assigned arrays
        model.coefs_ = [c.copy() for c in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        model.fit(X, y)
    assert max(np.abs(c - o).max() for c, o in zip(coefs, ours.coefs_)) > 1e-3  # it moved
    assert max_difference(ours, theirs) < 1e-10
    for ours_c, theirs_c in zip(ours.coefs_, theirs.coefs_):
        assert ours_c.shape == theirs_c.shape
    # The loss of the epoch is taken at the starting weights; for 2 outputs scikit-learn
    # reports the squared error averaged over them (half of the objective it descends).
    penalty = 0.5 * alpha * sum(float((c * c).sum()) for c in coefs) / N
    factor = 2 if target == "multi_output" else 1
    assert ours.loss_ == pytest.approx(factor * (theirs.loss_ - penalty) + penalty, rel=1e-10)


def test_same_random_state_gives_scikit_learns_initial_weights() -> None:
    settings = dict(hidden_layer_sizes=(6, 4), solver="sgd", learning_rate_init=1e-12, max_iter=1)
    for activation in ("relu", "logistic"):
        ours = MLPClassifier(activation=activation, random_state=3, **settings).fit(X, X[:, 0] > 0)
        theirs = SkClassifier(activation=activation, random_state=3, **settings)
        theirs.fit(X, X[:, 0] > 0)
        assert max_difference(ours, theirs) < 1e-9


SCHEDULES = [
    dict(solver="sgd"),
    dict(solver="sgd", nesterovs_momentum=False),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    dict(solver="sgd", learning_rate="adaptive", tol=0.1, n_iter_no_change=2),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("settings", SCHEDULES, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_whole_runs_match_step_for_step(settings, kind) -> None:
    rng = np.random.default_rng(2)
    X_big = rng.normal(size=(137, 5))
    y = rng.integers(0, 3, 137) if kind == "classifier" else X_big @ rng.normal(size=5)
    base = dict(hidden_layer_sizes=(8,), shuffle=False, batch_size=20, max_iter=60)
    ours_cls, theirs_cls = pair(kind)
    kwargs = {"random_state": 1, "learning_rate_init": 0.01, **base, **settings}
    ours, theirs = ours_cls(**kwargs).fit(X_big, y), theirs_cls(**kwargs).fit(X_big, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert max_difference(ours, theirs) < 1e-7
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)
    if settings["solver"] == "sgd":
        assert ours.t_ == theirs.t_
        assert ours.loss_curve_ == pytest.approx(theirs.loss_curve_, rel=1e-9)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_early_stopping_matches_scikit_learn(kind) -> None:
    rng = np.random.default_rng(3)
    X_big = rng.normal(size=(160, 5))
    y = (X_big[:, 0] + rng.normal(size=160) > 0).astype(int)
    if kind == "regression":
        y = X_big @ rng.normal(size=5) + rng.normal(size=160)
    ours_cls, theirs_cls = pair("classifier" if kind == "binary" else "regressor")
    kwargs = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, shuffle=False,
                  batch_size=20, early_stopping=True, random_state=0, max_iter=100)  # fmt: skip
    ours, theirs = ours_cls(**kwargs).fit(X_big, y), theirs_cls(**kwargs).fit(X_big, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, abs=1e-12)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    assert max_difference(ours, theirs) < 1e-9  # the best epoch's weights, restored
    assert len(ours.validation_loss_curve_) == ours.n_iter_


def test_adam_differs_only_by_the_place_of_epsilon() -> None:
    kwargs = dict(hidden_layer_sizes=(8,), shuffle=False, max_iter=30, random_state=0)
    y = X[:, 0] - X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = MLPRegressor(**kwargs).fit(X, y), SkRegressor(**kwargs).fit(X, y)
    assert max_difference(ours, theirs) < 1e-4
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-4, atol=1e-6)
