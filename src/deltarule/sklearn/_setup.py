"""What a fit prepares before deltarule's loop runs: weights, sample weights, split, callbacks.

Each function reproduces one step of scikit-learn's ``_fit``/``_fit_stochastic``
(initial weights from ``random_state``, the early-stopping split on the same
random stream, the per-epoch rules) on deltarule's objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split

from ..exceptions import InputError
from ._callbacks import (
    EpochBookkeeping,
    InverseScaling,
    LossPlateau,
    ValidationScorePlateau,
    VerbosePrinter,
)
from ._network import SklearnNetwork, activation_for
from ._solvers import FIRST_ORDER

__all__ = [
    "check_sample_weight",
    "initial_weights",
    "make_callbacks",
    "same_memory",
    "split_validation",
]


def same_memory(a: Any, b: np.ndarray) -> bool:
    """True when ``a`` is exactly the view ``b`` (same memory, shape and strides)."""
    return (
        isinstance(a, np.ndarray)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _init_factors(activation: Any, n_layers: int) -> list[float]:
    """Glorot's factor per layer: 2 after logistic units, else 6 (scikit-learn's rule).

    With one activation name scikit-learn uses its factor for every layer; with a
    list, each layer takes its own activation's and the output layer the last one's.
    """
    if isinstance(activation, str):
        names = [activation] * n_layers
    else:
        names = list(activation) + list(activation)[-1:]
    return [2.0 if activation_for(a).name == "sigmoid" else 6.0 for a in names]


def initial_weights(network: SklearnNetwork, rng: np.random.RandomState, activation: Any) -> None:
    """scikit-learn's ``_init_coef``: W and b uniform in ±sqrt(factor / (fan_in + fan_out)).

    Drawn layer by layer, weights of shape (fan_in, fan_out) then biases, from
    ``rng``: the same ``random_state`` gives scikit-learn's initial ``coefs_``.
    """
    factors = _init_factors(activation, len(network.layers))
    for index, (layer, factor) in enumerate(zip(network.layers, factors), start=1):
        fan_in, fan_out = layer.n_inputs, layer.n_outputs
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rng.uniform(-bound, bound, fan_out)
        network.set_parameters({f"W{index}": coef.T, f"b{index}": intercept})


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: np.dtype) -> Any:
    """Return ``sample_weight`` as a 1-D array of finite numbers >= 0 (not all 0), or None."""
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=dtype)
    if sw.ndim == 0:
        sw = np.full(n_samples, sw, dtype=dtype)
    if sw.shape != (n_samples,):
        raise InputError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},): one weight per sample."
        )
    if not np.isfinite(sw).all() or (sw < 0).any():
        raise InputError("sample_weight must hold finite numbers >= 0.")
    if not sw.any():
        raise InputError("Sample weights must contain at least one non-zero number.")
    return sw


def _can_stratify(column: np.ndarray, fraction: float) -> bool:
    """True when every class of ``column`` fits in both parts of the split.

    ``train_test_split`` refuses to stratify otherwise (a class of one sample, or fewer
    rows in a part than there are classes).
    """
    counts = np.unique(column, return_counts=True)[1]
    n_val = int(np.ceil(fraction * len(column)))
    return counts.min() >= 2 and min(n_val, len(column) - n_val) >= len(counts)


def split_validation(est: Any, X: Any, Y: Any, y: Any, sw: Any, rng: Any) -> tuple:
    """Hold out ``validation_fraction`` for early stopping, as scikit-learn does.

    Returns
    -------
    train : tuple (X, Y, sample_weight)
    validation : tuple (X, Y, y as given, sample_weight)

    scikit-learn (1.9) stratifies a classifier's split when the network has a single
    output (``n_outputs_ == 1``: binary targets, or one label), on the binarized
    targets ``Y``; multiclass, multilabel and regression targets are split at random.
    Both draw from ``rng`` through ``train_test_split``, so the same ``random_state``
    holds out the same rows. Where stratification is impossible (a class with a single
    sample, or more classes than rows in a part), scikit-learn raises; here the split
    is then made at random (unstratified) instead.
    """
    fraction = est.validation_fraction
    single = is_classifier(est) and Y.shape[1] == 1
    stratify = Y if single and _can_stratify(Y[:, 0], fraction) else None
    arrays = [X, Y, y] if sw is None else [X, Y, y, sw]
    parts = train_test_split(*arrays, random_state=rng, test_size=fraction, stratify=stratify)
    train, val = parts[0::2], parts[1::2]
    if val[0].shape[0] < 2:
        raise InputError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    sw_train, sw_val = (train[3], val[3]) if sw is not None else (None, None)
    return (train[0], train[1], sw_train), (val[0], val[1], val[2], sw_val)


def make_callbacks(est: Any, n_train: int, validation: Any) -> list:
    """Return the callbacks of one fit or partial_fit call, in scikit-learn's order."""
    first_order = est.solver in FIRST_ORDER
    records = est.solver != "lbfgs"  # (scikit-learn's L-BFGS keeps no loss_curve_)
    callbacks: list = [EpochBookkeeping(est, n_train if first_order else 0, records)]
    adaptive = est.solver == "sgd" and est.learning_rate == "adaptive"
    if validation is not None:
        X_val, _, y_val, sw_val = validation
        callbacks.append(ValidationScorePlateau(est, (X_val, y_val, sw_val), adaptive))
    elif est.solver != "lbfgs":  # scipy's own criteria stop L-BFGS, as in scikit-learn
        callbacks.append(LossPlateau(est, adaptive))
    if est.solver == "sgd" and est.learning_rate == "invscaling":
        callbacks.append(InverseScaling(est))
    if est.verbose:
        callbacks.append(VerbosePrinter(est))
    return callbacks + list(est.callbacks or [])
