"""The network ``deltarule train`` fits, and the fit: the output activation and loss chosen
for the task (:func:`build_network`, refused when it cannot fit in the memory available), and
the training itself (:func:`fit`), regression targets standardised for it and the output
layer then rescaled so that the network predicts in the targets' own units (in float64 when
float32 cannot hold them precisely: :data:`FOLD_RATIO`)."""

from __future__ import annotations

import argparse
import math
import os
from math import inf
from typing import Any

import numpy as np

from .._validation import full_precision
from ..exceptions import InputError
from ._common import CLASSIFICATION
from ._resume import fit_resumable

__all__ = [
    "FOLD_RATIO",
    "build_network",
    "check_target_fits",
    "check_targets_fit",
    "fit",
    "standardised",
]

_AUTO_LOSS = {"multiclass": ("softmax", "categorical_crossentropy"),
              "binary": ("sigmoid", "binary_crossentropy"),
              "regression": ("identity", "mse")}  # fmt: skip
_OUTPUT_FOR_DOMAIN = {(0.0, 1.0): "sigmoid", (0.0, inf): "exp"}
"""The output activation for a --loss defined on some outputs only, where the task's own
does not fit it (a regression's identity with --loss poisson: exp, the log link)."""
_SCALED_LOSSES = {"mse", "mean_squared_error", "half_squared_error", "squared_error", "sse",
                  "tutorial", "mae", "mean_absolute_error", "huber"}  # fmt: skip


def output_and_loss(pre: Any, args: argparse.Namespace) -> tuple[str, str]:
    """The output activation and loss for ``pre``'s task (:data:`_AUTO_LOSS`), or --loss
    with an output that fits it."""
    from ..activations import get_activation
    from ..losses import get_loss

    kind = "regression" if pre.task != CLASSIFICATION else (
        "binary" if len(pre.classes) == 2 else "multiclass")  # fmt: skip
    activation, loss = _AUTO_LOSS[kind]
    if args.loss != "auto":
        loss = args.loss
        chosen = get_loss(loss)
        if not chosen.takes(get_activation(activation).output_range):
            activation = _OUTPUT_FOR_DOMAIN.get(tuple(chosen.output_domain), activation)
        elif kind == "multiclass" and chosen.name == "binary_crossentropy":
            # Each class its own yes/no, a sigmoid apiece (R neuralnet's err.fct = "ce"
            # with logistic outputs): softmax outputs under binary cross-entropy would be
            # scored as independent probabilities they are not.
            activation = "sigmoid"
    return activation, loss


def check_targets_for_loss(pre: Any, Y: np.ndarray, args: argparse.Namespace) -> None:
    """Refuse, before the data is split, regression targets outside the range the loss
    takes (--loss poisson: counts >= 0), naming the data row (the network's own check,
    after the split, counted the rows of the training part)."""
    from .._validation import out_of_range
    from ..losses import get_loss

    if pre.task == CLASSIFICATION:
        return
    loss = get_loss(output_and_loss(pre, args)[1]).name
    found = out_of_range(Y, loss)
    if found is not None:
        (row, column), rows, expected = found
        names = pre.target_names
        name = names[column] if len(names) > 1 else args.target or "y"
        raise InputError(
            f"--loss {loss} needs targets that are {expected}, but the target "
            f"{name} is {float(Y[row, column]):g} at data row {row + 1} "
            f"({rows} row(s) out of range). Fix those rows, or choose another --loss "
            "(mse, the default for numbers, takes any)."
        )


def build_network(pre: Any, X: np.ndarray, hidden: list[int], args: argparse.Namespace) -> Any:
    """The network for ``pre``'s task: its output activation and loss (:data:`_AUTO_LOSS`,
    or --loss with an output that fits it), refused when it cannot fit in memory."""
    from .. import Network
    from ..activations import get_activation
    from ..losses import get_loss

    activation, loss = output_and_loss(pre, args)
    _check_solver_loss(args, get_loss(loss).name)
    if get_activation(args.activation).name == "softmax":  # (it trained to chance level)
        raise InputError(
            f"--activation {args.activation} would put softmax on the hidden layers; it "
            "normalises a whole layer, an output activation (deltarule train puts it on the "
            "output for several classes). Use --activation relu (the default), tanh or "
            "sigmoid."
        )
    sizes = [X.shape[1], *hidden, pre.n_outputs]
    rows = len(X) if args.batch_size is None else min(args.batch_size, len(X))
    _check_memory(sizes, rows)  # (a batch holds at most every row; a solver's holds them all)
    dropout = getattr(args, "dropout", None) or 0.0
    if dropout and not hidden:
        raise InputError(
            f"--dropout {dropout} drops units of the hidden layers, but --hidden "
            f"{args.hidden} has none; give hidden layers (e.g. --hidden 64) or leave "
            "--dropout out."
        )
    return Network(
        sizes,
        activation=args.activation,
        output_activation=activation,
        loss=loss,
        seed=args.seed,
        dropout=dropout,
    )


_SQUARED_ERRORS = ("mse", "half_squared_error")
"""The losses Levenberg–Marquardt (``--optimizer lm``) minimises: sums of squared residuals."""


def _check_solver_loss(args: argparse.Namespace, loss: str) -> None:
    """Refuse ``--optimizer lm`` with a loss it cannot minimise (the cross-entropy a
    classification gets by default) before training, in the command line's terms."""
    from ..solvers import get_solver

    solver = get_solver(args.optimizer)
    if solver is None or solver.name != "lm" or loss in _SQUARED_ERRORS:
        return
    chosen = f"--loss {loss}" if args.loss != "auto" else f"{loss} (the loss chosen for the task)"
    raise InputError(
        f"--optimizer lm (Levenberg–Marquardt) needs a squared-error loss (mse or "
        f"half_squared_error); this network would train with {chosen}. Use --optimizer lbfgs "
        "or --optimizer adam, or add --loss mse to keep lm."
    )


def _check_memory(sizes: list[int], batch_size: int) -> None:
    """Refuse a network that cannot fit in the memory available now (rather than being
    killed by the system halfway through): float32 parameters with their gradients and
    optimizer state (about ten copies), and a batch's activations."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: no estimate
        return
    parameters = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    weights, batch = 4 * 10 * parameters, 4 * 4 * batch_size * sum(sizes)
    if weights + batch > available:
        fix = "smaller --hidden layers" + (" or a smaller --batch-size" if batch > weights else "")
        raise InputError(
            f"a network of layer sizes {sizes} has {parameters:,} parameters and needs about "
            f"{(weights + batch) / 2**30:,.1f} GiB to train in batches of {batch_size:,} rows "
            f"({weights / 2**30:,.1f} GiB for its parameters and their training state, "
            f"{batch / 2**30:,.1f} GiB for a batch), but {available / 2**30:,.1f} GiB of memory "
            f"is available. Use {fix}."
        )


def standardised(net: Any, classification: bool) -> bool:
    """Whether the targets are standardised for training (regression with a squared-type loss)."""
    return not classification and net.loss.name in _SCALED_LOSSES


def check_target_fits(Y: np.ndarray, dtype: np.dtype, name: str | None) -> None:
    """Refuse regression targets the network's outputs cannot hold (its predictions are in
    the target's own units): e.g. 1e300 for float32 outputs (largest 3.4e38), or targets
    spread over less than the dtype keeps to full precision (its smallest normal number over
    its epsilon: ~1e-31 in float32): 1e-300 to 1e-299 made every prediction 0."""
    top = float(np.abs(Y).max())
    info = np.finfo(dtype)
    largest = float(info.max)
    if top > largest / 4:  # (room for the outputs to go past the largest target a little)
        raise InputError(
            f"the target {name or 'y'} holds values up to {top:.3g}, too large for the "
            f"network's {np.dtype(dtype).name} outputs (largest {largest:.3g}); predictions "
            "are made in the target's units. Express the target in larger units in the data "
            "(e.g. thousands or millions), and scale the predictions back."
        )
    spread = _mean_std(Y)[1] if np.ptp(Y) > 0 else top  # (a constant target: its size)
    least = full_precision(dtype)
    if 0 < spread < least:
        raise InputError(
            f"the target {name or 'y'} varies by only {spread:.3g} (its values up to "
            f"{top:.3g}), too little for the network's {np.dtype(dtype).name} outputs, "
            f"which keep full precision only above ~{least:.1g}; predictions are made in "
            "the target's units. Express the target in smaller units in the data (e.g. "
            f"multiply it by {10.0 ** min(math.ceil(-math.log10(spread)), 308):.0e}), and "
            "scale the predictions back."
        )


def check_targets_fit(Y: np.ndarray, dtype: np.dtype, pre: Any, given: str | None) -> None:
    """:func:`check_target_fits` for each of the regression targets ``Y`` (n_samples,
    n_targets), named as ``pre`` names them (``given``, ``--target``, for a single one)."""
    names = pre.target_names
    if len(names) == 1:
        check_target_fits(Y, dtype, given)
        return
    for j, name in enumerate(names):
        check_target_fits(np.ascontiguousarray(Y[:, j : j + 1]), dtype, str(name))


def _mean_std(Y: np.ndarray) -> tuple[float, float]:
    """The targets' mean and standard deviation (1 when constant), computed on ``Y``
    divided by its largest magnitude so that no square overflows (targets near 1e300)."""
    unit = float(np.abs(Y).max()) or 1.0
    scaled = Y / unit
    return unit * float(scaled.mean()), unit * float(scaled.std()) or 1.0


def _means_stds(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each target column's mean and standard deviation (:func:`_mean_std`, column by column:
    each as a single target's), shape (n_targets,) each."""
    pairs = [_mean_std(np.ascontiguousarray(Y[:, j : j + 1])) for j in range(Y.shape[1])]
    return np.array([m for m, _ in pairs]), np.array([s for _, s in pairs])


FOLD_RATIO = 2.0**10
"""Beyond this ratio of the targets' mean to their spread (|mean| / std), the output layer's
rescaling is done in float64: in float32 the bias would round the predictions to steps of
up to |mean| * 2**-23, more than 1/8,192 of the spread beyond it (at 1e9 +- 10, steps of 64:
constant predictions)."""


def fit(
    net: Any, parts: tuple, args: argparse.Namespace, classification: bool
) -> tuple[Any, Any, dict | None]:
    """Train (regression targets standardised, then folded into the output layer); return
    (the network, now in the targets' units, in float64 when float32 cannot hold them
    precisely: :data:`FOLD_RATIO`; the history; the standardisation ``{"mean", "std"}``,
    None when the targets were not standardised). The model file records the last, so
    that ``deltarule explain`` can walk a step in the units training used."""
    X, Y, Xv, Yv = parts
    if not standardised(net, classification):
        metrics = None if classification else ["r2"]
        return net, fit_resumable(net, X, Y, None if Xv is None else (Xv, Yv), args, metrics), None
    mean, std = _means_stds(Y)  # (several targets: each standardised on its own)
    validation = None if Xv is None else (Xv, (Yv - mean) / std)
    history = fit_resumable(net, X, (Y - mean) / std, validation, args, ["r2"])
    if net.dtype != np.float64 and bool((np.abs(mean) > FOLD_RATIO * std).any()):
        net = net.astype(np.float64)
    # out_j = std_j * (W_j h + b_j) + mean_j, exactly, as the output is the identity
    scale, shift = std.astype(net.dtype), mean.astype(net.dtype)
    net.weights[-1][...] *= scale[:, None]
    net.biases[-1][...] = net.biases[-1] * scale + shift
    if len(mean) == 1:  # (one target: its two numbers, as the record always had them)
        return net, history, {"mean": float(mean[0]), "std": float(std[0])}
    return net, history, {"mean": mean.tolist(), "std": std.tolist()}
