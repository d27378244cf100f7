"""The estimators raise scikit-learn's ValueError when a stochastic solver diverges, and
refuse masked arrays; scikit-learn's own MLPs are the oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402

from deltarule.exceptions import DivergenceError, InputError  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor, SolverDivergedError  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
Y = (X @ np.array([1.0, 2.0, 3.0])).ravel()
SKLEARN_MESSAGE = "Solver produced non-finite parameter weights"
SETTINGS = dict(solver="sgd", learning_rate_init=1e3, max_iter=20, random_state=0)


def test_a_diverging_fit_raises_scikit_learns_error() -> None:
    # (before: a warning, loss_ inf, predictions of -4e88 and score -inf)
    with pytest.raises(ValueError, match=SKLEARN_MESSAGE):
        SkRegressor(**SETTINGS).fit(X, Y)
    model = MLPRegressor(**SETTINGS)
    with pytest.raises(SolverDivergedError, match=SKLEARN_MESSAGE) as caught:
        model.fit(X, Y)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, DivergenceError)
    assert "training diverged at epoch" in str(caught.value)
    assert not hasattr(model, "coefs_")  # (undone: the estimator is as before the call)


@pytest.mark.parametrize("scale", [1.0, 1e160])  # (a huge rate; huge targets)
def test_sgd_that_diverges_in_its_first_epoch_raises_as_in_scikit_learn(scale) -> None:
    rng = np.random.default_rng(0)
    X1 = rng.normal(size=(1000, 3))
    y1 = X1 @ np.array([1.0, 2.0, 3.0]) * scale
    settings = {**SETTINGS, "learning_rate_init": 1e10 if scale == 1 else 1e-3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=SKLEARN_MESSAGE):
            SkRegressor(**settings).fit(X1, y1)
        with pytest.raises(SolverDivergedError, match=SKLEARN_MESSAGE) as caught:
            MLPRegressor(**settings).fit(X1, y1)
    assert "diverged at epoch 1:" in str(caught.value)  # (no finite epoch before it)


def test_partial_fit_raises_at_the_call_scikit_learns_does() -> None:
    def first_raise(model) -> int | None:
        for call in range(10):
            try:
                model.partial_fit(X, Y)
            except ValueError as exc:
                assert SKLEARN_MESSAGE in str(exc)
                return call
        return None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = first_raise(SkRegressor(solver="sgd", learning_rate_init=1e3, random_state=0))
        model = MLPRegressor(solver="sgd", learning_rate_init=1e3, random_state=0)
        ours = first_raise(model)
    assert theirs is not None and ours == theirs
    assert np.isfinite(model.predict(X)).all()  # the weights before the call that raised


@pytest.mark.parametrize("make", [SkRegressor, MLPRegressor])
def test_a_warm_start_fit_that_diverges_raises(make) -> None:
    # The first 3 epochs stay finite; the warm start's continue and blow up.
    model = make(**{**SETTINGS, "max_iter": 3}, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = model.fit(X, Y).predict(X)
        with pytest.raises(ValueError, match=SKLEARN_MESSAGE):
            model.fit(X, Y)
    if make is MLPRegressor:  # (ours is undone; scikit-learn's is left with NaN weights)
        np.testing.assert_array_equal(model.predict(X), before)


def test_grid_search_applies_error_score() -> None:
    grid = {"learning_rate_init": [1e-3, 1e3]}
    scores = []
    for make in (SkRegressor, MLPRegressor):
        search = GridSearchCV(make(**{**SETTINGS, "learning_rate_init": 1e-3}), grid, cv=2,
                              error_score=np.nan)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X, Y)
        scores.append(search.cv_results_["mean_test_score"])
    theirs, ours = scores
    assert np.isnan(theirs[1]) and np.isnan(ours[1])
    assert np.isfinite(theirs[0]) and np.isfinite(ours[0])


@pytest.mark.parametrize("make", [MLPRegressor, MLPClassifier])
def test_masked_arrays_are_refused_unless_nothing_is_masked(make) -> None:
    y = Y if make is MLPRegressor else (Y > 0).astype(int)
    masked = np.ma.masked_array(X, mask=np.zeros_like(X, dtype=bool))
    masked[0, 1] = np.ma.masked
    model = make(max_iter=5, random_state=0)
    with pytest.raises(InputError, match="X contains 1 masked value"):
        model.fit(masked, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.ma.masked_array(X, mask=False), y)
        reference = make(max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    with pytest.raises(InputError, match="X contains 1 masked value"):
        model.predict(masked)
