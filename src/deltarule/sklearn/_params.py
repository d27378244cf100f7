"""Checks of the estimators' constructor parameters, made when ``fit`` starts.

scikit-learn estimators never validate in ``__init__`` or ``set_params``; they
check everything when fitting. Each message names the parameter, what is accepted
and what was received, in scikit-learn's words ("The 'alpha' parameter of
MLPClassifier must be a float in the range [0.0, inf). Got -1 instead."); the values
accepted are scikit-learn's (finite numbers in the same ranges, an integer seed in
[0, 2**32 - 1], ...) plus deltarule's extensions (more activations and solvers). The
error is an :class:`InvalidParameterError`: an :class:`~deltarule.exceptions.InputError`
(so a ``ValueError``) that is also scikit-learn's ``InvalidParameterError`` (so a
``TypeError``), so code written for scikit-learn's estimators catches it either way.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS
from ..callbacks import Callback
from ..exceptions import InputError
from ..losses import CLASSIFICATION_LOSSES, LOSSES
from ._solvers import FIRST_ORDER, SOLVER_SPELLINGS, SOLVERS

try:  # (a private module of scikit-learn: its class where it has one)
    from sklearn.utils._param_validation import InvalidParameterError as _SklearnInvalid
except ImportError:  # pragma: no cover - depends on scikit-learn's version
    _SklearnInvalid = TypeError  # type: ignore[misc,assignment]

__all__ = ["REGRESSION_LOSSES", "InvalidParameterError", "check_parameters"]

REGRESSION_LOSSES = ("squared_error", "poisson")
"""scikit-learn's names; any deltarule regression loss name is accepted too."""


_MAX_SEED = 2**32 - 1
"""The largest integer ``random_state`` (numpy's ``RandomState`` takes 32-bit seeds)."""


class InvalidParameterError(InputError, _SklearnInvalid):
    """A constructor parameter of an estimator has an unusable value.

    Both a ``ValueError`` (through :class:`~deltarule.exceptions.InputError`) and
    scikit-learn's ``sklearn.utils._param_validation.InvalidParameterError`` (a
    ``ValueError`` and a ``TypeError``), so an ``except`` clause or
    ``pytest.raises`` written for scikit-learn's estimators catches it.
    """


def _hidden_names() -> list[str]:
    """The activation names a hidden layer takes (softmax normalises a layer: outputs only),
    a user's registered ones too."""
    return sorted(name for name, act in ACTIVATIONS.items() if act.name != "softmax")


def _fail(estimator: Any, name: str, expected: str) -> None:
    value = getattr(estimator, name)
    raise InvalidParameterError(
        f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
        f"Got {value!r} instead."
    )


_BOOL = "an instance of 'bool' or an instance of 'numpy.bool'"
"""scikit-learn's words for a boolean parameter."""


def _is_real(value: Any) -> bool:
    """A finite real number (not a bool, NaN or infinity)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _real(
    est: Any, name: str, low: float, high: float, *, open_low: bool = False, open_high: bool = False
) -> None:
    """A finite number between ``low`` and ``high`` (``high=np.inf``: no upper bound)."""
    value = getattr(est, name)
    ok = _is_real(value) and (low < value if open_low else low <= value)
    ok = ok and (value < high if open_high else value <= high)
    if not ok:
        left = "(" if open_low else "["
        right = ")" if open_high or high == np.inf else "]"
        _fail(est, name, f"a float in the range {left}{float(low)}, {float(high)}{right}")


def _is_count(value: Any) -> bool:
    """An integer >= 1 (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _integer(est: Any, name: str, *, allow_inf: bool = False) -> None:
    value = getattr(est, name)
    if allow_inf and isinstance(value, float) and value == np.inf:
        return
    if not _is_count(value):
        _fail(est, name, "an int in the range [1, inf)" + (" or a float among {inf}" * allow_inf))


def _check_random_state(est: Any) -> None:
    """scikit-learn's rule: None, an integer seed in [0, 2**32 - 1] or a RandomState."""
    value = est.random_state
    if value is None or isinstance(value, np.random.RandomState):
        return
    if not (isinstance(value, numbers.Integral) and 0 <= value <= _MAX_SEED):
        _fail(
            est,
            "random_state",
            f"an int in the range [0, {_MAX_SEED}], an instance of "
            "'numpy.random.mtrand.RandomState' or None",
        )


def _check_verbose(est: Any) -> None:
    value = est.verbose
    if isinstance(value, (bool, np.bool_)):
        return
    if not isinstance(value, numbers.Integral) or value < 0:
        _fail(est, "verbose", f"an int in the range [0, inf), {_BOOL}")


def _choice(est: Any, name: str, options: Sequence[Any]) -> None:
    if getattr(est, name) not in options:
        _fail(est, name, "a str among {" + ", ".join(repr(o) for o in options) + "}")


def _boolean(est: Any, name: str) -> None:
    if not isinstance(getattr(est, name), (bool, np.bool_)):
        _fail(est, name, _BOOL)


def _check_architecture(est: Any) -> None:
    sizes = est.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
    # an array-like, as scikit-learn requires: an iterator would be used up by this check
    if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
        sizes = sizes.tolist()
    if not isinstance(sizes, (list, tuple)):
        _fail(
            est,
            "hidden_layer_sizes",
            "an array-like or an int in the range [1, inf) (a list or tuple of ints, e.g. (100,))",
        )
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
        _fail(est, "hidden_layer_sizes", "an int or a sequence of ints in the range [1, inf)")
    if sizes and min(sizes) < 1:  # scikit-learn's words for this one
        raise InvalidParameterError(f"hidden_layer_sizes must be > 0, got {list(sizes)}.")
    acts = est.activation
    names = [acts] if isinstance(acts, str) else acts
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(a, str) and a.lower() in ACTIVATIONS for a in names
    ):
        _fail(
            est,
            "activation",
            "an activation name ('identity', 'logistic', 'tanh', 'relu', "
            f"or any of deltarule's: {', '.join(_hidden_names())}) or a list of them, "
            "one per hidden layer (your own Activation: register it with "
            "deltarule.register_activation, then pass its name)",
        )
    if not isinstance(acts, str) and len(names) != len(sizes):
        _fail(est, "activation", f"one name per hidden layer ({len(sizes)} names)")
    if any(ACTIVATIONS[a.lower()].name == "softmax" for a in names):
        _fail(  # (accepted, it trained iris to chance level, 0.33, without a word)
            est,
            "activation",
            "an activation of single units for the hidden layers, not softmax (it normalises "
            "a whole layer: an output activation, which MLPClassifier puts on its output "
            "for several classes)",
        )
    drops = est.dropout if isinstance(est.dropout, (list, tuple)) else [est.dropout]
    if not all(_is_real(d) and 0 <= d < 1 for d in drops) or (
        isinstance(est.dropout, (list, tuple)) and len(drops) != len(sizes)
    ):
        _fail(est, "dropout", "a number in [0, 1) or a list of them, one per hidden layer")
    if not sizes and any(drops):  # (dropout acts on hidden layers' outputs: here, on none)
        _fail(est, "dropout", "0 with hidden_layer_sizes=() (no hidden layer to drop from)")


def _check_extras(est: Any) -> None:
    if not (isinstance(est.dtype, str) and est.dtype == "auto"):
        try:
            ok = np.dtype(est.dtype) in (np.dtype(np.float32), np.dtype(np.float64))
        except TypeError:
            ok = False
        if not ok:
            _fail(est, "dtype", "'auto', 'float32' or 'float64'")
    callbacks = est.callbacks
    if callbacks is not None and not (
        isinstance(callbacks, (list, tuple)) and all(isinstance(c, Callback) for c in callbacks)
    ):
        _fail(est, "callbacks", "None or a list of deltarule.callbacks.Callback objects")
    if hasattr(est, "class_weight"):
        cw = est.class_weight
        if not (cw is None or isinstance(cw, dict) or (isinstance(cw, str) and cw == "balanced")):
            _fail(est, "class_weight", "None, 'balanced' or a dict {class label: weight}")
    if hasattr(est, "loss"):
        loss = est.loss
        if not (
            loss in REGRESSION_LOSSES
            or (
                isinstance(loss, str)
                and loss.lower() in LOSSES
                and LOSSES[loss.lower()].name not in CLASSIFICATION_LOSSES
            )
        ):
            _fail(
                est,
                "loss",
                "a str among {'squared_error', 'poisson'} or a deltarule regression loss name",
            )


def _check_solver(est: Any) -> None:
    solver = est.solver
    if isinstance(solver, str) and solver in SOLVERS:
        return
    expected = "a str among {" + ", ".join(map(repr, SOLVERS)) + "}"
    if isinstance(solver, str):
        key = solver.strip().lower()
        close = SOLVER_SPELLINGS.get(key) or (key if key in SOLVERS else None)
        close = close or next(iter(difflib.get_close_matches(key, SOLVERS, n=1)), None)
        if close is not None:
            expected += f" (did you mean solver={close!r}?"
            if key in SOLVER_SPELLINGS or key in SOLVERS:
                expected += " The estimators take scikit-learn's spelling only"
            expected += ")"
    _fail(est, "solver", expected)


def check_parameters(est: Any) -> None:
    """Raise :class:`InvalidParameterError` naming the first invalid parameter."""
    _check_architecture(est)
    _check_solver(est)
    _real(est, "alpha", 0, np.inf)
    batch_size = est.batch_size
    if not ((isinstance(batch_size, str) and batch_size == "auto") or _is_count(batch_size)):
        _fail(est, "batch_size", "a str among {'auto'} or an int in the range [1, inf)")
    _choice(est, "learning_rate", ("constant", "invscaling", "adaptive"))
    _real(est, "learning_rate_init", 0, np.inf, open_low=True, open_high=True)
    _real(est, "power_t", 0, np.inf)
    _integer(est, "max_iter")
    for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
        _boolean(est, name)
    _real(est, "tol", 0, np.inf)
    _real(est, "momentum", 0, 1)
    _real(est, "validation_fraction", 0, 1, open_high=True)
    _real(est, "beta_1", 0, 1, open_high=True)
    _real(est, "beta_2", 0, 1, open_high=True)
    _real(est, "epsilon", 0, np.inf, open_low=True)
    _integer(est, "n_iter_no_change", allow_inf=True)
    _integer(est, "max_fun")
    _check_verbose(est)
    _check_random_state(est)
    _check_extras(est)
    if est.solver == "lm" and getattr(est, "loss", None) != "squared_error":
        raise InvalidParameterError(
            "solver='lm' (Levenberg–Marquardt) fits squared errors only: use it with "
            "MLPRegressor(loss='squared_error'), or pick solver='lbfgs' or 'adam'."
        )
    if est.early_stopping and est.solver in FIRST_ORDER and est.validation_fraction <= 0:
        _fail(est, "validation_fraction", "> 0 when early_stopping=True")
