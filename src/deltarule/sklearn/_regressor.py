"""MLPRegressor: scikit-learn's multi-layer perceptron regressor on deltarule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils.validation import validate_data

from .._typing import DTypeLike
from ..callbacks import Callback
from ..exceptions import InputError
from ..losses import get_loss
from . import _scores
from ._base import SPARSE_FORMATS, BaseMLP, naming_text_columns
from ._classifier import _first_order
from ._docs import REGRESSOR_DOC

if TYPE_CHECKING:
    _F = TypeVar("_F")

    def available_if(check: Callable[[Any], bool]) -> Callable[[_F], _F]:
        """scikit-learn's (untyped) decorator, as type checkers see it: the method."""
else:
    from sklearn.utils.metaestimators import available_if

_Self = TypeVar("_Self", bound="MLPRegressor")

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    # The docstring is assembled below from the shared sections of ._docs.

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: int | Sequence[int] | npt.NDArray[np.integer[Any]] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | Literal["auto"] = "auto",
        learning_rate: Literal["constant", "invscaling", "adaptive"] = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        dropout: float | Sequence[float] = 0.0,
        dtype: Literal["auto"] | DTypeLike = "auto",
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype
        self.callbacks = callbacks

    def fit(self: _Self, X: Any, y: Any, sample_weight: Any = None) -> _Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Finite and >= 0 (scikit-learn's also takes negative weights).

        Returns
        -------
        self : MLPRegressor
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_first_order)
    def partial_fit(self: _Self, X: Any, y: Any, sample_weight: Any = None) -> _Self:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Finite and >= 0 (scikit-learn's also takes negative weights).

        Returns
        -------
        self : MLPRegressor
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        with naming_text_columns(X, type(self).__name__):
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=SPARSE_FORMATS,
                multi_output=True,
                y_numeric=True,
                dtype=(np.float64, np.float32),
                reset=reset,
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (y < 0).any():
            raise InputError(
                "loss='poisson' requires non-negative y (counts or rates); received a "
                f"minimum of {y.min()!r}."
            )
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return X, Y.astype(X.dtype, copy=False), y

    def _output_spec(self) -> tuple[str, str]:
        if self.loss == "poisson":
            return "exp", "poisson"
        if self.loss == "squared_error":
            return "identity", "half_squared_error"
        return "identity", get_loss(self.loss).name

    def _score_output(self, output: np.ndarray, y: Any, sample_weight: Any) -> float:
        if not np.isfinite(output).all():
            return np.nan
        prediction = output.ravel() if output.shape[1] == 1 else output
        if _scores.fast_case(y, sample_weight) and y.dtype.kind in "biuf":
            return _scores.r2(y, prediction, sample_weight)
        return float(r2_score(y, prediction, sample_weight=sample_weight))

    def predict(self, X: Any) -> np.ndarray:
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        output = self._forward(X)
        return output.ravel() if output.shape[1] == 1 else output

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags


MLPRegressor.__doc__ = REGRESSOR_DOC
