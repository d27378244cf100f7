"""Which examples train and which validate: the validation split and class weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._typing import Array
from ._validation import check_positive
from .exceptions import InputError
from .metrics import target_labels

__all__ = ["Data", "apportion", "class_weights", "split"]


@dataclass(frozen=True)
class Data:
    """Validated training data: inputs, targets and optional per-sample weights."""

    X: Array
    y: Array
    sample_weight: Array | None


def class_weights(y: Array, class_weight: Any) -> Array:
    """Per-sample weights from a class-weight dict (by class index) or "balanced"."""
    if not (
        isinstance(class_weight, dict)
        or (isinstance(class_weight, str) and class_weight == "balanced")
    ):
        raise InputError(
            "class_weight must be a dict of class index -> weight (e.g. {0: 1.0, 1: 3.0}) or "
            f"'balanced'; received {class_weight!r}."
        )
    low, high = float(y.min()), float(y.max())
    if low < 0 or high > 1:
        raise InputError(
            f"class_weight weighs examples by class, so y must hold class targets (0/1 or "
            f"one-hot columns, or probabilities in [0, 1]); y has values from {low:.4g} to "
            f"{high:.4g}. For a regression, give per-example weights as sample_weight instead."
        )
    labels = target_labels(y)
    n_classes = max(int(labels.max()) + 1, y.shape[1] if y.shape[1] > 1 else 2)
    if isinstance(class_weight, str):
        counts = np.bincount(labels, minlength=n_classes).astype(float)
        table = np.where(
            counts > 0, len(labels) / (np.count_nonzero(counts) * np.maximum(counts, 1)), 0
        )
    else:
        table = np.ones(n_classes)
        for key, value in class_weight.items():
            if not (isinstance(key, (int, np.integer)) and 0 <= key < n_classes):
                raise InputError(
                    f"class_weight key {key!r} is not a class index in [0, {n_classes}); "
                    "keys are class indices (the column of the one-hot target)."
                )
            table[key] = check_positive(value, f"class_weight[{key}]", allow_zero=True)
    return table[labels]


def apportion(sizes: Array, fraction: float, total: int) -> Array:
    """How many of each class to hold out: ``fraction`` of each class's size, rounded so
    that they add up to ``total`` (largest remainders first; ties to the earlier class)."""
    exact = fraction * sizes
    quotas = np.floor(exact).astype(int)
    spare = total - int(quotas.sum())
    if spare > 0:
        order = np.argsort(-(exact - quotas), kind="stable")
        quotas[order[:spare]] += 1
    return np.minimum(quotas, sizes)


def split(
    data: Data, fraction: float, rng: np.random.Generator, stratify: bool
) -> tuple[Data, Data]:
    """Hold out ``fraction`` of the samples (stratified by class when asked)."""
    n = data.X.shape[0]
    if stratify:
        labels = target_labels(data.y)
        classes = np.unique(labels)
        groups = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
        quotas = apportion(np.array([g.size for g in groups]), fraction, int(round(fraction * n)))
        val_idx = [i for group, k in zip(groups, quotas) for i in group[:k]]
        val = np.sort(np.asarray(val_idx, dtype=int))
    else:
        val = np.sort(rng.permutation(n)[: int(round(fraction * n))])
    if val.size == 0 or val.size == n:
        raise InputError(
            f"validation_split={fraction} leaves {val.size} of {n} samples for validation; "
            "both parts need at least one sample. Use more data or another fraction."
        )
    train = np.setdiff1d(np.arange(n), val)

    def take(idx: Array) -> Data:
        sw = None if data.sample_weight is None else data.sample_weight[idx]
        return Data(data.X[idx], data.y[idx], sw)

    return take(train), take(val)
