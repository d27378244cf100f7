"""scikit-learn's own estimator checks, for both estimators, with no expected failures.

Each estimator runs the whole ``parametrize_with_checks`` suite under several
solvers; ``max_iter`` is lowered for the suite only (as scikit-learn does for
its own MLPs), the defaults are untouched.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

ESTIMATORS = [
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(solver="lbfgs", max_iter=50),
    MLPRegressor(solver="lbfgs", max_iter=50),
    MLPClassifier(solver="sgd", learning_rate="adaptive", max_iter=50),
    MLPRegressor(solver="sgd", max_iter=50),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)
