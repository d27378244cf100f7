r"""Recording the real computation: an observer on the network's own forward/backward code.

:class:`Recorder` implements :class:`deltarule.network.Observer`; passed to
:meth:`Network.loss_and_gradient <deltarule.network.Network.loss_and_gradient>`
it copies every value the network computes. :func:`trace` runs that one real
pass, applies one gradient-descent update :math:`\theta \leftarrow \theta -
\eta\,\partial E/\partial\theta` to the trainable entries, optionally goes on
training, and returns the :class:`~deltarule.explain.events.Trace`. Nothing
here re-implements backpropagation: the numbers are the network's.

Examples
--------
>>> from deltarule.textbook import tutorial_network, tutorial_weights
>>> net, X, y = tutorial_network()
>>> t = trace(net, X, y, learning_rate=0.5)
>>> round(t.loss.total, 9), round(tutorial_weights(t.updated)["w5"], 8)
(0.298371109, 0.35891648)
"""

from __future__ import annotations

import numpy as np

from .._typing import Array, ArrayLike
from .._validation import check_int, check_positive
from ..exceptions import InputError
from ..layers import Dense, DenseCache
from ..losses import is_builtin
from ..network import Network
from .events import LayerBackward, LayerForward, LossRecord, Trace

__all__ = ["Recorder", "trace", "SEPARABLE_LOSSES"]

MAX_STEPS = 1_000_000
"""The most updates a walk runs (``steps``): a minute or so of one-at-a-time updates."""
SEPARABLE_LOSSES = frozenset({"half_squared_error"})
"""Losses that are a plain sum over outputs, so each output's share :math:`E_{o_k}` exists."""


class Recorder:
    """An :class:`~deltarule.network.Observer` that keeps copies of everything it is shown.

    Parameters
    ----------
    network : Network
        The network being observed (for its loss object and activations).
    params : ndarray of shape (n_parameters,), optional
        The parameters the pass runs with (the network's own buffer by default).
    """

    def __init__(self, network: Network, params: Array | None = None) -> None:
        """Start with nothing recorded."""
        self.network = network
        self.params = network.parameters if params is None else params
        self.forward: list[LayerForward] = []
        self.backward: dict[int, LayerBackward] = {}
        self.loss: LossRecord | None = None

    def on_forward(self, index: int, layer: Dense, cache: DenseCache) -> None:
        """Copy one layer's inputs, weights, net input and output."""
        weight = self.network.layout.view(self.params, f"W{index + 1}").copy()
        bias = (
            self.network.layout.view(self.params, f"b{index + 1}").copy()
            if layer.use_bias
            else None
        )
        derivative = None
        if layer.activation.derivative is not None:
            derivative = np.array(layer.activation.derivative(cache.net, cache.activated))
        self.forward.append(
            LayerForward(
                index,
                layer.activation.name,
                cache.inputs.copy(),
                weight,
                bias,
                cache.net.copy(),
                cache.out.copy(),
                derivative,
            )
        )

    def on_loss(self, value: float, output: Array, target: Array, delta: Array) -> None:
        """Copy the error, the output error signal and :math:`\\partial E/\\partial out`."""
        loss = self.network.loss
        per_output = None
        if loss.name in SEPARABLE_LOSSES and is_builtin(loss):  # (not a user's under its name)
            # Each column on its own is that output's term E_ok of the sum.
            per_output = np.array(
                [loss(output[:, [k]], target[:, [k]]) for k in range(output.shape[1])]
            )
        self.loss = LossRecord(
            loss.name,
            float(value),
            output.copy(),
            target.copy(),
            np.array(loss.output_gradient(output, target)),
            delta.copy(),
            per_output,
        )

    def on_backward(
        self, index: int, layer: Dense, delta: Array, grad_weight: Array, grad_bias: Array | None
    ) -> None:
        """Copy one layer's error signal and gradients."""
        self.backward[index] = LayerBackward(
            index, delta.copy(), grad_weight.copy(), None if grad_bias is None else grad_bias.copy()
        )


def _curve_points(steps: int, n_points: int) -> set[int]:
    """Update counts at which to record the error: 0, then log-spaced up to ``steps``."""
    points = np.unique(np.round(np.geomspace(1, steps, num=max(n_points - 1, 1))).astype(int))
    return {0, *(int(p) for p in points), steps}


def _train_on(
    network: Network,
    X: Array,
    y: Array,
    params: Array,
    learning_rate: float,
    steps: int,
    n_points: int,
) -> tuple[list[tuple[int, float]], float]:
    """Run ``steps`` updates from ``params`` (in place); return the curve and the final error."""
    keep = _curve_points(steps, n_points)
    grad = network.layout.allocate(network.dtype)
    mask = network.trainable
    curve = []
    for step in range(steps):
        error, _ = network.loss_and_gradient(X, y, params=params, out=grad)
        if step in keep:
            curve.append((step, float(error)))
        params[mask] -= learning_rate * grad[mask]
    final = float(network.evaluate_params(params, X, y))
    curve.append((steps, final))
    return curve, final


def trace(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    learning_rate: float = 0.5,
    *,
    steps: int = 0,
    n_points: int = 20,
    title: str = "a network",
    note: str = "",
) -> Trace:
    r"""Record one real forward/backward pass and the gradient-descent update it implies.

    The network itself is not changed: the pass runs on a copy of its parameters. It is
    the inference pass, with dropout off (the trace keeps the rates, and the renderers
    say so), as are the further ``steps``.

    Parameters
    ----------
    network : Network
    X : array-like of shape (n_samples, n_inputs)
    y : array-like of shape (n_samples, n_outputs)
    learning_rate : float, default 0.5
        :math:`\eta` of the update :math:`w^+ = w - \eta\,\partial E/\partial w`.
    steps : int, default 0
        Total number of plain gradient-descent updates to run from the start
        (the first one is the update shown); 0 records just the one pass.
    n_points : int, default 20
        About how many (log-spaced) points of the error curve to keep.
    title, note : str
        Carried into the trace for the renderers.

    Returns
    -------
    Trace
    """
    learning_rate = check_positive(learning_rate, "learning_rate")
    steps = check_int(steps, "steps", minimum=0)
    if steps > MAX_STEPS:
        raise InputError(
            f"steps must be at most {MAX_STEPS:,} (the walk's updates run one at a time, "
            f"some 17,000 a second); received {steps:,}. For a long run, train the network "
            "(fit, or deltarule train) and explain a step of the result."
        )
    X, y, _ = network.validate(X, y)
    params = network.parameters.copy()
    recorder = Recorder(network, params)
    _, gradient = network.loss_and_gradient(X, y, params=params, observer=recorder)
    updated = params.copy()
    updated[network.trainable] -= learning_rate * gradient[network.trainable]
    curve: list[tuple[int, float]] = []
    final = None
    if steps:
        curve, final = _train_on(network, X, y, params.copy(), learning_rate, steps, n_points)
    if recorder.loss is None:  # pragma: no cover - the network always reports its loss
        raise RuntimeError("the network's backward pass did not report its loss to the observer")
    return Trace(
        layer_sizes=tuple(network.layer_sizes),
        forward=tuple(recorder.forward),
        loss=recorder.loss,
        backward=tuple(recorder.backward[i] for i in sorted(recorder.backward)),
        learning_rate=learning_rate,
        layout=network.layout,
        parameters=params,
        gradient=gradient.copy(),
        updated=updated,
        trainable=network.trainable.copy(),
        curve=tuple(curve),
        final_error=final,
        steps=steps,
        title=title,
        note=note,
        dropout=tuple(float(layer.dropout) for layer in network.layers),
    )
