"""A network's parameters as users read and write them: per-layer views and checked writes.

:attr:`Network.weights <deltarule.network.Network.weights>` and ``biases`` are
:class:`_Views`, lists of views into the flat buffer (:func:`layer_views`) whose entries are
assigned by copying into the view, never by rebinding it. Every write into the buffer from
outside training is checked first, all or nothing: assigning ``parameters``
(:func:`assign_flat`), ``set_parameters`` (:func:`set_named`) and drawing initial values
(:func:`initialize`, which checks what a user's initializer returns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from ._typing import Array, ArrayLike, SeedLike
from .exceptions import InputError
from .initializers import get_initializer, make_rng

__all__ = ["assign_flat", "initialize", "layer_views", "set_named"]  # (and _Views)


_T = TypeVar("_T", bound="Array | None")  # (Array: the weights; Array | None: the biases)


class _Views(list[_T]):
    """A network's per-layer views into its parameter buffer (:attr:`Network.weights`,
    :attr:`Network.biases`). Assigning an entry copies the values into its view: replacing
    the view itself would disconnect it (predict would use the new array while training
    and saving used the buffer)."""

    def __init__(self, views: list[_T], what: str) -> None:
        super().__init__(views)
        self._what = what

    def __setitem__(self, index: Any, value: Any) -> None:
        checked = self._checked(index, value)
        if checked is not None:
            np.copyto(*checked)

    def assign(self, values: Any) -> None:
        """Copy ``values`` (one per layer) into the views: every one is checked before any
        is written (all or nothing, as :meth:`Network.set_parameters`)."""
        values = list(values)
        if len(values) != len(self):
            raise InputError(
                f"network.{self._what} = [...] needs one entry per layer ({len(self)}); "
                f"received {len(values)}."
            )
        checked = [self._checked(index, value) for index, value in enumerate(values)]
        for pair in checked:
            if pair is not None:
                np.copyto(*pair)

    def _checked(self, index: Any, value: Any) -> tuple[Array, Array] | None:
        """(view, values in its dtype) for ``self[index] = value``; None for a layer
        without bias given None; else an InputError."""
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise InputError(
                f"network.{self._what}[{index!r}] = ...: assign one layer at a time by its "
                f"index (0 to {len(self) - 1}), or the whole list with network.{self._what} = "
                "[...]."
            )
        view: Array | None = self[index]  # (an IndexError beyond the layers, as a list's)
        position = index % len(self) + 1
        if view is None:
            if value is None:
                return None
            raise InputError(
                f"layer {position} has no bias (use_bias=False), so network.biases[{index}] "
                "can only be None."
            )
        try:
            with np.errstate(over="ignore"):  # too large for the dtype: reported below
                array = np.asarray(value, dtype=view.dtype)
        except (TypeError, ValueError):
            raise InputError(
                f"network.{self._what}[{index}] must be numbers of shape {view.shape}; "
                f"received {type(value).__name__}."
            ) from None
        if array.shape != view.shape:
            raise InputError(
                f"network.{self._what}[{index}] has shape {view.shape} (layer {position}); "
                f"received shape {array.shape}. Give an array of that shape."
            )
        if not np.isfinite(array).all():
            raise InputError(
                f"network.{self._what}[{index}] must be finite; received NaN or infinity (or "
                f"values too large for {view.dtype.name})."
            )
        return view, array

    def _fixed(self, *args: Any, **kwargs: Any) -> None:
        raise InputError(
            f"network.{self._what} has one entry per layer, fixed by the architecture; "
            "assign to an entry (network.weights[0] = W) to change its values."
        )

    __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _fixed  # type: ignore[assignment]
    __iadd__ = __imul__ = _fixed  # type: ignore[assignment]

    def __reduce__(self) -> Any:  # (copied or pickled on its own: a plain list of arrays)
        return (list, (list(self),))


def layer_views(network: Any, params: Array) -> tuple[list[Array], list[Array | None]]:
    """Each layer's weight matrix and bias vector (None without bias) as views of the flat
    vector ``params`` (the network's buffer, its gradient, ...)."""
    layout, layers = network.layout, network.layers
    weights = [layout.view(params, f"W{i}") for i in range(1, len(layers) + 1)]
    biases = [
        layout.view(params, f"b{i}") if layer.use_bias else None
        for i, layer in enumerate(layers, start=1)
    ]
    return weights, biases


def assign_flat(buffer: Array, values: ArrayLike, dtype: np.dtype) -> None:
    """Copy ``values`` into the flat ``buffer`` (``net.parameters = values``), checked."""
    array = np.asarray(values)
    if array.dtype.kind not in "iuf" or array.shape != buffer.shape:
        raise InputError(
            f"network.parameters takes a flat array of {buffer.size} numbers (shape "
            f"({buffer.size},)); received {array.dtype} values of shape {array.shape}. "
            "Assign a copy taken from this network (saved = net.parameters.copy(); later "
            "net.parameters = saved), or use set_parameters({'W1': ..., ...}) for "
            "tensors by name."
        )
    with np.errstate(over="ignore", invalid="ignore"):  # too large: reported below
        cast = array.astype(dtype, copy=False)
    if not np.isfinite(cast).all():
        raise InputError(
            f"the values assigned to network.parameters contain NaN or infinity (or "
            f"values too large for {dtype.name}); expected finite numbers."
        )
    np.copyto(buffer, cast)


def set_named(network: Any, values: Mapping[str, ArrayLike]) -> None:
    """Copy named tensors into ``network``'s buffer: :meth:`Network.set_parameters
    <deltarule.network.Network.set_parameters>`."""
    dtype = network.dtype
    checked = []  # every tensor is checked before any is written: all or nothing
    for name, value in values.items():
        target = network.layout.view(network.parameters, name)
        try:
            with np.errstate(over="ignore"):  # too large for the dtype: reported below
                array = np.asarray(value, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"{name} could not be read as numbers ({exc}); expected an array of shape "
                f"{target.shape} of {dtype.name}."
            ) from None
        if array.shape != target.shape:
            raise InputError(
                f"{name} has shape {array.shape}; the network expects {target.shape} "
                "(weights are (n_outputs, n_inputs))."
            )
        if not np.isfinite(array).all():
            raise InputError(
                f"{name} contains NaN or infinity (or values too large for "
                f"{dtype.name}); expected finite numbers."
            )
        checked.append((target, array))
    for target, array in checked:
        target[...] = array


def _fill(target: Array, values: Any, what: str) -> None:
    """Copy an initializer's output into a parameter view, checking it (user callables)."""
    values = np.asarray(values)
    try:
        fits = np.broadcast_shapes(values.shape, target.shape) == target.shape
    except ValueError:
        fits = False
    if values.dtype.kind not in "biuf" or not fits:
        raise InputError(
            f"the {what} returned {values.dtype} values of shape {values.shape}; expected "
            f"numbers of shape {target.shape} (its first argument)."
        )
    with np.errstate(over="ignore", invalid="ignore"):  # reported below
        target[...] = values
    if not np.isfinite(target).all():
        raise InputError(
            f"the {what} returned NaN, infinity or values too large for {target.dtype}; "
            "expected finite numbers."
        )


def _call_initializer(
    init: Any, target: Array, fan_in: int, fan_out: int, rng: Any, what: str
) -> Any:
    """``init(shape, fan_in, fan_out, rng, dtype)``; a call that does not fit that signature
    (a user's ``lambda shape: ...``) is an InputError that shows it."""
    try:
        return init(target.shape, fan_in, fan_out, rng, target.dtype)
    except TypeError as exc:
        raise InputError(
            f"the {what} could not be called as init(shape, fan_in, fan_out, rng, dtype) "
            f"({exc}); an initializer takes those five arguments, e.g. lambda shape, fan_in, "
            "fan_out, rng, dtype: rng.normal(0, 0.1, shape)."
        ) from exc


FIT_STREAM = 0xF17
"""The second word of the seed of a seeded network's fit stream, ``[seed, FIT_STREAM]``."""


def _fit_stream(seed: SeedLike, rng: np.random.Generator) -> np.random.Generator | None:
    """The stream :func:`deltarule.training.fit` draws its seeds from when it is given none,
    for a network made (or re-initialised) with ``seed``: a seeded network trains the same
    way on every run of a program (as scikit-learn's ``random_state`` covers a whole fit),
    each fit of it from a seed of its own. None for an unseeded network (fresh entropy).
    An int seed's stream is ``[seed, FIT_STREAM]``'s; a Generator's is spawned from it,
    which draws nothing from it (the weights are those the Generator gives)."""
    if seed is None:
        return None
    if isinstance(seed, np.random.Generator):
        return rng.spawn(1)[0]
    return np.random.default_rng([int(seed), FIT_STREAM])


def initialize(network: Any, initializer: Any, bias_initializer: Any, seed: SeedLike) -> None:
    """Draw ``network``'s weights and biases in place: :meth:`Network.initialize
    <deltarule.network.Network.initialize>`."""
    rng = make_rng(seed)
    network._fit_stream = _fit_stream(seed, rng)
    w_init, b_init = get_initializer(initializer), get_initializer(bias_initializer)
    for layer, weight, bias in zip(network.layers, network.weights, network.biases):
        fan_in, fan_out = layer.n_inputs, layer.n_outputs
        for init, target, what in [
            (w_init, weight, "initializer"),
            (b_init, bias, "bias_initializer"),
        ]:
            if target is not None:
                _fill(target, _call_initializer(init, target, fan_in, fan_out, rng, what), what)
