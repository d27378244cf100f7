r"""The multi-layer perceptron: forward, backward, loss and gradient, predict.

A :class:`Network` is a stack of :class:`~deltarule.layers.Dense` layers whose
parameters all live in one flat buffer (:mod:`deltarule.parameters`). The
backward pass applies the chain rule layer by layer, from the output error
signal :math:`\delta^{(L)} = \partial E/\partial z^{(L)}` back to the first
layer, :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)}) \odot f_l'(z^{(l)})`.

Examples
--------
>>> import numpy as np
>>> import deltarule as dr
>>> net = dr.Network([2, 3, 1], activation="tanh", seed=0, dtype="float64")
>>> X = np.array([[0.0, 1.0], [1.0, 0.0]])
>>> y = np.array([[1.0], [1.0]])
>>> loss, grad = net.loss_and_gradient(X, y)
>>> grad.shape == net.parameters.shape
True
"""

from __future__ import annotations

import copy as _copy
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import _inference, _memory, _rowops, _sparse
from ._typing import Array, ArrayLike, DTypeLike, SeedLike
from ._validation import (
    check_dtype,
    check_features,
    check_sample_weight,
    check_target_range,
    check_targets,
)
from .activations import ACTIVATIONS, Activation, get_activation
from .exceptions import InputError
from .initializers import get_initializer, make_rng
from .layers import Dense, DenseBuffers, DenseCache, plain_dense
from .losses import (
    CLASSIFICATION_LOSSES,
    Loss,
    batch_scale,
    fused_pair,
    get_loss,
    reduce_weighted,
)
from .parameters import ParameterLayout

if TYPE_CHECKING:
    from .training import History

__all__ = ["Network", "Observer"]


class Observer(Protocol):
    """Receives the real intermediate values of a forward/backward pass (used by ``explain``)."""

    def on_forward(self, index: int, layer: Dense, cache: DenseCache) -> None: ...

    def on_loss(self, value: float, output: Array, target: Array, delta: Array) -> None: ...

    def on_backward(
        self, index: int, layer: Dense, delta: Array, grad_weight: Array, grad_bias: Array | None
    ) -> None: ...


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


def _require_targets(y: Any) -> Any:
    if y is None:
        raise InputError(
            "y is None; computing the error needs targets of shape (n_samples, n_outputs)."
        )
    return y


def _overflow_quietly() -> Any:
    """Silence NumPy's overflow warnings where the caller sees the non-finite result."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


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
    default = _default_loss(activation)
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


def _default_loss(output_activation: Activation) -> str:
    return {
        "softmax": "categorical_crossentropy",
        "sigmoid": "binary_crossentropy",
    }.get(output_activation.name, "half_squared_error")


def require_network(network: Any, what: str) -> Network:
    """``network`` if it is a :class:`Network`, else an InputError naming ``what`` needs one."""
    if not isinstance(network, Network):
        raise InputError(
            f"{what} needs a deltarule Network; received {type(network).__name__} "
            f"{network!r:.40}. Build one (deltarule.Network) or load one "
            "(deltarule.io.load_model(path).network)."
        )
    return network


INFER_CHUNK = 2048
"""Rows per forward pass in :meth:`Network.infer`."""


class _Views(list):
    """A network's per-layer views into its parameter buffer (:attr:`Network.weights`,
    :attr:`Network.biases`). Assigning an entry copies the values into its view: replacing
    the view itself would disconnect it (predict would use the new array while training
    and saving used the buffer)."""

    def __init__(self, views: list[Array | None], what: str) -> None:
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
        view = self[index]  # (an IndexError beyond the layers, as a list's)
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

    __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _fixed
    __iadd__ = __imul__ = _fixed

    def __reduce__(self) -> Any:  # (copied or pickled on its own: a plain list of arrays)
        return (list, (list(self),))


class Network:
    r"""A multi-layer perceptron with all parameters in one flat buffer.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, e.g. ``[784, 256, 10]``; at least two entries.
    activation : str, Activation, or sequence of them
        Hidden-layer activation (one for all, or one per hidden layer).
    output_activation : str or Activation, default "identity"
        The output layer's activation.
    loss : str or Loss, default "auto"
        "auto" picks categorical cross-entropy for softmax outputs, binary
        cross-entropy for sigmoid outputs and the tutorial's
        :math:`\tfrac12\sum(t-o)^2` otherwise.
    use_bias : bool or sequence of bool
        Bias per layer.
    dropout : float or sequence of float
        Dropout rate of each hidden layer's output during training (one for all, or one
        per hidden layer); a network without a hidden layer takes none.
    initializer : str or callable, default "glorot_uniform"
        Weight initialisation (see :mod:`deltarule.initializers`).
    bias_initializer : str or callable, default "zeros"
    dtype : {"float32", "float64"}
        Parameter and computation dtype, kept end to end.
    seed : int, Generator or None
        Source of the initial weights.

    Attributes
    ----------
    parameters : ndarray of shape (n_parameters,)
        The flat buffer. ``weights[i]`` and ``biases[i]`` are views into it; assigning
        ``net.parameters = values`` copies the values into it.
    layout : ParameterLayout
        Names ("W1", "b1", "W2", ...), shapes and offsets in the buffer.
    trainable : ndarray of bool, shape (n_parameters,)
        False where a parameter is frozen (see :meth:`freeze`).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "relu",
        output_activation: str | Activation = "identity",
        loss: str | Loss = "auto",
        use_bias: bool | Sequence[bool] = True,
        dropout: float | Sequence[float] = 0.0,
        initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        dtype: DTypeLike = "float32",
        seed: SeedLike = None,
    ) -> None:
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
        n_layers = len(sizes) - 1
        hidden = _per_layer(activation, n_layers - 1, "activation") if n_layers > 1 else []
        if n_layers == 1:  # no hidden layer: still a known name (a typo is an error), no list
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
        activations = [get_activation(a) for a in hidden] + [get_activation(output_activation)]
        biases = _per_layer(use_bias, n_layers, "use_bias")
        drops = _dropout_rates(dropout, sizes) + [0.0]
        self.dtype: np.dtype = check_dtype(dtype)
        self.layers: tuple[Dense, ...] = tuple(
            Dense(int(sizes[i]), int(sizes[i + 1]), activations[i], bool(biases[i]), drops[i])
            for i in range(n_layers)
        )
        output_act = self.layers[-1].activation
        _refuse_one_unit_softmax(self.layers)
        self.loss: Loss = get_loss(_default_loss(output_act) if _is_auto(loss) else loss)
        _check_output_pair(output_act, self.loss)
        entries: list[tuple[str, tuple[int, ...]]] = []
        for i, layer in enumerate(self.layers, start=1):
            entries.append((f"W{i}", (layer.n_outputs, layer.n_inputs)))
            if layer.use_bias:
                entries.append((f"b{i}", (layer.n_outputs,)))
        self.layout = ParameterLayout(entries)
        try:
            self._parameters: Array = self.layout.allocate(self.dtype)
        except (MemoryError, ValueError, OverflowError) as exc:
            raise InputError(
                f"layer_sizes {sizes} need {self.layout.size:,} parameters "
                f"({self.layout.size * self.dtype.itemsize:,} bytes), which cannot be "
                "allocated; use narrower layers."
            ) from exc
        self.trainable: np.ndarray = np.ones(self.layout.size, dtype=bool)
        self._bind_views()
        self.initialize(initializer, bias_initializer, seed)

    # ------------------------------------------------------------------ layout
    @property
    def parameters(self) -> Array:
        """The flat buffer, ndarray of shape (n_parameters,); ``weights[i]`` and
        ``biases[i]`` are views into it.

        Assigning copies the values into this buffer (``net.parameters = saved`` restores
        saved weights, as ``model.load_state_dict`` does in PyTorch): the views, and any
        reference to the buffer taken before, stay bound to it.
        """
        return self._parameters

    @parameters.setter
    def parameters(self, values: ArrayLike) -> None:
        buffer = self._parameters
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
            cast = array.astype(self.dtype, copy=False)
        if not np.isfinite(cast).all():
            raise InputError(
                f"the values assigned to network.parameters contain NaN or infinity (or "
                f"values too large for {self.dtype.name}); expected finite numbers."
            )
        np.copyto(buffer, cast)

    def _bind_views(self) -> None:
        weights = [
            self.layout.view(self.parameters, f"W{i}") for i in range(1, len(self.layers) + 1)
        ]
        biases = [
            self.layout.view(self.parameters, f"b{i}") if layer.use_bias else None
            for i, layer in enumerate(self.layers, start=1)
        ]
        self._weights, self._biases = _Views(weights, "weights"), _Views(biases, "biases")

    @property
    def weights(self) -> _Views:
        """Each layer's weight matrix, shape ``(n_outputs, n_inputs)``: views into
        :attr:`parameters`. Assigning to an entry (``net.weights[0] = W``) or to the whole
        list copies the values in, as writing through a view does."""
        return self._weights

    @weights.setter
    def weights(self, values: Sequence[ArrayLike]) -> None:
        self._weights.assign(values)

    @property
    def biases(self) -> _Views:
        """Each layer's bias vector (None for a layer without bias): views into
        :attr:`parameters`; assigning copies the values in, as for :attr:`weights`."""
        return self._biases

    @biases.setter
    def biases(self, values: Sequence[ArrayLike | None]) -> None:
        self._biases.assign(values)

    def _views(self, params: Array) -> tuple[list[Array], list[Array | None]]:
        if params is self.parameters:
            return self.weights, self.biases
        cached = self.__dict__.get("_last_views")
        if cached is not None and cached[0] is params:  # e.g. the trainer's gradient buffer
            return cached[1], cached[2]
        weights = [self.layout.view(params, f"W{i}") for i in range(1, len(self.layers) + 1)]
        biases = [
            self.layout.view(params, f"b{i}") if layer.use_bias else None
            for i, layer in enumerate(self.layers, start=1)
        ]
        # Views of one other buffer are kept (with the buffer, so its identity stays its own).
        self._last_views = (params, weights, biases)
        return weights, biases

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_inputs

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_outputs

    @property
    def layer_sizes(self) -> list[int]:
        return [self.layers[0].n_inputs] + [layer.n_outputs for layer in self.layers]

    @property
    def n_parameters(self) -> int:
        return self.layout.size

    @property
    def weight_mask(self) -> np.ndarray:
        """Flat bool mask, True on weights (not biases): where L1/L2 penalties apply."""
        return self.layout.mask([f"W{i}" for i in range(1, len(self.layers) + 1)])

    def initialize(
        self,
        initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        seed: SeedLike = None,
    ) -> Network:
        """Draw new weights and biases in place from ``seed``; returns self."""
        rng = make_rng(seed)
        w_init, b_init = get_initializer(initializer), get_initializer(bias_initializer)
        for layer, weight, bias in zip(self.layers, self.weights, self.biases):
            fan_in, fan_out = layer.n_inputs, layer.n_outputs
            for init, target, what in [
                (w_init, weight, "initializer"),
                (b_init, bias, "bias_initializer"),
            ]:
                if target is not None:
                    _fill(target, _call_initializer(init, target, fan_in, fan_out, rng, what), what)
        return self

    def set_parameters(self, values: Mapping[str, ArrayLike]) -> Network:
        """Copy named tensors ("W1", "b1", ...) into the buffer, checking shapes; returns self.

        Weights ``W{i}`` have shape (n_outputs, n_inputs): row ``j`` holds the weights into
        neuron ``j``.
        """
        checked = []  # every tensor is checked before any is written: all or nothing
        for name, value in values.items():
            target = self.layout.view(self.parameters, name)
            try:
                with np.errstate(over="ignore"):  # too large for the dtype: reported below
                    array = np.asarray(value, dtype=self.dtype)
            except (ValueError, TypeError) as exc:
                raise InputError(
                    f"{name} could not be read as numbers ({exc}); expected an array of shape "
                    f"{target.shape} of {self.dtype.name}."
                ) from None
            if array.shape != target.shape:
                raise InputError(
                    f"{name} has shape {array.shape}; the network expects {target.shape} "
                    "(weights are (n_outputs, n_inputs))."
                )
            if not np.isfinite(array).all():
                raise InputError(
                    f"{name} contains NaN or infinity (or values too large for "
                    f"{self.dtype.name}); expected finite numbers."
                )
            checked.append((target, array))
        for target, array in checked:
            target[...] = array
        return self

    def get_parameters(self) -> dict[str, Array]:
        """Return a copy of every named tensor."""
        return {s.name: self.layout.view(self.parameters, s.name).copy() for s in self.layout.specs}

    def freeze(self, *names: str) -> Network:
        """Exclude the named tensors from training (e.g. ``freeze("b1", "b2")``); returns self."""
        for name in names:
            self.trainable[self.layout[name].slice] = False
        return self

    def unfreeze(self, *names: str) -> Network:
        """Make the named tensors (all, when none named) trainable again; returns self."""
        for name in names or self.layout.names:
            self.trainable[self.layout[name].slice] = True
        return self

    # -------------------------------------------------------------- computation
    def forward(
        self,
        X: Array,
        params: Array | None = None,
        *,
        rng: np.random.Generator | None = None,
        observer: Observer | None = None,
        buffers: Sequence[DenseBuffers] | None = None,
    ) -> tuple[Array, list[DenseCache]]:
        """Run the forward pass on trusted, validated input.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs), of the network's dtype
        params : ndarray of shape (n_parameters,), optional
            Parameters to use instead of the network's own buffer.
        rng : Generator, optional
            Enables dropout (training only).
        observer : Observer, optional
            Told every layer's cache.
        buffers : list of DenseBuffers, optional
            From :meth:`buffers`: arrays to compute in instead of new ones (same values);
            the output and caches then live in them until their next use.

        Returns
        -------
        output : ndarray of shape (n_samples, n_outputs)
        caches : list of DenseCache, one per layer
        """
        weights, biases = self._views(self.parameters if params is None else params)
        caches = []
        out = X
        for index, (layer, weight, bias) in enumerate(zip(self.layers, weights, biases)):
            out, cache = layer.forward(weight, bias, out, rng, buffers and buffers[index])
            caches.append(cache)
            if observer is not None:
                observer.on_forward(index, layer, cache)
        return out, caches

    def backward(
        self,
        caches: list[DenseCache],
        target: Array,
        sample_weight: Array | None = None,
        params: Array | None = None,
        *,
        out: Array | None = None,
        observer: Observer | None = None,
        buffers: Sequence[DenseBuffers] | None = None,
    ) -> tuple[float, Array]:
        """Return ``(E, dE/dθ)`` from the caches of :meth:`forward`.

        The gradient is written into ``out`` (a flat buffer) when given; the error
        signals into ``buffers`` (from :meth:`buffers`) when given.
        """
        params = self.parameters if params is None else params
        weights, _ = self._views(params)
        grad = self.layout.allocate(self.dtype) if out is None else out
        grad_weights, grad_biases = self._views(grad)
        last = caches[-1]
        pair = fused_pair(self.layers[-1].activation, self.loss)
        scale = batch_scale(target.shape[0], sample_weight, self.dtype)
        n = target.shape[0]
        delta_out = None if buffers is None else buffers[-1].delta[:n]
        loss = self.error(caches, target, sample_weight, work=delta_out)  # before delta_out's use
        if pair is not None:
            delta = pair.gradient(last.net, last.out, target, delta_out)
            if delta_out is None:
                delta = delta * scale
            else:  # the same products, without NumPy's broadcast buffer
                delta = _rowops.column_op("multiply", delta, scale, delta_out)
            grad_out = None
        else:
            grad_out = self.loss.gradient(last.out, target) * scale
            delta = None
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            grad_out, delta = layer.backward(
                weights[index],
                caches[index],
                grad_out,
                grad_weights[index],
                grad_biases[index],
                delta=delta,
                need_input_grad=index > 0,
                buffers=buffers and buffers[index],
            )
            if observer is not None:
                if index == len(self.layers) - 1:
                    observer.on_loss(loss, last.out, target, delta)
                observer.on_backward(index, layer, delta, grad_weights[index], grad_biases[index])
            delta = None
        return loss, grad

    def objective_terms(self) -> tuple[float, float] | None:
        r"""``(c, lambda)`` of this network's objective on a batch of :math:`s_B` examples,
        :math:`cE + \tfrac{\lambda}{2 s_B}\lVert W\rVert^2` (weights, not biases; one
        example: :math:`cE + \tfrac{\lambda}{2}\lVert W\rVert^2`), for code that computes it
        without :meth:`backward` (the compiled paths); None when a subclass changed the
        computation in a way these two numbers do not describe. The plain network: (1, 0).
        """
        methods = ("forward", "backward", "error")
        plain = all(getattr(type(self), m) is getattr(Network, m) for m in methods)
        return (1.0, 0.0) if plain else None

    def buffers(self, batch_size: int, backward: bool = True) -> list[DenseBuffers]:
        """Return arrays for :meth:`forward` (and :meth:`backward`) on up to ``batch_size`` rows."""
        return [
            DenseBuffers.allocate(layer, batch_size, self.dtype, index == 0, backward)
            for index, layer in enumerate(self.layers)
        ]

    def infer(self, X: Array) -> Array:
        """Return the outputs for trusted, validated ``X`` (no dropout), shape (n, n_outputs).

        Up to :data:`INFER_CHUNK` rows go through each layer's :meth:`Dense.infer` (the
        forward pass without the caches the backward pass needs, bit for bit :meth:`forward`'s
        output: a 784-256-128-10 network's one-row prediction takes ~9 µs less of ~56),
        unless a subclass changed :meth:`forward`. Large inputs go through :meth:`forward`
        :data:`INFER_CHUNK` rows at a time in reused buffers: the intermediate arrays stay
        small (in cache, no page faults), which is faster than one pass over all rows. A row's
        output may differ in its last bits with the number of rows predicted at once (the
        matrix products' kernels depend on the shapes, as in every BLAS-based library): the
        same rows give the same outputs, one row alone and in a batch agree within float
        rounding. With numba and MKL installed, a compiled kernel shares blocks of rows
        between threads instead (:mod:`deltarule._inference`; likewise within rounding).

        A sparse (CSR) ``X`` is made dense :data:`INFER_CHUNK` rows at a time (fewer when
        they would take more than :data:`deltarule._sparse.CHUNK_BYTES`), each chunk
        computed as above: the outputs of the dense rows in the same chunks.
        """
        if _sparse.is_sparse(X):
            output = np.empty((X.shape[0], self.n_outputs), self.dtype)
            for start, stop, rows in _sparse.dense_chunks(X, INFER_CHUNK):
                output[start:stop] = self.infer(rows)
            return output
        n = X.shape[0]
        plain = type(self).forward is Network.forward and plain_dense(self.layers)
        if n <= INFER_CHUNK:
            if not plain:
                return self.forward(X)[0]
            out = X
            for layer, weight, bias in zip(self.layers, self.weights, self.biases):
                out = layer.infer(weight, bias, out)
            return out
        # in threads, with MKL's products, when installed (a subclass's forward: its own)
        output = _inference.infer(self, X) if plain else None
        if output is not None:
            return output
        buffers = self.buffers(INFER_CHUNK, backward=False)
        output = np.empty((n, self.n_outputs), self.dtype)
        for start in range(0, n, INFER_CHUNK):
            stop = min(start + INFER_CHUNK, n)
            output[start:stop] = self.forward(X[start:stop], buffers=buffers)[0]
        return output

    def loss_and_gradient(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        params: Array | None = None,
        out: Array | None = None,
        observer: Observer | None = None,
    ) -> tuple[float, Array]:
        r"""Return the error :math:`E` and its gradient over the flat parameter vector.

        A pure function of ``params`` (the network's own buffer by default) and the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
        y : array-like of shape (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
        params : ndarray of shape (n_parameters,), optional
        out : ndarray of shape (n_parameters,), optional
            Buffer the gradient is written into.

        Returns
        -------
        loss : float
        gradient : ndarray of shape (n_parameters,)
        """
        X, y, sw = self.validate(X, _require_targets(y), sample_weight)
        params = None if params is None else self._check_flat(params, "params")
        out = None if out is None else self._check_flat(out, "out")
        with _overflow_quietly():  # an overflow shows as a non-finite loss
            _, caches = self.forward(X, params, observer=observer)
            return self.backward(caches, y, sw, params, out=out, observer=observer)

    def _check_flat(self, array: Any, name: str) -> Array:
        """``array`` if it is a flat vector of this network's parameters and dtype, else an
        InputError (``params`` of another dtype is converted; ``out`` is written in place)."""
        n = self.layout.size
        given = np.asarray(array) if name == "params" else array
        ok = isinstance(given, np.ndarray) and given.shape == (n,)
        if ok and name == "params" and given.dtype.kind in "iuf":
            return given.astype(self.dtype, copy=False)
        if ok and given.dtype == self.dtype:
            return given
        shown = (
            f"{given.dtype} array of shape {given.shape}"
            if isinstance(given, np.ndarray)
            else type(array).__name__
        )
        raise InputError(
            f"{name} must be a flat {self.dtype.name} array of this network's {n} parameters "
            f"(shape ({n},)); received a {shown}. Start from a copy of the network's buffer, "
            f"e.g. {name}=net.parameters.copy()."
        )

    def validate(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        names: tuple[str, str, str] = ("X", "y", "sample_weight"),
        *,
        accept_sparse: bool = False,
    ) -> tuple[Array, Array | None, Array | None]:
        """Check and convert data for this network (clear errors on bad input, which call the
        arrays by ``names``).

        With ``accept_sparse``, a sparse ``X`` (any scipy.sparse format) is returned as a
        CSR matrix of the network's dtype (for the code that densifies its rows as it
        reads them: :mod:`deltarule._sparse`); otherwise it is refused.
        """
        x_name, y_name, w_name = names
        X = check_features(X, self.n_inputs, self.dtype, x_name, accept_sparse=accept_sparse)
        if y is not None:
            y = check_targets(y, X.shape[0], self.n_outputs, self.dtype, y_name, x_name)
            check_target_range(y, self.loss.name, y_name)
        sw = check_sample_weight(sample_weight, X.shape[0], self.dtype, w_name)
        return X, y, sw

    def predict(self, X: ArrayLike) -> Array:
        """Return the network's outputs for ``X``, shape (n_samples, n_outputs).

        ``X`` may be a scipy sparse matrix (any format): its rows are made dense a chunk at
        a time (:meth:`infer`), so the dense matrix is never held whole.

        Raises
        ------
        InputError
            If ``X`` is not usable, or the outputs overflow to infinity or NaN (inputs or
            weights too large for the dtype); never returns non-finite outputs.
        """
        X, _, _ = self.validate(X, accept_sparse=True)
        with _overflow_quietly():
            output = self.infer(X)
        if not np.isfinite(output).all():
            rows = np.flatnonzero(~np.isfinite(output).all(axis=1))
            raise InputError(
                f"the network's outputs overflowed to infinity or NaN for {rows.size} of "
                f"{output.shape[0]} samples (first: row {rows[0]}, whose largest |value| is "
                f"{abs(X[rows[0]]).max():.3g}; the largest |weight| is "
                f"{np.abs(self.parameters).max():.3g}): {self.dtype} cannot hold the "
                "intermediate values. Scale X as the training data were scaled (e.g. "
                "standardise it), retrain with a lower learning rate if the weights are huge, "
                "or use dtype='float64'."
            )
        return output

    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: str | Sequence[Any] | None = None,
    ) -> Any:
        """Return the error :math:`E` on ``(X, y)`` without computing a gradient; with
        ``metrics``, a dict of it and the metrics (Keras's ``evaluate(..., return_dict=True)``).

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        y : array-like of shape (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Weighs the error and the metrics, as in training.
        metrics : str, Metric or list of them, optional
            Names from :data:`deltarule.metrics.METRICS` (``"accuracy"``, ``"r2"``, ...) or
            :class:`~deltarule.metrics.Metric` objects, as ``fit(metrics=...)`` takes them.

        Returns
        -------
        float or dict
            :math:`E` alone without ``metrics``; else ``{"loss": E, name: value, ...}``, the
            names as the training history's columns.

        Raises
        ------
        InputError
            For unusable data, an unknown metric, or a metric that cannot score the
            targets (accuracy on regression targets).
        """
        X, y, sw = self.validate(X, _require_targets(y), sample_weight, accept_sparse=True)
        if metrics is None:
            return self.evaluate_params(self.parameters, X, y, sw)
        from .metrics import check_targets, get_metric

        chosen = [get_metric(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
        check_targets(chosen, y, self.loss.name in CLASSIFICATION_LOSSES)
        loss = self.evaluate_params(self.parameters, X, y, sw)
        with _overflow_quietly():
            output = self.infer(X)
        return {"loss": loss, **{m.name: m(output, y, sw) for m in chosen}}

    def evaluate_params(
        self, params: Array, X: Array, y: Array, sample_weight: Array | None = None
    ) -> float:
        r"""Return :math:`E(\theta)` for a flat parameter vector on trusted, validated data.

        A sparse (CSR) ``X`` goes through the forward pass :data:`INFER_CHUNK` rows at a
        time (fewer for wide rows: :mod:`deltarule._sparse`), and :meth:`error` sees the
        output layer's cache alone.
        """
        with _overflow_quietly():  # an overflow shows as a non-finite error
            if _sparse.is_sparse(X):
                last = _sparse.output_cache(self, X, params, most=INFER_CHUNK)
                return self.error([last], y, sample_weight)
            _, caches = self.forward(X, params)
            return self.error(caches, y, sample_weight)

    def error(
        self,
        caches: list[DenseCache],
        target: Array,
        sample_weight: Array | None = None,
        work: Array | None = None,
    ) -> float:
        """Return :math:`E` from :meth:`forward`'s caches (log-sum-exp stable for fused pairs).

        ``work``, shaped like the output, is scratch space that saves temporaries.
        """
        last = caches[-1]
        pair = fused_pair(self.layers[-1].activation, self.loss)
        if pair is not None:
            return reduce_weighted(pair.per_sample(last.net, target, work), sample_weight)
        return self.loss(last.out, target, sample_weight)

    def jacobian(self, caches: list[DenseCache], params: Array | None = None) -> Array:
        r"""Return the per-sample Jacobian :math:`\partial o_{ik}/\partial\theta`.

        Returns
        -------
        ndarray of shape (n_samples * n_outputs, n_parameters)
            Row ``i * n_outputs + k`` is the gradient of output ``k`` of sample ``i``
            (used by Levenberg–Marquardt).
        """
        weights, _ = self._views(self.parameters if params is None else params)
        n, n_out = caches[-1].out.shape
        jac = np.zeros((n, n_out, self.layout.size), dtype=self.dtype)
        for k in range(n_out):
            grad_out = np.zeros((n, n_out), dtype=self.dtype)
            grad_out[:, k] = 1
            for index in range(len(self.layers) - 1, -1, -1):
                layer, cache = self.layers[index], caches[index]
                if cache.dropout_mask is not None:
                    grad_out = grad_out * cache.dropout_mask
                delta = layer.activation.backward(cache.net, cache.activated, grad_out)
                spec = self.layout[f"W{index + 1}"]
                jac[:, k, spec.slice] = np.einsum("ij,ik->ijk", delta, cache.inputs).reshape(n, -1)
                if layer.use_bias:
                    jac[:, k, self.layout[f"b{index + 1}"].slice] = delta
                grad_out = delta @ weights[index]
        return jac.reshape(n * n_out, -1)

    def fit(self, X: ArrayLike, y: ArrayLike, **kwargs: Any) -> History:
        """Train in place; see :func:`deltarule.training.fit` for the arguments."""
        from .training import fit

        return fit(self, X, y, **kwargs)

    # ------------------------------------------------------------------- misc
    def config(self) -> dict[str, Any]:
        """Return the architecture as plain JSON-able data (no weights).

        The loss is its name, or for a loss made with other parameters than its registered
        default's, ``{"name": ..., **parameters}`` (:meth:`Loss.config
        <deltarule.losses.Loss.config>`: ``huber(0.1)`` is ``{"name": "huber", "delta": 0.1}``).
        """
        return {
            "layer_sizes": self.layer_sizes,
            "activations": [layer.activation.name for layer in self.layers],
            "use_bias": [layer.use_bias for layer in self.layers],
            "dropout": [layer.dropout for layer in self.layers[:-1]],
            "loss": self.loss.config(),
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Network:
        """Build a network (zero weights) from :meth:`config` output."""
        acts = list(config["activations"])
        return cls(
            config["layer_sizes"],
            activation=acts[:-1] if len(acts) > 1 else "identity",
            output_activation=acts[-1],
            loss=config["loss"],
            use_bias=list(config["use_bias"]),
            dropout=list(config.get("dropout", [])) or 0.0,
            initializer="zeros",
            dtype=config["dtype"],
        )

    def __getstate__(self) -> dict[str, Any]:
        # The views are rebuilt on unpickling, so they stay views of the new buffer. The
        # buffer is stored as "parameters", as before it was a property.
        state = dict(self.__dict__)
        for key in ("_weights", "_biases", "_last_views"):
            state.pop(key, None)
        state["parameters"] = state.pop("_parameters")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["_parameters"] = state.pop("parameters")
        self.__dict__.update(state)
        self._bind_views()

    def _rebind(self, buffer: Array) -> None:
        """Make ``buffer`` this network's own (a new network's: :meth:`copy`, :meth:`astype`)."""
        self._parameters = buffer
        self.__dict__.pop("_last_views", None)
        self._bind_views()

    def copy(self) -> Network:
        """Return an independent copy (own buffer, same values and frozen set)."""
        new = _copy.copy(self)  # through __getstate__: no views or cached views copied
        new._rebind(_memory.copy(self.parameters))
        new.trainable = self.trainable.copy()
        return new

    def astype(self, dtype: DTypeLike) -> Network:
        """Return a copy computing in ``dtype``."""
        new = _copy.copy(self)
        new.dtype = check_dtype(dtype)
        new._rebind(_memory.copy(self.parameters, new.dtype))
        new.trainable = self.trainable.copy()
        return new

    def summary(self) -> str:
        """Return a Keras-like table of layers, shapes and parameter counts."""
        lines = [f"{'layer':<8}{'shape':<14}{'activation':<14}{'params':>8}"]
        for i, layer in enumerate(self.layers, start=1):
            n = layer.n_inputs * layer.n_outputs + (layer.n_outputs if layer.use_bias else 0)
            shape = f"{layer.n_inputs} -> {layer.n_outputs}"
            lines.append(f"{'dense' + str(i):<8}{shape:<14}{layer.activation.name:<14}{n:>8}")
        frozen = int((~self.trainable).sum())
        lines.append(f"total parameters: {self.n_parameters} ({frozen} frozen), dtype {self.dtype}")
        lines.append(f"loss: {self.loss.label}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        acts = ",".join(layer.activation.name for layer in self.layers)
        return (
            f"Network({self.layer_sizes}, activations=[{acts}], loss={self.loss.name!r}, "
            f"dtype={self.dtype.name})"
        )
