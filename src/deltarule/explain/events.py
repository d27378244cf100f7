r"""The recorded trace of one forward/backward pass: plain, frozen data.

A :class:`Trace` holds copies of what the network really computed (filled in
by :class:`~deltarule.explain.recorder.Recorder`): for every layer the inputs
:math:`x`, the net inputs :math:`net = xW^\top + b` and the outputs
:math:`out = f(net)`; the error; for every layer the error signal
:math:`\delta = \partial E/\partial net` and the gradients; the weights after
one gradient-descent update; and, optionally, the error along further training.
When the example came from a row of data (``deltarule explain --raw``) or the network was
trained on a standardised target, :class:`DataValue` records say which value in the data's
units each network input and target was made from. Renderers (text, Markdown, HTML, JSON)
read only this data.

Names follow the tutorial: inputs ``i1, i2, ...``, hidden neurons ``h1, h2, ...``
(``h2.3`` is neuron 3 of hidden layer 2 when there are several), outputs
``o1, o2, ...``; weights are numbered ``w1, w2, ...`` layer by layer, and
within a layer neuron by neuron (row-major in ``W{l}``), which is exactly the
tutorial's numbering of w1..w8.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._typing import Array
from ..exceptions import InputError
from ..parameters import ParameterLayout

__all__ = [
    "DataValue",
    "LayerForward",
    "LossRecord",
    "LayerBackward",
    "Trace",
    "WeightRef",
    "BiasRef",
    "neuron_labels",
    "require_trace",
    "weight_label",
]


@dataclass(frozen=True)
class LayerForward:
    """What layer ``index`` (0-based) computed in the forward pass.

    Attributes
    ----------
    index : int
    activation : str
        Registry name of the layer's activation.
    inputs : ndarray of shape (n_samples, n_inputs)
    weight : ndarray of shape (n_outputs, n_inputs)
        The weights used (row ``j`` = weights into neuron ``j``).
    bias : ndarray of shape (n_outputs,) or None
    net : ndarray of shape (n_samples, n_outputs)
    out : ndarray of shape (n_samples, n_outputs)
    derivative : ndarray of shape (n_samples, n_outputs) or None
        :math:`\\partial out/\\partial net` from the activation object's own
        derivative at the recorded (net, out); None for softmax, which is not
        element-wise.
    """

    index: int
    activation: str
    inputs: Array
    weight: Array
    bias: Array | None
    net: Array
    out: Array
    derivative: Array | None


@dataclass(frozen=True)
class LossRecord:
    """The error at the output.

    Attributes
    ----------
    name : str
        Registry name of the loss.
    total : float
        :math:`E_{total}`.
    output, target : ndarray of shape (n_samples, n_outputs)
    grad_output : ndarray of shape (n_samples, n_outputs)
        :math:`\\partial E/\\partial out`, from the loss object's gradient.
    delta : ndarray of shape (n_samples, n_outputs)
        :math:`\\partial E/\\partial net` at the output layer, as the backward pass had it.
    per_output : ndarray of shape (n_outputs,) or None
        :math:`E_{o_k}`, the share of each output when the loss is a sum over
        outputs (``half_squared_error``); None otherwise.
    fused : bool
        Whether the backward pass took ``delta`` from the output activation and loss's
        fused formula (:data:`deltarule.losses.FUSED_PAIRS`, e.g. sigmoid with binary
        cross-entropy: :math:`(out - target)/n`) rather than as the product
        :math:`\\partial E/\\partial out\\cdot\\partial out/\\partial net` of ``grad_output``
        and the activation's derivative (which a saturated output makes 0 times a huge
        clipped number).
    builtin : bool
        Whether the loss is the built-in one of its name (not a user's registered under
        it), so that the walk may write its formula out (:mod:`.errors`).
    """

    name: str
    total: float
    output: Array
    target: Array
    grad_output: Array
    delta: Array
    per_output: Array | None
    fused: bool = False
    builtin: bool = True


@dataclass(frozen=True)
class LayerBackward:
    """What the backward pass computed for layer ``index`` (0-based).

    ``grad_weight`` has the shape of the weights, (n_outputs, n_inputs).
    """

    index: int
    delta: Array
    grad_weight: Array
    grad_bias: Array | None


@dataclass(frozen=True)
class DataValue:
    r"""A value in the data's units that one network input or target was made from.

    A number is standardised, :math:`(raw - mean)/std`, with its column's training mean
    and standard deviation; a category becomes one 0/1 input per known category (1 for
    its own). The network's value itself is the trace's (its input or target), never
    stored here twice.

    Attributes
    ----------
    column : str
        The data column (``"age"``; the target's name for a target).
    raw : float or str
        The value as given: a number, or a category label.
    mean, std : float or None
        The standardisation of a number; None for a category.
    category : str, number or None
        For a one-hot input: the category it stands for (its value is 1 when ``raw`` is
        that category, else 0); None for a number.
    """

    column: str
    raw: float | str
    mean: float | None = None
    std: float | None = None
    category: Any = None


@dataclass(frozen=True)
class WeightRef:
    """One weight: its tutorial label, place in ``W{layer}`` and in the flat buffer."""

    label: str
    layer: int
    row: int
    col: int
    flat: int


@dataclass(frozen=True)
class BiasRef:
    """One bias entry: its label, layer, neuron and flat index."""

    label: str
    layer: int
    row: int
    flat: int


@dataclass(frozen=True)
class Trace:
    """A recorded forward/backward pass, the update it implies and optional further training.

    Attributes
    ----------
    layer_sizes : tuple of int
    forward : tuple of LayerForward
    loss : LossRecord
    backward : tuple of LayerBackward
        In layer order (first layer first).
    learning_rate : float
        :math:`\\eta`.
    layout : ParameterLayout
    parameters, gradient, updated : ndarray of shape (n_parameters,)
        :math:`\\theta`, :math:`\\partial E/\\partial\\theta` and :math:`\\theta - \\eta g`
        (only on trainable entries).
    trainable : ndarray of bool, shape (n_parameters,)
    curve : tuple of (int, float)
        ``(updates, error)`` pairs along further training (empty without steps); only
        finite errors.
    final_error : float or None
        The error after ``steps`` updates; None when the training diverged.
    steps : int
    title : str
        What was traced, for headings.
    note : str
        Anything the reader must know (e.g. how the target was chosen).
    dropout : tuple of float
        The network's dropout rate of each layer's output (0 for the output layer). The
        trace is always the inference pass, with dropout off: the renderers say so when
        a rate is not 0.
    diverged : int or None
        When the further training diverged: the number of updates after which the error
        was no longer a finite number (training stopped there); None otherwise.
    raw_inputs : tuple of DataValue
        Empty, or one per network input: the data value it was made from.
    raw_targets : tuple of DataValue
        Empty, or one per output: the target in the data's units and its standardisation
        (the network was trained on :math:`(target - mean)/std`, so its output in the
        target's units is :math:`mean + std\\cdot out`).
    final_output : ndarray of shape (n_samples, n_outputs) or None
        The outputs after ``steps`` updates; None without steps or when the training
        diverged.
    footnotes : tuple of (str, str)
        ``(line, sentence)`` pairs: a sentence the walk prints after the line whose left
        side reads ``line`` (``"E after 1 update"``); the tutorial's published numbers that
        differ from the computed ones say why there (:mod:`.published`).
    """

    layer_sizes: tuple[int, ...]
    forward: tuple[LayerForward, ...]
    loss: LossRecord
    backward: tuple[LayerBackward, ...]
    learning_rate: float
    layout: ParameterLayout
    parameters: Array
    gradient: Array
    updated: Array
    trainable: np.ndarray
    curve: tuple[tuple[int, float], ...] = ()
    final_error: float | None = None
    steps: int = 0
    title: str = "a network"
    note: str = ""
    labels: tuple[tuple[str, ...], ...] = field(default=())
    dropout: tuple[float, ...] = ()
    diverged: int | None = None
    raw_inputs: tuple[DataValue, ...] = ()
    raw_targets: tuple[DataValue, ...] = ()
    final_output: Array | None = None
    footnotes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Name the neurons the tutorial's way unless labels were given."""
        if not self.labels:
            object.__setattr__(self, "labels", neuron_labels(self.layer_sizes))

    @property
    def dtype(self) -> np.dtype:
        """The network's dtype (float32 or float64): numbers are shown with its digits."""
        return self.parameters.dtype

    @property
    def n_samples(self) -> int:
        """Number of examples traced."""
        return int(self.forward[0].inputs.shape[0])

    def tensor(self, vector: Array, name: str) -> Array:
        """Return the named tensor ("W1", "b2", ...) of a flat vector of this trace."""
        return self.layout.view(vector, name)

    def weights(self) -> list[WeightRef]:
        """Every weight, numbered w1, w2, ... layer by layer, row-major (the tutorial's order)."""
        refs = []
        before = 0  # (the weights of the layers before: weight_label's count, once a layer)
        for layer in range(1, len(self.layer_sizes)):
            spec = self.layout[f"W{layer}"]
            n_out, n_in = spec.shape
            for row in range(n_out):
                for col in range(n_in):
                    number = before + row * n_in + col + 1
                    refs.append(WeightRef(f"w{number}", layer, row, col,
                                          spec.offset + row * n_in + col))  # fmt: skip
            before += n_out * n_in
        return refs

    def biases(self) -> list[BiasRef]:
        """Every bias entry; a layer whose biases are frozen and equal shares one label ``b{l}``."""
        refs = []
        for layer in range(1, len(self.layer_sizes)):
            if f"b{layer}" not in self.layout.names:
                continue
            spec = self.layout[f"b{layer}"]
            values = self.parameters[spec.slice]
            shared = spec.size == 1 or (
                not self.trainable[spec.slice].any() and bool(np.all(values == values[0]))
            )
            for row in range(spec.size):
                label = f"b{layer}" if shared else f"b{layer}.{row + 1}"
                refs.append(BiasRef(label, layer, row, spec.offset + row))
        return refs


def neuron_labels(layer_sizes: tuple[int, ...] | list[int]) -> tuple[tuple[str, ...], ...]:
    """Return the tutorial's neuron names per layer: inputs ``i*``, hidden ``h*``, outputs ``o*``.

    Examples
    --------
    >>> neuron_labels([2, 2, 2])
    (('i1', 'i2'), ('h1', 'h2'), ('o1', 'o2'))
    >>> neuron_labels([1, 2, 1, 1])[1:3]
    (('h1.1', 'h1.2'), ('h2.1',))

    Raises
    ------
    InputError
        If ``layer_sizes`` is not a list of at least two positive integers (inputs and
        outputs).
    """
    sizes = list(layer_sizes) if isinstance(layer_sizes, (list, tuple)) else None
    if sizes is None or len(sizes) < 2 or not all(_positive_int(n) for n in sizes):
        raise InputError(
            f"layer_sizes must list at least two positive integers, the inputs and the "
            f"outputs (e.g. [2, 2, 2]); received {layer_sizes!r}."
        )
    n_hidden = len(sizes) - 2
    names = [tuple(f"i{j + 1}" for j in range(sizes[0]))]
    for layer in range(1, len(sizes) - 1):
        prefix = "h" if n_hidden == 1 else f"h{layer}."
        names.append(tuple(f"{prefix}{j + 1}" for j in range(sizes[layer])))
    names.append(tuple(f"o{j + 1}" for j in range(sizes[-1])))
    return tuple(names)


def _positive_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def require_trace(trace: object, where: str) -> Trace:
    """Return ``trace`` if it is a :class:`Trace`, else raise a clear :class:`InputError`."""
    if not isinstance(trace, Trace):
        raise InputError(
            f"{where} needs a Trace (from deltarule.explain.trace or tutorial_trace); "
            f"received {type(trace).__name__} {trace!r:.60}."
        )
    return trace


def weight_label(layer_sizes: tuple[int, ...] | list[int], layer: int, row: int, col: int) -> str:
    """Return the tutorial's name of weight ``W{layer}[row, col]`` (``layer`` from 1).

    Weights are numbered layer by layer, and within a layer neuron by neuron.

    Examples
    --------
    >>> weight_label([2, 2, 2], 1, 0, 1), weight_label([2, 2, 2], 2, 1, 0)
    ('w2', 'w7')
    """
    sizes = list(layer_sizes)
    before = sum(sizes[k] * sizes[k + 1] for k in range(layer - 1))
    return f"w{before + row * sizes[layer - 1] + col + 1}"
