"""The data one fit trains and validates on: checked, class-weighted and split.

:func:`prepare` turns a fit's ``X``, ``y``, ``sample_weight``, ``class_weight`` and its
validation (``validation_data`` or ``validation_split``) into the training and validation
:class:`~deltarule._sampling.Data`, checked by the network (:meth:`Network.validate
<deltarule.network.Network.validate>`), and refuses a part whose every example has weight 0.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ._sampling import Data, class_weights, split
from ._typing import Array, ArrayLike
from ._validation import check_fraction
from .exceptions import InputError

__all__ = ["prepare"]


def _times(sample_weight: Array | None, class_weight: Array) -> Array:
    return class_weight if sample_weight is None else sample_weight * class_weight


def _require_weight(
    data: Data, val: Data | None, class_weighted: bool, fraction: float | None
) -> None:
    """Raise when every training (or validation) example has weight 0: their weighted mean
    loss is undefined. ``fraction``: the validation_split that made ``val``, if one did."""
    for part, name in ((data, "training"), (val, "validation")):
        if part is None or part.sample_weight is None or part.sample_weight.any():
            continue
        after = " times class_weight" if class_weighted and name == "training" else ""
        held = ""
        if fraction is not None and val is not None:
            n_val = val.X.shape[0]
            held = f", after validation_split={fraction} held out {n_val} of "
            held += f"{n_val + data.X.shape[0]}"
        raise InputError(
            f"every {name} example has weight 0 (sample_weight{after}{held}); expected at "
            "least one with weight > 0 (a weighted mean over weight 0 is undefined). Give "
            "weight to more examples"
            + (", or pass validation_data instead of validation_split." if held else ".")
        )


def missing_targets(X: Any) -> str:
    """The error for a fit given no targets: for an ``X`` of batches (a generator, a data
    loader: Keras's and PyTorch's ways), how to give the whole data or train batch by
    batch."""
    if hasattr(X, "__iter__") and not isinstance(X, (list, tuple, str)) and not hasattr(X, "shape"):
        return (
            f"y is None and X is a {type(X).__name__} (batches from a generator or a data "
            "loader?); fit takes the whole data as arrays: X of shape (n_samples, n_inputs), "
            "y of shape (n_samples, n_outputs). Collect the batches (X = np.concatenate([xb "
            "for xb, yb in batches]), y likewise), or train batch by batch: trainer = "
            "deltarule.Trainer(net, 'adam', learning_rate, batch_size=None), then "
            "trainer.partial_fit(xb, yb) for each batch (its optimizer's state carried)."
        )
    return "y is None; training needs targets of shape (n_samples, n_outputs)."


def prepare(
    trainer: Any,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: Any,
    class_weight: Any,
    validation_split: float,
    validation_data: Any,
) -> tuple[Data, Data | None]:
    """Return (training data, validation data or None) for ``trainer``'s network.

    ``validation_split`` holds out rows drawn from a copy of the trainer's split stream, so
    that every call (warm starts, resumed runs) holds out the same rows.
    """
    if y is None:
        raise InputError(missing_targets(X))
    network = trainer.network
    X, y, sw = network.validate(X, y, sample_weight, accept_sparse=True)
    # class_weight weighs the training examples only (as in Keras); the validation
    # loss is class-weighted neither with validation_data nor with validation_split,
    # whose held-out rows keep their sample_weight (as scikit-learn's early stopping).
    cw = None
    if class_weight is not None:
        cw = class_weights(y, class_weight).astype(network.dtype)
    data, val = Data(X, y, sw if cw is None else _times(sw, cw)), None
    if validation_data is not None:
        if validation_split:
            raise InputError("give validation_split or validation_data, not both.")
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3)):
            raise InputError(
                f"validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val); "
                f"received {type(validation_data).__name__} {validation_data!r:.80}."
            )
        Xv, yv, *rest = validation_data
        if yv is None:
            raise InputError("validation_data has y_val None; pass (X_val, y_val).")
        names = ("X_val", "y_val", "sample_weight_val")  # what errors call them
        Xv, yv, swv = network.validate(Xv, yv, rest[0] if rest else None, names, accept_sparse=True)
        val = Data(Xv, yv, swv)
    elif check_fraction(validation_split, "validation_split") > 0:
        # A copy: every call (warm starts, resumed runs) holds out the same rows.
        split_rng = copy.deepcopy(trainer._split_rng)
        if cw is None:
            data, val = split(data, validation_split, split_rng, trainer.classification)
        else:  # the same rows (the split reads y alone), weighted apart
            rows = Data(np.arange(X.shape[0]).reshape(-1, 1), y, None)
            kept, held_out = (
                part.X[:, 0] for part in split(rows, validation_split, split_rng,
                                               trainer.classification)
            )  # fmt: skip
            data = Data(X[kept], y[kept], data.sample_weight[kept])
            val = Data(X[held_out], y[held_out], None if sw is None else sw[held_out])
    held = None if validation_data is not None or val is None else validation_split
    _require_weight(data, val, class_weight is not None, held)
    return data, val
