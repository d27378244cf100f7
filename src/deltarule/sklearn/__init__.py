"""scikit-learn estimators on deltarule: drop-in MLPClassifier and MLPRegressor.

An edge adapter (the core never imports scikit-learn): the estimators take every
parameter of :mod:`sklearn.neural_network`'s MLPs with the same name, meaning and
default, expose the same fitted attributes, minimise the same objective (see
:mod:`deltarule.sklearn._network`), start from the same initial weights for the
same ``random_state``, and follow the same stopping rules — written as deltarule
callbacks around deltarule's one training loop. They pass scikit-learn's
``parametrize_with_checks`` and work in Pipeline, GridSearchCV and clone, and
save to deltarule's safe model files. Their convergence warnings are
:class:`ConvergenceWarning` (scikit-learn's class and deltarule's) and their
parameter errors :class:`InvalidParameterError` (a ``ValueError`` and a
``TypeError``, as scikit-learn's); a stochastic solver that diverges raises
scikit-learn's ``ValueError`` (:class:`SolverDivergedError`).

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from deltarule.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> model = make_pipeline(StandardScaler(), MLPClassifier(max_iter=300, random_state=0))
>>> model.fit(X, y).score(X, y) > 0.9
True
"""

try:
    import sklearn  # noqa: F401  (the absolute package, not this module)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "deltarule.sklearn needs scikit-learn, which is not installed; install it with "
        "pip install 'deltarule[sklearn]' (or pip install scikit-learn)."
    ) from exc

from ._classifier import MLPClassifier
from ._convergence import ConvergenceWarning, SolverDivergedError
from ._params import InvalidParameterError
from ._regressor import MLPRegressor

__all__ = [
    "ConvergenceWarning",
    "InvalidParameterError",
    "MLPClassifier",
    "MLPRegressor",
    "SolverDivergedError",
]
