"""What a network's public entry points check of the data they are given, and report back.

:meth:`Network.validate <deltarule.network.Network.validate>` checks and converts ``X``,
``y`` and ``sample_weight`` for one network (:func:`validate`); ``y`` must be given where an
error is computed (:func:`require_targets`), and a flat ``params`` or ``out`` vector must fit
the network's buffer (:func:`check_flat`). The inner computation runs with NumPy's overflow
warnings silenced (:func:`overflow_quietly`): an overflow shows in its result instead, which
``predict`` refuses to return (:func:`refuse_overflowed`). :func:`scores` is ``evaluate``'s
dict of the error and the metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._typing import Array, ArrayLike
from ._validation import check_features, check_sample_weight, check_target_range, check_targets
from .exceptions import InputError
from .losses import CLASSIFICATION_LOSSES

__all__ = [
    "check_flat",
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
        y = check_targets(y, X.shape[0], network.n_outputs, network.dtype, y_name, x_name)
        check_target_range(y, network.loss.name, y_name)
    sw = check_sample_weight(sample_weight, X.shape[0], network.dtype, w_name)
    return X, y, sw


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
    network: Any, X: Any, y: Array, sample_weight: Array | None, metrics: str | Sequence[Any]
) -> dict[str, Any]:
    """``{"loss": E, name: value, ...}`` on checked data: :meth:`Network.evaluate
    <deltarule.network.Network.evaluate>` with ``metrics``."""
    from .metrics import check_targets as check_scorable
    from .metrics import class_threshold, get_metric

    chosen = [get_metric(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
    check_scorable(chosen, y, network.loss.name in CLASSIFICATION_LOSSES)
    loss = network.evaluate_params(network.parameters, X, y, sample_weight)
    with overflow_quietly():
        output = network.infer(X)
    cut = class_threshold(network.layers[-1].activation, y)  # (as training splits a column)
    return {"loss": loss, **{m.name: m(output, y, sample_weight, threshold=cut) for m in chosen}}
