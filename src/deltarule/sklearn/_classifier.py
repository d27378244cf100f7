"""MLPClassifier: scikit-learn's multi-layer perceptron classifier on deltarule."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from .._typing import DTypeLike
from ..callbacks import Callback
from ..exceptions import InputError
from . import _scores
from ._base import SPARSE_FORMATS, BaseMLP, naming_text_columns
from ._docs import CLASSIFIER_DOC
from ._solvers import FIRST_ORDER

if TYPE_CHECKING:
    _F = TypeVar("_F")

    def available_if(check: Callable[[Any], bool]) -> Callable[[_F], _F]:
        """scikit-learn's (untyped) decorator, as type checkers see it: the method."""
else:
    from sklearn.utils.metaestimators import available_if

_Self = TypeVar("_Self", bound="MLPClassifier")

__all__ = ["MLPClassifier"]


def _first_order(estimator: Any) -> bool:
    if estimator.solver not in FIRST_ORDER:
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. {estimator.solver} is "
            "not stochastic."
        )
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    # The docstring is assembled below from the shared sections of ._docs.

    def __init__(
        self,
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
        class_weight: dict[Any, float] | Literal["balanced"] | None = None,
        dropout: float | Sequence[float] = 0.0,
        dtype: Literal["auto"] | DTypeLike = "auto",
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
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
        self.class_weight = class_weight
        self.dropout = dropout
        self.dtype = dtype
        self.callbacks = callbacks

    # ----------------------------------------------------------------- fitting
    def fit(self: _Self, X: Any, y: Any, sample_weight: Any = None) -> _Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multi-label targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Finite and >= 0 (scikit-learn's also takes negative weights).

        Returns
        -------
        self : MLPClassifier
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_first_order)
    def partial_fit(
        self: _Self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> _Self:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
            Finite and >= 0 (scikit-learn's also takes negative weights).
        classes : array-like of shape (n_classes,), default=None
            Every class across all calls; required on the first call (not for
            multi-label indicator targets, whose columns are the classes).

        Returns
        -------
        self : MLPClassifier
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _start_partial_fit(self, y: Any, classes: Any) -> None:
        """Fix ``classes_`` on the first partial_fit call; check ``classes`` on later ones."""
        if hasattr(self, "classes_"):
            if classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
                raise InputError(
                    f"classes={classes!r} is not the same as on the first call to partial_fit, "
                    f"which was {self.classes_!r}."
                )
            return
        binarizer = LabelBinarizer()
        if type_of_target(y).startswith("multilabel"):
            binarizer.fit(y)
        elif classes is None:
            raise InputError(
                "classes must be passed on the first call to partial_fit: all the class "
                "labels of the whole data set, e.g. classes=np.unique(y_all)."
            )
        else:
            binarizer.fit(classes)
        self._label_binarizer, self.classes_ = binarizer, binarizer.classes_

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        with naming_text_columns(X, type(self).__name__):
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=SPARSE_FORMATS,
                multi_output=True,
                dtype=(np.float64, np.float32),
                reset=reset,
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if incremental and hasattr(self, "classes_") and not self.warm_start:  # (a chunk)
            Y = self._known_labels(y)
            if Y is not None:
                return X, Y.astype(X.dtype), y
        check_classification_targets(y)
        if not hasattr(self, "classes_") or not (self.warm_start or incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            self._check_classes(unique_labels(y))
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        return X, Y, y

    def _known_labels(self, y: np.ndarray) -> np.ndarray | None:
        """The label binarizer's encoding of a 1-d ``y`` of integer (or whole float) labels
        all among ``classes_`` of a binary or multiclass fit, computed in NumPy: the checks
        and the encoding of scikit-learn's ``type_of_target``, ``unique_labels`` and
        ``LabelBinarizer.transform`` (most of a small ``partial_fit``'s time); None for
        anything else (text labels, new or non-integral ones, multi-label targets), which
        goes through them."""
        binarizer, classes = self._label_binarizer, self.classes_
        kinds = "iu" if classes.dtype.kind in "iu" else ""
        if not (
            y.ndim == 1
            and binarizer.y_type_ in ("binary", "multiclass")
            and len(classes) >= 2
            and classes.dtype.kind in "iuf"
            and y.dtype.kind in kinds + "f"
            and y.size
        ):
            return None
        if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
            return None  # (scikit-learn's own message)
        codes = np.searchsorted(classes, y).clip(0, len(classes) - 1)
        if not (classes[codes] == y).all():
            return None  # (a label not in classes_: its own message)
        if len(classes) == 2:
            return (codes == 1).astype(np.int64)[:, None]
        encoded = np.zeros((y.size, len(classes)), np.int64)
        encoded[np.arange(y.size), codes] = 1
        return encoded

    def _check_classes(self, classes: np.ndarray) -> None:
        if self.warm_start and set(classes) != set(self.classes_):
            raise InputError(
                "warm_start can only be used where `y` has the same classes as in the previous "
                f"call to fit. Previously got {self.classes_}, `y` has {classes}"
            )
        if len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise InputError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                f"'y' has {classes}."
            )

    def _output_spec(self) -> tuple[str, str]:
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "categorical_crossentropy"
        return "logistic", "binary_crossentropy"

    def _target_weights(self, y: Any, incremental: bool) -> Any:
        if self.class_weight is None:
            return None
        if np.ndim(y) != 1:
            raise InputError("class_weight is not supported for multi-label targets.")
        if incremental and self.class_weight == "balanced":
            raise InputError(
                "class_weight='balanced' cannot be used with partial_fit: the class frequencies "
                "of the whole data set are unknown. Pass a dict {class label: weight}."
            )
        if isinstance(self.class_weight, dict):
            for label, weight in self.class_weight.items():
                number = isinstance(weight, numbers.Real) and not isinstance(weight, bool)
                if not (number and math.isfinite(weight) and weight >= 0):
                    raise InputError(  # (not "sample_weight has negative values")
                        f"class_weight[{label!r}] is {weight!r}; expected a finite weight "
                        ">= 0 for each class (e.g. {0: 1.0, 1: 3.0}), or 'balanced'."
                    )
        return compute_sample_weight(self.class_weight, y)

    # -------------------------------------------------------------- predicting
    def _decode(self, output: np.ndarray) -> np.ndarray:
        lb = self._label_binarizer
        if lb.y_type_ in ("binary", "multiclass") and not getattr(lb, "sparse_input_", False):
            return self._labels(output)
        if self.n_outputs_ == 1:
            output = output.ravel()
        return lb.inverse_transform(output)

    def _labels(self, output: np.ndarray) -> np.ndarray:
        """``LabelBinarizer.inverse_transform``'s labels of a binary or multiclass fit's
        ``output``, computed directly (its checks took a fifth of a one-row predict)."""
        classes = self._label_binarizer.classes_
        if self.n_outputs_ > 1:
            return classes.take(output.argmax(axis=1), mode="clip")
        if len(classes) > 1:
            return classes[(output.ravel() > 0.5).astype(int)]
        return np.repeat(classes[0], len(output))

    def _score_output(self, output: np.ndarray, y: Any, sample_weight: Any) -> float:
        if not np.isfinite(output).all():
            return np.nan
        lb = self._label_binarizer
        if lb.y_type_ in ("binary", "multiclass") and _scores.fast_case(y, sample_weight):
            if y.ndim == 1:
                return _scores.accuracy(y, self._labels(output), sample_weight)
        return float(accuracy_score(y, self._decode(output), sample_weight=sample_weight))

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels (an indicator matrix for multi-label targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return self._decode(self._forward(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return probability estimates, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        output = self._forward(X)
        if self.n_outputs_ == 1 and self._label_binarizer.y_type_ != "multilabel-indicator":
            return np.hstack([1 - output, output])
        return output

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _restore_targets(self, classes: Any, target_type: str) -> None:
        """Rebuild ``classes_`` and the label binarizer (used by :meth:`load`)."""
        classes = np.asarray(classes)
        binarizer = LabelBinarizer()
        if target_type == "multilabel-indicator":
            binarizer.fit(np.eye(len(classes), dtype=int))
        else:
            binarizer.fit(classes)
        self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
        check_is_fitted(self)


MLPClassifier.__doc__ = CLASSIFIER_DOC
