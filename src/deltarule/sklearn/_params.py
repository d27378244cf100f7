"""Checks of the estimators' constructor parameters, made when ``fit`` starts.

scikit-learn estimators never validate in ``__init__`` or ``set_params``; they
check everything when fitting. Each message names the parameter, what was
received and what is accepted; the values accepted are scikit-learn's (finite
numbers in the same ranges, an integer seed in [0, 2**32 - 1], ...). The error is
an :class:`InvalidParameterError`: an :class:`~deltarule.exceptions.InputError`
(so a ``ValueError``) that is also a ``TypeError``, as scikit-learn's own
``InvalidParameterError`` is, so code written for scikit-learn's estimators
catches it either way.
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

__all__ = ["REGRESSION_LOSSES", "InvalidParameterError", "check_parameters"]

REGRESSION_LOSSES = ("squared_error", "poisson")
"""scikit-learn's names; any deltarule regression loss name is accepted too."""


_MAX_SEED = 2**32 - 1
"""The largest integer ``random_state`` (numpy's ``RandomState`` takes 32-bit seeds)."""


class InvalidParameterError(InputError, TypeError):
    """A constructor parameter of an estimator has an unusable value.

    Both a ``ValueError`` (through :class:`~deltarule.exceptions.InputError`) and a
    ``TypeError``, like scikit-learn's ``InvalidParameterError``.
    """


def _fail(estimator: Any, name: str, expected: str) -> None:
    value = getattr(estimator, name)
    raise InvalidParameterError(
        f"{type(estimator).__name__}'s parameter {name} must be {expected}; received {value!r}."
    )


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
        _fail(est, name, f"a number in {left}{low:g}, {high:g}{right}")


def _is_count(value: Any) -> bool:
    """An integer >= 1 (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _integer(est: Any, name: str, *, allow_inf: bool = False) -> None:
    value = getattr(est, name)
    if allow_inf and isinstance(value, float) and value == np.inf:
        return
    if not _is_count(value):
        _fail(est, name, "an integer >= 1" + (" or numpy.inf" if allow_inf else ""))


def _check_random_state(est: Any) -> None:
    """scikit-learn's rule: None, an integer seed in [0, 2**32 - 1] or a RandomState."""
    value = est.random_state
    if value is None or isinstance(value, np.random.RandomState):
        return
    if not (isinstance(value, numbers.Integral) and 0 <= value <= _MAX_SEED):
        _fail(
            est,
            "random_state",
            f"None, an integer in [0, {_MAX_SEED}] or a numpy.random.RandomState instance",
        )


def _check_verbose(est: Any) -> None:
    value = est.verbose
    if isinstance(value, (bool, np.bool_)):
        return
    if not isinstance(value, numbers.Integral) or value < 0:
        _fail(est, "verbose", "a bool or an integer >= 0")


def _choice(est: Any, name: str, options: Sequence[Any]) -> None:
    if getattr(est, name) not in options:
        _fail(est, name, "one of " + ", ".join(repr(o) for o in options))


def _boolean(est: Any, name: str) -> None:
    if not isinstance(getattr(est, name), (bool, np.bool_)):
        _fail(est, name, "True or False")


def _check_architecture(est: Any) -> None:
    sizes = est.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
    # an array-like, as scikit-learn requires: an iterator would be used up by this check
    if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
        sizes = sizes.tolist()
    if not isinstance(sizes, (list, tuple)):
        _fail(
            est, "hidden_layer_sizes", "an integer or a list or tuple of integers >= 1, e.g. (100,)"
        )
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes) or (
        sizes and min(sizes) < 1
    ):
        _fail(est, "hidden_layer_sizes", "an integer or a sequence of integers >= 1")
    acts = est.activation
    names = [acts] if isinstance(acts, str) else acts
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(a, str) and a.lower() in ACTIVATIONS for a in names
    ):
        _fail(
            est,
            "activation",
            "an activation name ('identity', 'logistic', 'tanh', 'relu', "
            f"or any of deltarule's: {', '.join(sorted(ACTIVATIONS))}) or a list of them, "
            "one per hidden layer (your own Activation: register it with "
            "deltarule.register_activation, then pass its name)",
        )
    if not isinstance(acts, str) and len(names) != len(sizes):
        _fail(est, "activation", f"one name per hidden layer ({len(sizes)} names)")
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
            _fail(est, "loss", "'squared_error', 'poisson' or a deltarule regression loss name")


def _check_solver(est: Any) -> None:
    solver = est.solver
    if isinstance(solver, str) and solver in SOLVERS:
        return
    expected = "one of " + ", ".join(map(repr, SOLVERS))
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
        _fail(est, "batch_size", "'auto' or an integer >= 1")
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
