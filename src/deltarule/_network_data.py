"""What a network's public entry points check of the data they are given, and report back.

:meth:`Network.validate <deltarule.network.Network.validate>` checks and converts ``X``,
``y`` and ``sample_weight`` for one network (:func:`validate`); ``y`` must be given where an
error is computed (:func:`require_targets`), and a flat ``params`` or ``out`` vector must fit
the network's buffer (:func:`check_flat`). The inner computation runs with NumPy's overflow
warnings silenced (:func:`overflow_quietly`): an overflow shows in its result instead, which
``predict`` refuses to return (:func:`refuse_overflowed`). :func:`scores` is ``evaluate``'s
dict of the error and the metrics. :func:`keyword_checked` (from :mod:`deltarule._keywords`)
gives the entry points' keyword arguments Keras's spelling ``x=`` and a "did you mean" for
one they do not take.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._keywords import keyword_checked
from ._typing import Array, ArrayLike
from ._validation import check_features, check_sample_weight, check_target_range, check_targets
from .exceptions import InputError
from .losses import CLASSIFICATION_LOSSES

__all__ = [
    "check_flat",
    "keyword_checked",
    "overflow_quietly",
    "refuse_overflowed",
    "require_targets",
    "scores",
    "validate",
]


def require_targets(y: Any) -> Any:
    """``y``, unless it is None (an InputError: computing the error needs targets)."""
    if y is None:
        raise InputError(
            "y is None; computing the error needs targets of shape (n_samples, n_outputs)."
        )
    return y


def overflow_quietly() -> Any:
    """Silence NumPy's overflow warnings where the caller sees the non-finite result."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def validate(
    network: Any,
    X: ArrayLike,
    y: ArrayLike | None,
    sample_weight: ArrayLike | None,
    names: tuple[str, str, str],
    accept_sparse: bool,
) -> tuple[Array, Array | None, Array | None]:
    """``(X, y, sample_weight)`` checked and converted for ``network``:
    :meth:`Network.validate <deltarule.network.Network.validate>`."""
    x_name, y_name, w_name = names
    X = check_features(X, network.n_inputs, network.dtype, x_name, accept_sparse=accept_sparse)
    if y is not None:
        _refuse_class_labels(y, X.shape[0], network.n_outputs, y_name)
        y = check_targets(y, X.shape[0], network.n_outputs, network.dtype, y_name, x_name)
        check_target_range(y, network.loss.name, y_name)
        if network.loss.name == "categorical_crossentropy":
            _check_class_probabilities(y, y_name)
    sw = check_sample_weight(sample_weight, X.shape[0], network.dtype, w_name)
    return X, y, sw


def _refuse_class_labels(y: Any, n_samples: int, n_outputs: int, name: str) -> None:
    """Refuse 1-D integer class labels, one a row of ``X``, for a network of several outputs
    (Keras's sparse categorical targets), showing how to one-hot encode them."""
    if n_outputs < 2 or n_samples < 2 or getattr(y, "ndim", None) == 2 or isinstance(y, str):
        return
    try:
        labels = np.asarray(y)
    except (TypeError, ValueError):
        return  # (refused with its own message by check_targets)
    if labels.ndim != 1 or labels.size != n_samples or labels.dtype.kind not in "iuf":
        return
    whole = np.isfinite(labels).all() and (labels == np.round(labels)).all()
    if not (whole and labels.min() >= 0 and labels.max() < n_outputs):
        return
    raise InputError(
        f"{name} is 1-D with {labels.size} class labels (0 to {int(labels.max())}) but the "
        f"network has {n_outputs} outputs, one per class; expected one-hot rows of shape "
        f"(n_samples, {n_outputs}). One-hot encode the labels: "
        f"{name} = np.eye({n_outputs})[labels.astype(int)] (Keras's "
        "sparse_categorical_crossentropy takes the labels themselves; deltarule takes the "
        "rows)."
    )


def _check_class_probabilities(y: Array, name: str) -> None:
    """Refuse categorical cross-entropy targets above 1, and warn of rows that do not sum to
    1: softmax with cross-entropy learns ``output - target``, which fits only a distribution
    over the classes (one-hot rows or class probabilities)."""
    above = y > 1
    if above.any():
        row, column = (int(i) for i in np.argwhere(above)[0])
        raise InputError(
            f"the categorical_crossentropy loss needs one-hot rows or class probabilities in "
            f"[0, 1], each row summing to 1, but {name}[{row}, {column}] = {y[row, column]:g}. "
            "Pass one-hot rows (np.eye(n_classes)[labels] for integer labels), or choose "
            "another loss (mse for values that are not probabilities)."
        )
    if y.shape[1] < 2:
        return
    sums = y.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1) > 1e-3
    if off.any():
        from ._reports import user_stacklevel
        from .exceptions import DataWarning

        row = int(np.argmax(off))
        warnings.warn(
            f"{int(off.sum())} of {y.shape[0]} rows of {name} do not sum to 1 (row {row} "
            f"sums to {sums[row]:g}); the categorical_crossentropy loss expects one-hot rows "
            "or class probabilities (one distribution over the classes a row). One-hot "
            "encode class labels (np.eye(n_classes)[labels]); for several labels a row, use "
            "output_activation='sigmoid' with loss='binary_crossentropy'.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def check_flat(network: Any, array: Any, name: str) -> Array:
    """``array`` if it is a flat vector of ``network``'s parameters and dtype, else an
    InputError (``params`` of another dtype is converted; ``out`` is written in place)."""
    n = network.layout.size
    given = np.asarray(array) if name == "params" else array
    ok = isinstance(given, np.ndarray) and given.shape == (n,)
    if ok and name == "params" and given.dtype.kind in "iuf":
        return given.astype(network.dtype, copy=False)
    if ok and given.dtype == network.dtype:
        return given
    shown = (
        f"{given.dtype} array of shape {given.shape}"
        if isinstance(given, np.ndarray)
        else type(array).__name__
    )
    raise InputError(
        f"{name} must be a flat {network.dtype.name} array of this network's {n} parameters "
        f"(shape ({n},)); received a {shown}. Start from a copy of the network's buffer, "
        f"e.g. {name}=net.parameters.copy()."
    )


def refuse_overflowed(network: Any, X: Any, output: Array) -> None:
    """Refuse outputs that overflowed to infinity or NaN, saying where and what to try."""
    if np.isfinite(output).all():
        return
    rows = np.flatnonzero(~np.isfinite(output).all(axis=1))
    raise InputError(
        f"the network's outputs overflowed to infinity or NaN for {rows.size} of "
        f"{output.shape[0]} samples (first: row {rows[0]}, whose largest |value| is "
        f"{abs(X[rows[0]]).max():.3g}; the largest |weight| is "
        f"{np.abs(network.parameters).max():.3g}): {network.dtype} cannot hold the "
        "intermediate values. Scale X as the training data were scaled (e.g. "
        "standardise it), retrain with a lower learning rate if the weights are huge, "
        "or use dtype='float64'."
    )


def scores(
    network: Any,
    X: Any,
    y: Array,
    sample_weight: Array | None,
    metrics: str | Sequence[Any],
    threshold: float | None = None,
) -> dict[str, Any]:
    """``{"loss": E, name: value, ...}`` on checked data: :meth:`Network.evaluate
    <deltarule.network.Network.evaluate>` with ``metrics`` (one output column split at
    ``threshold``, by default :func:`~deltarule.metrics.class_threshold`'s cut)."""
    from .metrics import check_targets as check_scorable
    from .metrics import class_threshold, get_metric, metric_list

    chosen = [get_metric(m) for m in metric_list(metrics) or []]
    check_scorable(chosen, y, network.loss.name in CLASSIFICATION_LOSSES)
    loss = network.evaluate_params(network.parameters, X, y, sample_weight)
    with overflow_quietly():
        output = network.infer(X)
    cut = class_threshold(network.layers[-1].activation, y) if threshold is None else threshold
    return {"loss": loss, **{m.name: m(output, y, sample_weight, threshold=cut) for m in chosen}}
