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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

import numpy as np

from . import _inference, _memory, _network_data, _network_views, _rowops, _sparse
from ._architecture import allocate, check_layer_sizes, make_layers, make_loss, parameter_layout
from ._network_data import check_flat, keyword_checked, overflow_quietly, require_targets
from ._network_views import _Views, assign_flat, layer_views, set_named
from ._typing import Array, ArrayLike, DTypeLike, SeedLike, ValidationData
from ._validation import check_dtype
from .activations import Activation
from .exceptions import InputError, KerasAttributeError
from .initializers import Initializer  # (loaded already, by _network_views)
from .layers import Dense, DenseBuffers, DenseCache, plain_dense
from .losses import Loss, batch_scale, fused_pair, reduce_weighted
from .metrics import Metric  # (for the hints of evaluate, which get_type_hints reads)

_FIT_ADVICE = {
    "initial_epoch": (
        "Keras's initial_epoch continues a run; Network.fit starts a new one each call (a new "
        "optimizer state, epochs numbered from 1). To continue a run, keep a Trainer "
        "(deltarule.Trainer(net, ...)) and call its fit again: its epochs are numbered on. "
        "epochs= is how many epochs this call runs."
    ),
    "steps_per_epoch": "Each epoch is one pass over every row; set batch_size= instead.",
    "validation_freq": "The validation data are scored after every epoch; leave it out.",
    "momentum": (
        "Momentum is an optimizer: optimizer='momentum' (or 'nesterov'), or one with your "
        "momentum, optimizer=deltarule.optimizers.Momentum(learning_rate=0.01, momentum=0.5)."
    ),
    "nesterov": (
        "Nesterov momentum is an optimizer: optimizer='nesterov', or "
        "optimizer=deltarule.optimizers.Nesterov(learning_rate=0.01, momentum=0.9)."
    ),
    "decay": (
        "A decaying learning rate is a schedule: schedule='inverse_scaling' (or 'exponential', "
        "'step', 'cosine'; see deltarule.schedules)."
    ),
    "tol": (
        "Stopping rules here are target_error= (stop at that loss), early_stopping=True with "
        "min_delta= and patience=, and min_gradient_norm=."
    ),
    "alpha": "The L2 penalty is l2= (scikit-learn's alpha; see fit's docstring for its scale).",
}
for _name in ("clipnorm", "clipvalue"):
    _FIT_ADVICE[_name] = (
        "deltarule does not clip gradients; leave it out. (max_norm= is a different rule: it "
        "bounds each neuron's incoming weight vector after each update, Keras's max_norm "
        "constraint.)"
    )
_INIT_ADVICE = {
    name: f"{name} is fit's: Network(...).fit(X, y, {name}=...)."
    for name in ("epochs", "batch_size", "optimizer", "learning_rate", "lr", "schedule",
                 "shuffle", "validation_split", "validation_data", "l2", "l1", "max_norm",
                 "metrics", "callbacks", "verbose", "early_stopping", "patience")
}  # fmt: skip
_INIT_ADVICE["lr"] = "The learning rate is fit's: Network(...).fit(X, y, learning_rate=...)."
_PREDICT_ADVICE = {
    "steps": "predict computes every row of X; pass the rows to predict (X[:n]).",
}

__all__ = ["Network", "Observer", "SummaryText"]


class SummaryText(str):
    """A ``str`` whose repr is the text itself: a table that shows as a table.

    :meth:`Network.summary` (and ``fit_restarts``' ``Restarts.summary``) return one, so
    that ``net.summary()`` as the last line of a Jupyter cell (or at the ``>>>`` prompt)
    shows the table, not its quoted repr with ``\\n``. It is a ``str`` in every other way:
    ``print``, ``splitlines``, ``in``, ``==`` and formatting are unchanged.

    Examples
    --------
    >>> SummaryText("a  b\\n1  2")
    a  b
    1  2
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # (IPython's display)
        printer.text(str(self))


class Observer(Protocol):
    """Receives the real intermediate values of a forward/backward pass (used by ``explain``)."""

    def on_forward(self, index: int, layer: Dense, cache: DenseCache) -> None: ...

    def on_loss(self, value: float, output: Array, target: Array, delta: Array) -> None: ...

    def on_backward(
        self, index: int, layer: Dense, delta: Array, grad_weight: Array, grad_bias: Array | None
    ) -> None: ...


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


class Network:
    r"""A multi-layer perceptron with all parameters in one flat buffer.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, e.g. ``[784, 256, 10]``; at least two entries.
    activation : str, Activation, or sequence of them, default "relu"
        Hidden-layer activation (one for all, or one per hidden layer).
    output_activation : str or Activation, default "identity"
        The output layer's activation.
    loss : str or Loss, default "auto"
        "auto" picks categorical cross-entropy for softmax outputs, binary
        cross-entropy for sigmoid outputs and the tutorial's
        :math:`\tfrac12\sum(t-o)^2` otherwise.
    use_bias : bool or sequence of bool, default True
        Bias per layer.
    dropout : float or sequence of float, default 0.0
        Dropout rate of each hidden layer's output during training (one for all, or one
        per hidden layer); a network without a hidden layer takes none.
    initializer : str or callable, default "glorot_uniform"
        Weight initialisation (see :mod:`deltarule.initializers`).
    bias_initializer : str or callable, default "zeros"
    dtype : {"float32", "float64"}, default "float32"
        Parameter and computation dtype, kept end to end.
    seed : int, Generator or None, default None
        Source of the initial weights (None: fresh entropy, different weights each time).

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

    @keyword_checked(_INIT_ADVICE)
    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "relu",
        output_activation: str | Activation = "identity",
        loss: str | Loss = "auto",
        use_bias: bool | Sequence[bool] = True,
        dropout: float | Sequence[float] = 0.0,
        initializer: str | Initializer = "glorot_uniform",
        bias_initializer: str | Initializer = "zeros",
        dtype: DTypeLike = "float32",
        seed: SeedLike = None,
    ) -> None:
        sizes = check_layer_sizes(layer_sizes)
        layers = make_layers(sizes, activation, output_activation, use_bias, dropout)
        self.dtype: np.dtype = check_dtype(dtype)
        self.layers: tuple[Dense, ...] = layers
        self.loss: Loss = make_loss(loss, self.layers)
        self.layout = parameter_layout(self.layers)
        self._parameters: Array = allocate(self.layout, self.dtype, sizes)
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
        assign_flat(self._parameters, values, self.dtype)

    def _bind_views(self) -> None:
        weights, biases = layer_views(self, self.parameters)
        self._weights, self._biases = _Views(weights, "weights"), _Views(biases, "biases")

    @property
    def weights(self) -> _Views[Array]:
        """Each layer's weight matrix, shape ``(n_outputs, n_inputs)``: views into
        :attr:`parameters`. Assigning to an entry (``net.weights[0] = W``) or to the whole
        list copies the values in, as writing through a view does."""
        return self._weights

    @weights.setter
    def weights(self, values: Sequence[ArrayLike]) -> None:
        self._weights.assign(values)

    @property
    def biases(self) -> _Views[Array | None]:
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
        weights, biases = layer_views(self, params)
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
        initializer: str | Initializer = "glorot_uniform",
        bias_initializer: str | Initializer = "zeros",
        seed: SeedLike = None,
    ) -> Network:
        """Draw new weights and biases in place from ``seed``; returns self."""
        _network_views.initialize(self, initializer, bias_initializer, seed)
        return self

    def set_parameters(self, values: Mapping[str, ArrayLike]) -> Network:
        """Copy named tensors ("W1", "b1", ...) into the buffer, checking shapes; returns self.

        Weights ``W{i}`` have shape (n_outputs, n_inputs): row ``j`` holds the weights into
        neuron ``j``.
        """
        set_named(self, values)
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
        X : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_inputs)
            Of the network's dtype. CSR rows (sparse data) go through the first layer by
            sparse products (:mod:`deltarule._sparse_products`); another sparse format is
            refused (an :class:`~deltarule.exceptions.InputError`: pass ``X.tocsr()``, or
            use :meth:`predict`, which checks and converts any input).
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

        A sparse ``X`` goes :data:`INFER_CHUNK` rows at a time (:func:`deltarule._sparse.infer`)
        through the first layer's sparse products where they are faster
        (:func:`deltarule._sparse.sparse_is_faster`; the outputs of ``X.toarray()`` within
        float rounding), else as dense rows (fewer when they would take more than
        :data:`deltarule._sparse.CHUNK_BYTES`) computed as above: the outputs of the dense
        rows in the same chunks.
        """
        if _sparse.is_sparse(X):
            return _sparse.infer(self, X, INFER_CHUNK)
        n = X.shape[0]
        plain = type(self).forward is Network.forward and plain_dense(self.layers)
        if n <= INFER_CHUNK:
            if not plain:
                return self.forward(X)[0]
            out = X
            for layer, weight, bias in zip(self.layers, self.weights, self.biases):
                out = layer.infer(weight, bias, out)
            return out
        # with numba, in threads: MKL's products, or NumPy's on one thread each (a
        # subclass's forward: its own)
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
        X, y, sw = self.validate(X, require_targets(y), sample_weight)
        params = None if params is None else check_flat(self, params, "params")
        out = None if out is None else check_flat(self, out, "out")
        with overflow_quietly():  # an overflow shows as a non-finite loss
            _, caches = self.forward(X, params, observer=observer)
            return self.backward(caches, y, sw, params, out=out, observer=observer)

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
        CSR matrix of the network's dtype (for the code that reads its rows as they are,
        or made dense: :mod:`deltarule._sparse`); otherwise it is refused.
        """
        return _network_data.validate(self, X, y, sample_weight, names, accept_sparse)

    @keyword_checked(_PREDICT_ADVICE)
    def predict(self, X: ArrayLike, *, batch_size: int | None = None, verbose: Any = 0) -> Array:
        """Return the network's outputs for ``X``, shape (n_samples, n_outputs).

        ``X`` may be a scipy sparse matrix (any format): it is read as CSR a chunk of rows
        at a time (:meth:`infer`), so the dense matrix is never held whole.

        ``batch_size`` and ``verbose`` are Keras's, taken so that Keras code runs: the rows
        are computed in chunks of :data:`INFER_CHUNK` whatever ``batch_size`` says (the
        same outputs), and predict prints nothing (``verbose`` must be 0, 1, 2 or "auto").
        Keras's ``x=`` is taken as ``X``.

        Raises
        ------
        InputError
            If ``X`` is not usable, or the outputs overflow to infinity or NaN (inputs or
            weights too large for the dtype); never returns non-finite outputs.
        """
        _keras_options(batch_size, verbose)
        X, _, _ = self.validate(X, accept_sparse=True)
        with overflow_quietly():
            output = self.infer(X)
        _network_data.refuse_overflowed(self, X, output)
        return output

    # What evaluate returns, by metrics and return_dict (as the last lines of its body):
    # without metrics, E (a float) unless return_dict is True ({"loss": E}); with metrics,
    # the dict unless return_dict is False (the list of the dict's values).
    @overload
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: None = None,
        return_dict: Literal[False] | None = None,
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> float: ...
    @overload
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: None = None,
        return_dict: Literal[True],
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> dict[str, float]: ...
    @overload
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: str | Metric | Sequence[str | Metric],
        return_dict: Literal[True] | None = None,
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> dict[str, float]: ...
    @overload
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: str | Metric | Sequence[str | Metric],
        return_dict: Literal[False],
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> list[float]: ...
    @overload
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: str | Metric | Sequence[str | Metric] | None = None,
        return_dict: bool | None = None,
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> float | dict[str, float] | list[float]: ...
    @keyword_checked()
    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        metrics: str | Metric | Sequence[str | Metric] | None = None,
        return_dict: bool | None = None,
        batch_size: int | None = None,
        verbose: Any = 0,
        threshold: float | None = None,
    ) -> float | dict[str, float] | list[float]:
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
        return_dict : bool, optional
            As Keras's: True, always the dict (``{"loss": E}`` without ``metrics``); False,
            :math:`E` alone without ``metrics``, else the list ``[E, value, ...]`` in the
            order of ``metrics``. None (the default): the dict with ``metrics``, else
            :math:`E`.
        batch_size, verbose
            Keras's, taken so that Keras code runs: the rows are computed in chunks whatever
            ``batch_size`` says (the same values), and evaluate prints nothing.
        threshold : float, optional
            Where one output column splits into classes 0 and 1 for the class metrics. By
            default the midpoint of the targets' two values, else of the output
            activation's range (sigmoid 0.5, tanh 0): rows of one class (a subset) are cut
            there, so pass the training targets' cut for them (0.5 for 0/1 targets, 0 for
            -1/+1), as training's validation metrics use it.

        Returns
        -------
        float, dict or list
            :math:`E` alone without ``metrics``; else ``{"loss": E, name: value, ...}``, the
            names as the training history's columns (``return_dict`` changes this).

        Raises
        ------
        InputError
            For unusable data, an unknown metric, or a metric that cannot score the
            targets (accuracy on regression targets).
        """
        _keras_options(batch_size, verbose)
        if return_dict is not None and not isinstance(return_dict, (bool, np.bool_)):
            raise InputError(
                f"return_dict must be True, False or None; received {return_dict!r:.60}."
            )
        X, y, sw = self.validate(X, require_targets(y), sample_weight, accept_sparse=True)
        if metrics is None:
            loss = self.evaluate_params(self.parameters, X, y, sw)
            return {"loss": loss} if return_dict else loss
        scores = _network_data.scores(self, X, y, sw, metrics, threshold)
        return list(scores.values()) if return_dict is False else scores

    def evaluate_params(
        self, params: Array, X: Array, y: Array, sample_weight: Array | None = None
    ) -> float:
        r"""Return :math:`E(\theta)` for a flat parameter vector on trusted, validated data.

        A sparse (CSR) ``X`` goes through the forward pass :data:`INFER_CHUNK` rows at a
        time (CSR rows or dense ones, fewer for wide dense rows: :mod:`deltarule._sparse`),
        and :meth:`error` sees the output layer's cache alone.
        """
        with overflow_quietly():  # an overflow shows as a non-finite error
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
                inputs = cache.inputs  # (CSR rows, from a forward pass on sparse X: dense)
                inputs = inputs.toarray() if _sparse.is_sparse(inputs) else inputs
                jac[:, k, spec.slice] = np.einsum("ij,ik->ijk", delta, inputs).reshape(n, -1)
                if layer.use_bias:
                    jac[:, k, self.layout[f"b{index + 1}"].slice] = delta
                grad_out = delta @ weights[index]
        return jac.reshape(n * n_out, -1)

    @keyword_checked(_FIT_ADVICE)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,  # (None: an error saying why)
        *,
        epochs: int = 200,
        batch_size: int | None | str = "auto",
        optimizer: str | Optimizer | FullBatchSolver = "adam",
        learning_rate: float | None = None,
        schedule: str | Schedule | None = None,
        shuffle: bool = True,
        seed: SeedLike = None,
        sample_weight: ArrayLike | None = None,
        class_weight: Any = None,
        validation_split: float = 0.0,
        validation_data: ValidationData | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        max_norm: float | None = None,
        metrics: str | Metric | Sequence[str | Metric] | None = None,
        target_error: float | None = None,
        stop_when_all_correct: bool = False,
        min_gradient_norm: float | None = None,
        early_stopping: bool = False,
        patience: int = 10,
        monitor: str | None = None,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
        time_limit: float | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        report_every: int | None = None,
        warn_convergence: bool = True,
    ) -> History:
        """Train in place by backpropagation; returns the run's :class:`History`.

        The arguments are :func:`deltarule.training.fit`'s, whose docstring describes each:
        ``epochs`` (the most passes over the data), ``batch_size`` (1 online, None full
        batch), ``optimizer`` and ``learning_rate``, ``validation_split`` or
        ``validation_data``, ``metrics``, the stopping rules (``target_error``,
        ``early_stopping``, ...) and ``callbacks``. Keras's ``x=`` is taken as ``X``; a
        keyword fit does not take is a :class:`~deltarule.exceptions.KeywordError` saying
        what to pass instead.
        """
        options = dict(locals())  # (every argument, passed on as it is)
        del options["self"], options["X"], options["y"]
        from .training import fit

        return fit(self, X, y, **options)

    if not TYPE_CHECKING:  # (hidden from type checkers: a misspelt attribute stays an error)

        def __getattr__(self, name: str) -> Any:
            # (only for names not found: Keras's model methods get a pointer)
            attribute = getattr(type(self), name, None)
            if isinstance(attribute, property) and attribute.fget is not None:
                return attribute.fget(self)  # (its own AttributeError, naming what is missing)
            advice = _KERAS_METHODS.get(name)
            if advice is not None:
                whose = (
                    "a scikit-learn estimator's" if name == "predict_proba" else "a Keras model's"
                )
                raise KerasAttributeError(f"Network has no {name}() ({whose}); {advice}")
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def stop_training(self) -> bool:
        """Always False: a network has no stop flag (Keras's ``model.stop_training``); a
        callback stops training by returning True or a reason from ``on_epoch_end``.
        Setting it True raises :class:`~deltarule.exceptions.KerasAttributeError`."""
        return False

    @stop_training.setter
    def stop_training(self, value: Any) -> None:
        if value:
            raise KerasAttributeError(
                "network.stop_training = True is Keras's way to stop training; deltarule's "
                "training loop never reads it. In a callback, return True or a reason (a "
                "string) from on_epoch_end(record, state) instead."
            )

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
        """Build a network (zero weights) from :meth:`config` output.

        Raises
        ------
        InputError
            If ``config`` is not a mapping with :meth:`config`'s keys (``dropout`` may be
            left out), or its ``activations`` is not a list of names.
        """
        _check_config(config)
        acts = list(_listed(config["activations"]))
        return cls(
            config["layer_sizes"],
            activation=acts[:-1] if len(acts) > 1 else "identity",
            output_activation=acts[-1],
            loss=config["loss"],
            use_bias=_listed(config["use_bias"]),  # (the constructor checks the values)
            dropout=_listed(config.get("dropout", [])) or 0.0,
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

    def summary(self) -> SummaryText:
        """Return a Keras-like table of layers, shapes and parameter counts.

        A :class:`SummaryText`: a ``str`` that shows as the table in a notebook cell.
        """
        lines = [f"{'layer':<8}{'shape':<14}{'activation':<14}{'params':>8}"]
        for i, layer in enumerate(self.layers, start=1):
            n = layer.n_inputs * layer.n_outputs + (layer.n_outputs if layer.use_bias else 0)
            shape = f"{layer.n_inputs} -> {layer.n_outputs}"
            lines.append(f"{'dense' + str(i):<8}{shape:<14}{layer.activation.name:<14}{n:>8}")
        frozen = int((~self.trainable).sum())
        lines.append(f"total parameters: {self.n_parameters} ({frozen} frozen), dtype {self.dtype}")
        lines.append(f"loss: {self.loss.label}")
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        # In the constructor's own keywords, so that the repr can be pasted back as code.
        hidden = [layer.activation.name for layer in self.layers[:-1]]
        spelt = hidden[0] if len(set(hidden)) == 1 else hidden
        activation = f"activation={spelt!r}, " if hidden else ""
        return (
            f"Network({self.layer_sizes}, {activation}"
            f"output_activation={self.layers[-1].activation.name!r}, loss={self.loss.name!r}, "
            f"dtype={self.dtype.name!r})"
        )


_CONFIG_KEYS = ("layer_sizes", "activations", "use_bias", "loss", "dtype")


def _check_config(config: Any) -> None:
    """An InputError unless ``config`` has :meth:`Network.config`'s keys and list of names."""
    expected = (
        f"expected a mapping as Network.config() returns, with the keys "
        f"{', '.join(_CONFIG_KEYS)} (and optionally dropout). Pass net.config() of a network, "
        "or build one with Network(layer_sizes, activation=..., loss=...)."
    )
    if not isinstance(config, Mapping):
        raise InputError(
            f"Network.from_config received {type(config).__name__} {config!r:.60}; {expected}"
        )
    missing = [key for key in _CONFIG_KEYS if key not in config]
    if missing:
        raise InputError(
            f"Network.from_config received a config without {', '.join(map(repr, missing))} "
            f"(it has {', '.join(map(repr, config)) or 'no keys'}); {expected}"
        )
    acts = _listed(config["activations"])
    if isinstance(acts, str) or not isinstance(acts, Sequence) or not acts:
        raise InputError(
            f"Network.from_config: config['activations'] must be a non-empty list of "
            f"activation names, one per layer (the output layer's last); received "
            f"{type(acts).__name__} {acts!r:.60}. E.g. ['tanh', 'identity'] for layer_sizes "
            "[n_inputs, n_hidden, n_outputs]."
        )


def _listed(value: Any) -> Any:
    """``value`` as a list if it is a sequence (not a string) or a 1-D array, else as it
    is (a config's lists may come as NumPy arrays)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value


def _keras_options(batch_size: Any, verbose: Any) -> None:
    """Check Keras's ``batch_size`` and ``verbose`` of predict and evaluate, which change
    nothing (the rows are computed in chunks, nothing is printed) but must make sense."""
    if batch_size is not None:
        from ._validation import check_int

        check_int(batch_size, "batch_size")
    if isinstance(verbose, str) and verbose == "auto":
        return
    if isinstance(verbose, str) or verbose not in (0, 1, 2):
        raise InputError(
            f"verbose must be 0, 1, 2 or 'auto' (Keras's; predict and evaluate print "
            f"nothing whatever it says); received {verbose!r:.60}."
        )


_SAVE = (
    "save with deltarule.io.save_model(net, 'model.safetensors') and load with "
    "deltarule.io.load_model(path).network (one safetensors file: weights and architecture)."
)
_KERAS_METHODS = {  # Keras's Model methods -> what to do in deltarule
    "compile": (
        "nothing needs compiling: pass the loss to Network(..., loss=...) and the optimizer, "
        "learning_rate and metrics to net.fit(...)."
    ),
    "save": _SAVE,
    "save_weights": _SAVE,
    "load_weights": (
        "load a saved model with deltarule.io.load_model(path).network, or copy tensors in "
        "with net.set_parameters({'W1': ..., 'b1': ...})."
    ),
    "get_weights": (
        "net.get_parameters() returns a copy of each tensor by name (W1, b1, ...; a weight "
        "matrix is (outputs, inputs), Keras's kernel transposed); net.weights and net.biases "
        "are the live per-layer views, net.parameters the flat vector."
    ),
    "set_weights": (
        "net.set_parameters({'W1': ..., 'b1': ...}) copies tensors in by name (a weight "
        "matrix is (outputs, inputs), Keras's kernel transposed), or assign "
        "net.weights[i] = W, net.biases[i] = b."
    ),
    "predict_classes": (
        "take net.predict(X).argmax(axis=1) for softmax outputs, or "
        "(net.predict(X) > 0.5).astype(int) for one sigmoid output."
    ),
    "predict_on_batch": "net.predict(X) predicts any number of rows.",
    "train_on_batch": (
        "make a trainer once, trainer = deltarule.Trainer(net, 'adam', learning_rate, "
        "batch_size=None), then trainer.partial_fit(X, y) makes one step on each batch, the "
        "optimizer's state (Adam's moments) carried from batch to batch (net.fit(...) on each "
        "batch would start that state afresh every call)."
    ),
    "predict_proba": (
        "net.predict(X) returns the output layer's values: the class probabilities of a "
        "softmax (or a sigmoid's, one column) output."
    ),
    "test_on_batch": "net.evaluate(X, y) scores any number of rows.",
    "count_params": "net.n_parameters is the number of parameters.",
    "to_json": "net.config() returns the architecture as JSON-able data (Network.from_config).",
    "get_config": "net.config() returns the architecture as JSON-able data (Network.from_config).",
}

# The names of fit's annotations, for typing.get_type_hints (runtime type checkers, config
# tools): imported last, as those modules import this one.
from .callbacks import Callback  # noqa: E402
from .history import History  # noqa: E402
from .optimizers import Optimizer  # noqa: E402
from .schedules import Schedule  # noqa: E402
from .solvers import FullBatchSolver  # noqa: E402
