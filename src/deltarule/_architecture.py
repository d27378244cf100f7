"""A network's architecture from :class:`~deltarule.network.Network`'s constructor arguments.

The layer widths, activations, biases and dropout rates become checked
:class:`~deltarule.layers.Dense` layers (:func:`make_layers`); the loss is chosen for the
output activation and refused where it cannot learn or is not defined on the outputs
(:func:`make_loss`); the layers' weights and biases get their names, shapes and offsets in
the flat buffer (:func:`parameter_layout`, :func:`allocate`). Every refusal says what was
received and how to fix it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._typing import Array
from ._validation import check_flag
from .activations import ACTIVATIONS, Activation, get_activation
from .exceptions import InputError
from .layers import Dense
from .losses import Loss, get_loss
from .parameters import ParameterLayout

__all__ = [
    "allocate",
    "check_layer_sizes",
    "default_loss",
    "make_layers",
    "make_loss",
    "parameter_layout",
]


def check_layer_sizes(layer_sizes: Any) -> list[int]:
    """``layer_sizes`` as a list of at least two positive integers, else an InputError."""
    sizes = list(layer_sizes) if isinstance(layer_sizes, (list, tuple)) else None
    if (
        sizes is None
        or len(sizes) < 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes)
        or min(sizes) < 1
    ):
        raise InputError(
            f"layer_sizes must be a list of at least two positive integers (inputs, ..., "
            f"outputs); received {layer_sizes!r}. Example: Network([4, 16, 3])."
        )
    return sizes


def _per_layer(value: Any, n: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise InputError(f"{name} has {len(value)} entries; expected one per layer ({n}).")
        return list(value)
    return [value] * n


def _dropout_rates(dropout: Any, sizes: list[int]) -> list[float]:
    """Return one dropout rate per hidden layer, or raise.

    Dropout drops hidden neurons' outputs; a network without a hidden layer has none
    to drop, so a non-zero rate there would silently do nothing and is refused.
    """
    n_hidden = len(sizes) - 2
    many = isinstance(dropout, (list, tuple))
    rates = list(dropout) if many else [dropout]
    for rate in rates:
        if not (isinstance(rate, numbers.Real) and 0 <= rate < 1):
            raise InputError(
                f"dropout rates must be numbers in [0, 1) (the fraction of hidden outputs "
                f"dropped in training); received {rate!r}. Pass e.g. dropout=0.2, or 0 for none."
            )
    if n_hidden == 0 and any(rates):
        bigger = [sizes[0], 8, *sizes[1:]]
        raise InputError(
            f"dropout={dropout!r} applies to hidden layers' outputs, but layer_sizes {sizes} "
            f"has no hidden layer, so it would do nothing; expected dropout=0. Leave dropout "
            f"out, or add a hidden layer, e.g. Network({bigger}, dropout={dropout!r})."
        )
    if many and len(rates) != n_hidden:
        fix = f"Give {n_hidden} rates, or one number for all" if n_hidden else "Leave it out"
        raise InputError(
            f"dropout has {len(rates)} entries; expected one per hidden layer ({n_hidden} for "
            f"layer_sizes {sizes}). {fix}."
        )
    return [float(rate) for rate in (rates if many else rates * n_hidden)]


def _hidden_activations(activation: Any, sizes: list[int]) -> list[Any]:
    """One activation per hidden layer; with no hidden layer, none (a name is still
    checked, so that a typo is an error, and a list is refused)."""
    n_layers = len(sizes) - 1
    if n_layers > 1:
        return _per_layer(activation, n_layers - 1, "activation")
    if isinstance(activation, (list, tuple)) and activation:
        entries = f"{len(activation)} entr{'y' if len(activation) == 1 else 'ies'}"
        raise InputError(
            f"activation has {entries}, one per hidden layer, but "
            f"layer_sizes {sizes} has no hidden layer; leave activation out (the output's "
            "is output_activation), or add a hidden layer, e.g. "
            f"Network({[sizes[0], 8, *sizes[1:]]}, activation={activation[0]!r})."
        )
    if not isinstance(activation, (list, tuple)):
        get_activation(activation)
    return []


def make_layers(
    sizes: list[int], activation: Any, output_activation: Any, use_bias: Any, dropout: Any
) -> tuple[Dense, ...]:
    """The dense layers of checked ``sizes`` (:func:`check_layer_sizes`), from the
    constructor's ``activation``, ``output_activation``, ``use_bias`` and ``dropout``."""
    n_layers = len(sizes) - 1
    hidden = _hidden_activations(activation, sizes)
    activations = [get_activation(a) for a in hidden] + [get_activation(output_activation)]
    biases = [check_flag(b, "use_bias", " (or one of them per layer)")
              for b in _per_layer(use_bias, n_layers, "use_bias")]  # fmt: skip
    drops = _dropout_rates(dropout, sizes) + [0.0]
    return tuple(
        Dense(int(sizes[i]), int(sizes[i + 1]), activations[i], bool(biases[i]), drops[i])
        for i in range(n_layers)
    )


def _bounds(interval: tuple[float, float]) -> str:
    return f"[{interval[0]:g}, {interval[1]:g}]".replace("inf]", "inf)").replace("[-inf", "(-inf")


def _check_output_pair(activation: Activation, loss: Loss) -> None:
    """Refuse an output activation whose values the loss is not defined on (identity with
    binary cross-entropy, say): the loss would be clipped there, its gradient would not be
    the clipped loss's, and training would diverge without an error."""
    if loss.takes(activation.output_range):
        return
    have, need = activation.output_range, loss.output_domain
    fits = sorted(
        {a.name for a in ACTIVATIONS.values() if a.output_range and loss.takes(a.output_range)}
    )
    default = default_loss(activation)
    raise InputError(
        f"loss {loss.name!r} is defined for outputs in {_bounds(need)}, but output activation "
        f"{activation.name!r} gives values in {_bounds(have)}. Use an output activation whose "
        f"values it takes ({', '.join(fits)}), or loss={default!r} (or 'auto') for "
        f"{activation.name!r} outputs."
    )


def _is_auto(loss: Any) -> bool:
    return isinstance(loss, str) and loss == "auto"


def _refuse_one_unit_softmax(layers: Sequence[Dense]) -> None:
    """Refuse softmax over a single unit: it outputs 1 whatever its input, so its loss and
    gradient are 0 and nothing before it can learn."""
    for index, layer in enumerate(layers):
        if layer.activation is not ACTIVATIONS.get("softmax") or layer.n_outputs != 1:
            continue
        if index == len(layers) - 1:
            raise InputError(
                "output_activation='softmax' over 1 output unit gives 1.0 for every input "
                "(softmax normalises across the units), so the loss and its gradient are 0 and "
                "the network cannot learn. For two classes in one column use "
                "output_activation='sigmoid' with loss='binary_crossentropy' (or 'auto'); "
                "for k classes, one-hot targets and k softmax outputs."
            )
        raise InputError(
            f"hidden layer {index + 1} has activation 'softmax' over 1 unit, which outputs 1.0 "
            "for every input (softmax normalises across the units), so nothing before it can "
            "learn. Widen the layer or choose another activation."
        )


def _refuse_one_column_cce(loss: Loss, layers: Sequence[Dense]) -> None:
    """Refuse categorical cross-entropy on one output unit: :math:`-t \\log o` ignores the
    rows whose target is 0, so the network learns to output 1 everywhere, silently."""
    if loss.name != "categorical_crossentropy" or layers[-1].n_outputs >= 2:
        return
    raise InputError(
        f"loss {loss.name!r} needs at least 2 output units (one per class), but the network "
        "has 1: with one column it ignores the rows whose target is 0, so the network learns "
        "to output 1 for every input. For one output column of 0/1 targets use "
        "loss='binary_crossentropy' (alias 'ce') with output_activation='sigmoid'; for several "
        "classes use output_activation='softmax' with one output per class and one-hot targets."
    )


def default_loss(output_activation: Activation) -> str:
    """The loss "auto" stands for after ``output_activation``."""
    return {
        "softmax": "categorical_crossentropy",
        "sigmoid": "binary_crossentropy",
    }.get(output_activation.name, "half_squared_error")


def make_loss(loss: Any, layers: Sequence[Dense]) -> Loss:
    """The network's loss (``"auto"``: :func:`default_loss`), refusing a softmax over one
    unit, categorical cross-entropy over one unit, and a loss not defined on the output
    activation's values."""
    output_act = layers[-1].activation
    _refuse_one_unit_softmax(layers)
    chosen = get_loss(default_loss(output_act) if _is_auto(loss) else loss)
    _refuse_one_column_cce(chosen, layers)
    _check_output_pair(output_act, chosen)
    return chosen


def parameter_layout(layers: Sequence[Dense]) -> ParameterLayout:
    """The flat buffer's layout: ``W{i}`` (n_outputs, n_inputs) and ``b{i}`` of each layer."""
    entries: list[tuple[str, tuple[int, ...]]] = []
    for i, layer in enumerate(layers, start=1):
        entries.append((f"W{i}", (layer.n_outputs, layer.n_inputs)))
        if layer.use_bias:
            entries.append((f"b{i}", (layer.n_outputs,)))
    return ParameterLayout(entries)


def allocate(layout: ParameterLayout, dtype: np.dtype, sizes: list[int]) -> Array:
    """A zero buffer for ``layout``; an InputError when it cannot be allocated."""
    try:
        return layout.allocate(dtype)
    except (MemoryError, ValueError, OverflowError) as exc:
        raise InputError(
            f"layer_sizes {sizes} need {layout.size:,} parameters "
            f"({layout.size * dtype.itemsize:,} bytes), which cannot be "
            "allocated; use narrower layers."
        ) from exc
